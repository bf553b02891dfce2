"""One error format for the whole API: {"detail": "...", "errors": {"field": ["message"]}}.

`exception_handler` is DRF's EXCEPTION_HANDLER (settings); the `INVALID`, `FORBIDDEN` and `NOT_FOUND`
fragments document those answers in the OpenAPI schema (`responses={200: ..., **INVALID, **NOT_FOUND}`)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API."""

    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.JSONField(), required=False)


INVALID = {400: OpenApiResponse(ErrorSerializer, description="Invalid input; `errors` names the fields.")}
FORBIDDEN = {403: OpenApiResponse(ErrorSerializer, description="Your role may not do this.")}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such object among those you may see.")}


def exception_handler(exc, context):
    # Django refuses a body over its upload limits (SuspiciousOperation) when DRF first reads it: a 413 or 400
    # that says why, instead of the bare 400 of Django's handler.
    if isinstance(exc, RequestDataTooBig):
        detail = _("The request body is too large (at most %(max)s bytes).") % {
            "max": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        }
        return Response({"detail": detail}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return Response({"detail": _("The request has too many fields or files.")}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": _("Invalid input."), "errors": errors}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": response.data["detail"], **{k: v for k, v in response.data.items() if k != "detail"}}
    return response


def conflict_response(detail: str, **extra) -> Response:
    return Response({"detail": detail, **extra}, status=status.HTTP_409_CONFLICT)
