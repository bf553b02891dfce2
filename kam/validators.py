"""Input bounds shared by the API's fields and filters, the page forms and views, and the exports.

Text: control characters (C0 except tab, line feed and carriage return, and DEL) have no place in a name, an
address or a note. They come from pasted terminal output or hostile input, show as nothing or garble a page, and
openpyxl refuses them in a cell (IllegalCharacterError), so one such row would break every XLSX export holding
it. Input refuses them with a field message (`refuse_control_characters`); exports strip them
(`strip_control_characters`) so rows written before the check never break a file.

Numbers: ids are bigint primary keys (1..ID_MAX) and counts are PositiveIntegerField (0..INT_MAX, PostgreSQL's
integer). A larger number in a filter or a body is refused as invalid input: SQLite cannot even bind it
(OverflowError) and PostgreSQL refuses to store it. `parse_id` reads an id from a query string or form value:
ASCII digits only (`str.isdigit()` also says yes to "¹", which `int()` refuses) and within the bounds.

Dates: a date filter turns a day into the instant it starts in the current time zone (`day_start`); at the ends
of the calendar there is none that the database can store (midnight of 0001-01-01 in Shanghai is in year 0 in
UTC, the day after 9999-12-31 does not exist), and the filter then has no bound on that side."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ID_MAX = 2**63 - 1  # BigAutoField
INT_MAX = 2**31 - 1  # PositiveIntegerField and IntegerField on PostgreSQL
_ID = re.compile(r"[0-9]{1,19}")


@deconstructible
class ControlCharacterValidator:
    message = _("Remove the control characters (such as ESC or BEL) from this text.")
    code = "control_characters"

    def __call__(self, value):
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other):
        return isinstance(other, ControlCharacterValidator)

    def __hash__(self):
        return hash(self.code)


refuse_control_characters = ControlCharacterValidator()


def strip_control_characters(value):
    """The value without control characters if it is a string; anything else as it is."""
    return CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


def parse_id(value) -> int | None:
    """The id in `value` ("42", " 42 "), or None when it is not one: not ASCII digits, 0, or beyond ID_MAX."""
    text = str(value if value is not None else "").strip()
    if not _ID.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= ID_MAX else None


def refuse_times_outside_utc(value) -> None:
    """A form field validator: an aware time with no UTC equivalent (0001-01-01 00:00 in Shanghai is in year 0 in
    UTC) cannot be stored or compared; refused as a field error instead of an OverflowError."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        try:
            value.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError(_("Enter a date and time between the years 1 and 9999."), code="overflow") from None


def day_start(day: datetime.date, *, days_later: int = 0) -> datetime.datetime | None:
    """The instant the day `days_later` days after `day` starts, in the current time zone; None when it has no
    UTC equivalent (before 0001-01-01 00:00 UTC or after 9999-12-31)."""
    try:
        start = timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days_later), datetime.time()))
        start.astimezone(datetime.UTC)
    except OverflowError:
        return None
    return start
