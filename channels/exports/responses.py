"""Downloads: a small export answered in the request (CSV streamed line by line, XLSX written to a temporary file
and streamed from it), and a prepared job's file. Pages and API alike."""

import tempfile
from pathlib import Path

from django.http import FileResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from channels.exports import ExportSource, writers
from channels.models import ExportJob


def immediate_response(source: ExportSource, *, fmt: str):
    """The export as a download, built while it is sent. The source's queryset is already built, so a
    definition that no longer applies has raised before the response starts."""
    filename = f"{source.file_stem}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(writers.csv_chunks(source), content_type=writers.CSV_TYPE)
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
        return response
    stream = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it when the response is sent
    writers.write_xlsx(source, stream)
    stream.seek(0)
    return FileResponse(stream, as_attachment=True, filename=filename, content_type=writers.XLSX_TYPE)


def file_response(job: ExportJob, path: Path) -> FileResponse:
    """A prepared job's file, under the name it was asked for."""
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=job.file_name, content_type=writers.CONTENT_TYPES[job.format]
    )
