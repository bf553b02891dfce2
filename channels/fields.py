"""What other apps' APIs use from channels: an export job's serializer, as answered with 202 when a large export
starts (customers' exports) and by /api/v1/exports/ (channels.api), and the one way an API answers an export."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.response import Response

from channels.exports import ExportSource, kind_label, responses
from channels.exports.services import export_start, fits_in_request, is_expired
from channels.models import ExportJob


class ExportJobSerializer(serializers.ModelSerializer):
    kind_label = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField(help_text=_("queued, running, done, failed or expired."))
    url = serializers.SerializerMethodField(help_text=_("This job's status."))
    download_url = serializers.SerializerMethodField(help_text=_("The file, once the job is done (until it expires)."))

    class Meta:
        model = ExportJob
        fields = ["id", "kind", "kind_label", "title", "format", "status", "row_count", "file_name", "error",
                  "created_at", "finished_at", "expires_at", "url", "download_url"]  # fmt: skip
        read_only_fields = fields

    def get_kind_label(self, job) -> str:
        return kind_label(job.kind)

    def get_status(self, job) -> str:
        return ExportJob.Status.EXPIRED.value if is_expired(job) else job.status

    def get_url(self, job) -> str:
        return reverse("api-export-detail", args=[job.pk])

    def get_download_url(self, job) -> str | None:
        if job.status != ExportJob.Status.DONE or is_expired(job):
            return None
        return reverse("api-export-download", args=[job.pk])


ACCEPTED = {
    202: OpenApiResponse(
        ExportJobSerializer,
        description="More rows than are answered at once: the export is prepared in the background. Follow `url` "
        "for its status; you are also notified when the file is ready.",
    )
}


def job_accepted_response(job: ExportJob) -> Response:
    """202 with the job, and its status URL in Location."""
    data = ExportJobSerializer(job).data
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


def api_export_response(*, user, kind: str, parameters: dict, fmt: str, source: ExportSource):
    """An export answered by the API: the file at once when it is small, else 202 with the job started (or the
    same export already on its way)."""
    if fits_in_request(source):
        return responses.immediate_response(source, fmt=fmt)
    job = export_start(user=user, kind=kind, parameters=parameters, fmt=fmt, source=source)
    return job_accepted_response(job)
