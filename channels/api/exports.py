"""Exports API: the caller's own export jobs (newest first), one job's status, and its file. Nobody reads anyone
else's: the queryset is the caller's jobs, so another person's job is a 404. Large exports are started by the
APIs of the data they export (e.g. GET /api/v1/customers/export/), which answer 202 with the job."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated

from channels.exports import ExportRefused, responses
from channels.exports import services as exports
from channels.fields import ExportJobSerializer
from channels.models import ExportJob
from kam.api.errors import ErrorSerializer
from kam.api.viewsets import ScopedViewSet


class Gone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = _("This export has expired and its file was deleted; export the list again.")
    default_code = "gone"


class NotReady(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This export is not ready: see its status.")
    default_code = "not_ready"


@extend_schema_view(
    list=extend_schema(summary="My exports", description="Your export jobs, newest first."),
    retrieve=extend_schema(summary="Status of one of my exports"),
)
class ExportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = ExportJob.objects.none()  # types the schema; get_queryset is the caller's jobs
    serializer_class = ExportJobSerializer
    permission_classes = [IsAuthenticated]  # analysts export too
    filter_backends = []

    def get_queryset(self):
        return ExportJob.objects.visible_to(self.request.user)

    @extend_schema(
        summary="Download the file of one of my exports",
        description="Only while you may still export what it holds (404 otherwise) and until it expires (410).",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: OpenApiResponse(ErrorSerializer, description="No such export among yours."),
            409: OpenApiResponse(ErrorSerializer, description="Still being prepared, or failed."),
            410: OpenApiResponse(ErrorSerializer, description="Expired: the file was deleted."),
        },
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def download(self, request, pk=None):
        job = self.get_object()
        try:
            path = exports.export_file(job, user=request.user)
        except ExportRefused:
            raise exceptions.NotFound from None
        except exports.ExportExpired:
            raise Gone from None
        except exports.ExportNotReady:
            raise NotReady from None
        return responses.file_response(job, path)
