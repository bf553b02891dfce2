"""The API's OpenAPI schema class (DRF's DEFAULT_SCHEMA_CLASS): drf-spectacular's, publishing what the API
really returns for optional text.

A ModelSerializer's read-only fields lose `allow_blank` (DRF drops it: it only matters for input), so
drf-spectacular published a blank-allowed choice, e-mail or URL field of the model (`blank=True`: ownership,
email, website...) as an enum or a format that the "" the API returns for an empty value does not satisfy,
and clients validating answers against the schema refused them. For such fields the schema now allows ""
the way it does for inputs (a BlankEnum choice, or an empty string beside the format)."""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from rest_framework import serializers


def _model_field_may_be_blank(field) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return False
    try:
        return bool(model._meta.get_field(field.source).blank)
    except FieldDoesNotExist:
        return False


class AutoSchema(openapi.AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if (
            field.read_only
            and isinstance(field, (serializers.CharField, serializers.ChoiceField))
            and not field.allow_blank
            and _model_field_may_be_blank(field)
        ):
            field.allow_blank = True  # spectacular maps its own serializer instances: no answer changes
        return super()._map_serializer_field(field, direction, bypass_extensions)


class FilteredDownloadSchema(AutoSchema):
    """A download of a filtered list (an export): it takes the list's filter parameters, though it answers a file
    rather than a list (drf-spectacular documents filters on lists only)."""

    def get_filter_backends(self):
        return getattr(self.view, "filter_backends", [])
