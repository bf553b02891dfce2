"""Strict serializer fields for every app's input serializers: a JSON value of the wrong type is refused
with a field message, never coerced; text with control characters is refused (kam.validators); integers stay
within what the database stores (`id_field`, `count_field`)."""

import datetime

from django.utils import timezone
from rest_framework import serializers

from kam.db import LONG_TEXT
from kam.validators import ID_MAX, INT_MAX, refuse_control_characters


class RefusesControlCharacters:
    """For DRF string fields: text with control characters (ESC, BEL...) is a field error."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(refuse_control_characters)


class StrictCharField(RefusesControlCharacters, serializers.CharField):
    """A JSON string only: DRF's CharField would quietly turn 13800001234 into "13800001234"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class EmailField(RefusesControlCharacters, serializers.EmailField):
    """An e-mail address (Django's validator lets control characters through in a quoted local part)."""


class URLField(RefusesControlCharacters, serializers.URLField):
    """A web address (Django's validator lets control characters through in the path)."""


class DateTimeField(serializers.DateTimeField):
    """DRF's, but a time with no UTC equivalent (0001-01-01 00:00 in Shanghai is in year 0 in UTC) is refused
    as out of range: DRF's own check of a local time converts it to UTC unguarded (OverflowError, a 500)."""

    def enforce_timezone(self, value):
        try:
            value = super().enforce_timezone(value)
            if timezone.is_aware(value):
                value.astimezone(datetime.UTC)
        except OverflowError:
            self.fail("overflow")
        return value


class StrictBooleanField(serializers.BooleanField):
    """true or false only: DRF's BooleanField also takes "yes", "0", 1 and friends."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def optional_text(**kwargs) -> StrictCharField:
    """An optional string field that may be blank, bounded by the caller's max_length (a free-text field's
    kam.db.LONG_TEXT when none is given)."""
    kwargs.setdefault("max_length", LONG_TEXT)
    return StrictCharField(required=False, allow_blank=True, **kwargs)


def id_field(**kwargs) -> serializers.IntegerField:
    """An object id given as a number: 1..ID_MAX (a bigint primary key)."""
    return serializers.IntegerField(min_value=1, max_value=ID_MAX, **kwargs)


def count_field(**kwargs) -> serializers.IntegerField:
    """A count stored in a PositiveIntegerField: 0..INT_MAX unless the caller bounds it tighter."""
    kwargs.setdefault("min_value", 0)
    kwargs.setdefault("max_value", INT_MAX)
    return serializers.IntegerField(**kwargs)
