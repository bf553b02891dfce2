"""CSV (UTF-8 with a byte-order mark, so Excel zh-CN reads the Chinese right) and XLSX, written one row at a time:
rows come from a server-side cursor in chunks, CSV lines go straight to the stream, and openpyxl's write-only mode
streams XLSX rows into the zip instead of holding cell objects. Memory stays flat whatever the number of rows.

Every cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection), and XLSX text
cells are typed as text; control characters are dropped (openpyxl refuses them, and rows saved before input
refused them must still export)."""

import csv
from collections.abc import Iterator
from typing import BinaryIO

from django.utils.translation import gettext

from channels.exports import ExportSource
from kam.validators import strip_control_characters

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
CONTENT_TYPES = {"xlsx": XLSX_TYPE, "csv": CSV_TYPE}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000  # rows per fetch from the cursor


def safe(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe; control characters are dropped."""
    value = strip_control_characters(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def rows(source: ExportSource) -> Iterator[list]:
    """The header, then each row's escaped cells, read in chunks (select_related joins: no per-row queries)."""
    yield [str(label) for label in source.header]
    for obj in source.rows.iterator(chunk_size=CHUNK_SIZE):
        yield [safe(value) for value in source.cells(obj)]


class _Echo:
    def write(self, value):
        return value


def csv_chunks(source: ExportSource) -> Iterator[str]:
    """CSV text line by line, after the byte-order mark (a streamed response)."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows(source):
        yield writer.writerow(["" if v is None else v for v in row])


def write_csv(source: ExportSource, stream: BinaryIO) -> int:
    """Write the CSV file to a binary stream; the number of data rows."""
    lines = 0
    buffered = _TextOut(stream)
    for line in csv_chunks(source):
        buffered.write(line)
        lines += 1
    buffered.flush()
    return lines - 2  # the byte-order mark and the header are not rows


class _TextOut:
    """UTF-8 text into a binary stream, a few hundred kilobytes at a time."""

    def __init__(self, stream: BinaryIO, limit: int = 256 * 1024):
        self.stream, self.limit, self.parts, self.size = stream, limit, [], 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= self.limit:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.stream.write("".join(self.parts).encode("utf-8"))
            self.parts, self.size = [], 0


def write_xlsx(source: ExportSource, stream: BinaryIO) -> int:
    """Write the XLSX workbook (write-only mode) to a binary stream; the number of data rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(source.sheet_title or gettext("Export"))[:31])
    count = -1
    for row in rows(source):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text
            cells.append(cell)
        sheet.append(cells)
        count += 1
    workbook.save(stream)
    return count


def write(source: ExportSource, stream: BinaryIO, *, fmt: str) -> int:
    if fmt == "csv":
        return write_csv(source, stream)
    return write_xlsx(source, stream)
