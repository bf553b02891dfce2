"""Filters shared by the apps' FilterSets (pages and API). Ids are plain numbers, not choices among all rows:
a choice field would answer 400 for ids that do not exist and 200 for other people's, and so tell which exist."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from kam.validators import ID_MAX, parse_id


class IdField(forms.Field):
    """An object id: ASCII digits, 1..ID_MAX; anything else ("1e20", "¹", 25 digits, -1) is a field error."""

    default_error_messages = {"invalid": _("Give an id: a whole number from 1 to %(max)s.")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_id(value)
        if number is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid", params={"max": ID_MAX})
        return number


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": ID_MAX})
class IdFilter(django_filters.Filter):
    """`?customer=42`: rows whose `field_name` (a foreign key or primary key) is that id."""

    field_class = IdField
