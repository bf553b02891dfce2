"""Strict serializer fields for every app's input serializers: a JSON value of the wrong type is refused
with a field message, never coerced."""

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF's CharField would quietly turn 13800001234 into "13800001234"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false only: DRF's BooleanField also takes "yes", "0", 1 and friends."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def optional_text(**kwargs) -> StrictCharField:
    """An optional string field that may be blank (bounded by the caller's max_length)."""
    return StrictCharField(required=False, allow_blank=True, **kwargs)
