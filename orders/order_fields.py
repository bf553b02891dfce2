"""A product's order template at work: checks an order line's `values` against the product's OrderField rows and
builds the wizard's form fields from the same rows, so the page, the API and the services check one rule.

Every error is found in one pass and returned at once, keyed "values.<key>" and naming the field's label
(seed 003: required-field and accuracy checks before the order leaves the account manager)."""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from customers.identifiers import validate_phone
from kam.validators import refuse_control_characters
from orders.models import OrderField

Kind = OrderField.Kind
# An APN network identifier (3GPP TS 23.003 §9.1): dot-separated labels of letters, digits and hyphens, at most
# 63 characters, not ending in ".gprs" (the operator part is added by the network).
APN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
APN_PATTERN = re.compile(rf"^{APN_LABEL}(?:\.{APN_LABEL})*$")
APN_MAX = 62
IP_PREFIX_BOUNDS = (8, 32)
# Beyond any template bound, and what a number in a JSON document may safely hold: a field an admin leaves
# unbounded still refuses 1e999999.
NUMBER_LIMIT = Decimal("1e12")
ADDRESS_MIN = 5


def _number(value, *, whole: bool) -> Decimal | None:
    """A JSON number or its text (as a form posts it); None when it is not one. Booleans are not numbers."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) >= NUMBER_LIMIT or (whole and number != number.to_integral_value()):
        return None
    return number


def _bounds(spec: OrderField, number: Decimal, label: str) -> str | None:
    if spec.min_value is not None and number < spec.min_value:
        return _("%(field)s must be at least %(min)s.") % {"field": label, "min": _plain(spec.min_value)}
    if spec.max_value is not None and number > spec.max_value:
        return _("%(field)s must be at most %(max)s.") % {"field": label, "max": _plain(spec.max_value)}
    return None


def _plain(number: Decimal) -> str:
    """2.00 → "2", 0.10 → "0.1": bounds as a person writes them."""
    text = format(number.normalize(), "f")
    return text


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_value(spec: OrderField, value):
    """(cleaned value, error message or None) for one present, non-blank value."""
    label = spec.label
    kind = spec.kind
    if kind in (Kind.INTEGER, Kind.IP_BLOCK, Kind.DECIMAL, Kind.BANDWIDTH):
        whole = kind in (Kind.INTEGER, Kind.IP_BLOCK)
        number = _number(value, whole=whole)
        if number is None:
            message = _("%(field)s must be a whole number.") if whole else _("%(field)s must be a number.")
            return None, message % {"field": label}
        if kind == Kind.IP_BLOCK and spec.min_value is None and spec.max_value is None:
            low, high = IP_PREFIX_BOUNDS
            if not low <= number <= high:
                return None, _("%(field)s must be a prefix length from %(min)s to %(max)s.") % {
                    "field": label, "min": low, "max": high,
                }  # fmt: skip
        if kind == Kind.BANDWIDTH and number <= 0:
            return None, _("%(field)s must be more than 0 Mbit/s.") % {"field": label}
        error = _bounds(spec, number, label)
        if error:
            return None, error
        if spec.choices and _plain(number) not in [str(c) for c in spec.choices]:
            return None, _("%(field)s must be one of: %(choices)s.") % {
                "field": label, "choices": ", ".join(str(c) for c in spec.choices),
            }  # fmt: skip
        return (int(number) if whole or number == number.to_integral_value() else str(number.normalize())), None
    if kind == Kind.DATE:
        if isinstance(value, datetime.date):
            return value.isoformat(), None
        try:
            return datetime.date.fromisoformat(str(value).strip()).isoformat(), None
        except ValueError:
            return None, _("%(field)s must be a date (YYYY-MM-DD).") % {"field": label}
    if not isinstance(value, str):
        return None, _("%(field)s must be text.") % {"field": label}
    text = value.strip()
    try:
        refuse_control_characters(text)
    except ValidationError:
        return None, _("%(field)s contains control characters.") % {"field": label}
    limit = min(spec.max_length, APN_MAX) if kind == Kind.APN else spec.max_length
    if len(text) > limit:
        return None, _("%(field)s must be at most %(max)s characters.") % {"field": label, "max": limit}
    if kind == Kind.CHOICE:
        if text not in [str(c) for c in spec.choices]:
            return None, _("%(field)s must be one of: %(choices)s.") % {
                "field": label, "choices": ", ".join(str(c) for c in spec.choices),
            }  # fmt: skip
    elif kind == Kind.PHONE:
        try:
            validate_phone(text)
        except ValidationError as exc:
            return None, f"{label}: {exc.messages[0]}"
    elif kind == Kind.APN:
        if not APN_PATTERN.match(text) or text.lower().endswith(".gprs"):
            return None, _(
                "%(field)s: letters, digits and hyphens in dot-separated parts (e.g. hzbank.zj), not ending in .gprs."
            ) % {"field": label}
        text = text.lower()
    elif kind == Kind.ADDRESS and len(text) < ADDRESS_MIN:
        return None, _("%(field)s is too short to find the site: give the full address.") % {"field": label}
    return text, None


def validate_values(specs, values, *, partial: bool = False, prefix: str = "values.") -> tuple[dict, dict]:
    """(cleaned values, errors) of a line's `values` against its product's template fields `specs`.

    `partial` (a draft): missing required fields are allowed; what is given must be right. Unknown keys are
    always refused: a value nobody reads would be a silent loss of what the customer asked for."""
    errors: dict[str, list[str]] = {}
    if values is None:
        values = {}
    if not isinstance(values, dict):
        return {}, {prefix.rstrip("."): [_("The template values must be an object of field: value.")]}
    by_key = {spec.key: spec for spec in specs}
    for key in values:
        if key not in by_key:
            errors[f"{prefix}{key}"] = [_("Unknown field “%(key)s” for this product.") % {"key": str(key)[:40]}]
    cleaned = {}
    for spec in specs:
        value = values.get(spec.key)
        if _is_blank(value):
            if spec.required and not partial:
                errors[f"{prefix}{spec.key}"] = [_("%(field)s is required.") % {"field": spec.label}]
            continue
        result, error = clean_value(spec, value)
        if error:
            errors[f"{prefix}{spec.key}"] = [error]
        else:
            cleaned[spec.key] = result
    return cleaned, errors


# --- the wizard's form fields ----------------------------------------------------------------------------


def form_field(spec: OrderField) -> forms.Field:
    """A text-like form field per template field: the page posts text and `validate_values` decides, so the
    page and the API give the same messages. Inputs get the browser hints (type, bounds, choices)."""
    attrs: dict = {}
    label = f"{spec.label} *" if spec.required else spec.label
    common = {"label": label, "required": False, "help_text": spec.help_text}
    if spec.kind == Kind.CHOICE or (spec.kind == Kind.BANDWIDTH and spec.choices):
        choices = [("", "—")] + [(str(c), str(c)) for c in spec.choices]
        return forms.ChoiceField(choices=choices, **common)
    if spec.kind in (Kind.INTEGER, Kind.IP_BLOCK, Kind.DECIMAL, Kind.BANDWIDTH):
        attrs.update(inputmode="decimal" if spec.kind in (Kind.DECIMAL, Kind.BANDWIDTH) else "numeric")
        if spec.min_value is not None:
            attrs["data-min"] = _plain(spec.min_value)
        if spec.max_value is not None:
            attrs["data-max"] = _plain(spec.max_value)
        return forms.CharField(max_length=40, widget=forms.TextInput(attrs=attrs), **common)
    if spec.kind == Kind.DATE:
        return forms.CharField(max_length=10, widget=forms.DateInput(attrs={"type": "date"}), **common)
    if spec.kind == Kind.PHONE:
        attrs["inputmode"] = "tel"
    return forms.CharField(max_length=spec.max_length, widget=forms.TextInput(attrs=attrs), **common)


def template_fields(product) -> list[OrderField]:
    return list(OrderField.objects.filter(product=product).order_by("sort_order", "key"))
