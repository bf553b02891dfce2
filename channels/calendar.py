"""The working calendar: Monday–Friday 08:30–17:30 (DOMAIN.md §5.2), less public holidays, plus weekend days
that are worked (调休) — both kept as `CalendarDay` rows an admin edits each year. Provisioning lead times
count working days, SLA clocks count working hours (or calendar hours for the 7×24 classes).

The exceptions of the years in question are read once per call (one query), then the arithmetic runs in
Python: a lead time of 45 working days or a clock of a few hundred hours never touches the database again."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from channels.models import CalendarDay


@dataclass(frozen=True)
class OfficeHours:
    start: dt.time
    end: dt.time

    @property
    def hours(self) -> float:
        return (
            dt.datetime.combine(dt.date.min, self.end) - dt.datetime.combine(dt.date.min, self.start)
        ).seconds / 3600


def office_hours() -> OfficeHours:
    start, end = getattr(settings, "KAM_OFFICE_HOURS", ("08:30", "17:30"))
    return OfficeHours(dt.time.fromisoformat(start), dt.time.fromisoformat(end))


class Calendar:
    """Working days between two dates, with the exceptions loaded for a span of years."""

    def __init__(self, first: dt.date, last: dt.date):
        rows = CalendarDay.objects.filter(date__gte=first, date__lte=last).values_list("date", "is_working_day")
        self.exceptions: dict[dt.date, bool] = dict(rows)
        self.first, self.last = first, last

    @classmethod
    def around(cls, day: dt.date, *, years: int = 2) -> "Calendar":
        """The exceptions from the start of `day`'s year to the end of the year `years` later (one query)."""
        return cls(day.replace(month=1, day=1), day.replace(year=day.year + years, month=12, day=31))

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The moment `hours` office hours after `start`, counted on this calendar (no query): many deadlines
        over one loaded calendar. A clock started out of hours starts at the next opening."""
        office = office_hours()
        zone = timezone.get_current_timezone()
        moment = timezone.localtime(start, zone) if timezone.is_aware(start) else start.replace(tzinfo=zone)
        remaining = dt.timedelta(hours=hours)
        day = moment.date()
        while True:
            if self.is_working_day(day):
                opens = dt.datetime.combine(day, office.start, tzinfo=zone)
                closes = dt.datetime.combine(day, office.end, tzinfo=zone)
                begin = max(moment, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += dt.timedelta(days=1)
            moment = dt.datetime.combine(day, dt.time.min, tzinfo=zone)

    def working_hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Office hours from `start` to `end` on this calendar (0 when `end` is not after `start`): what is left
        of a working-hours clock when it is paused."""
        if end <= start:
            return 0.0
        office = office_hours()
        zone = timezone.get_current_timezone()
        start, end = timezone.localtime(start, zone), timezone.localtime(end, zone)
        total = dt.timedelta()
        day = start.date()
        while day <= end.date():
            if self.is_working_day(day):
                begin = max(start, dt.datetime.combine(day, office.start, tzinfo=zone))
                finish = min(end, dt.datetime.combine(day, office.end, tzinfo=zone))
                if finish > begin:
                    total += finish - begin
            day += dt.timedelta(days=1)
        return total.total_seconds() / 3600


def is_working_day(day: dt.date) -> bool:
    return Calendar(day, day).is_working_day(day)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (0: `start` itself if it is a working day, else the next one)."""
    if days < 0:
        raise ValueError("days must not be negative")
    calendar = Calendar.around(start, years=1 + days // 200)
    day = start
    while not calendar.is_working_day(day):
        day += dt.timedelta(days=1)
    while days:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            days -= 1
    return day


def working_days_between(first: dt.date, last: dt.date) -> int:
    """Working days after `first` up to and including `last` (0 when `last` is not after `first`)."""
    if last <= first:
        return 0
    calendar = Calendar(first, last)
    return sum(calendar.is_working_day(first + dt.timedelta(days=n)) for n in range(1, (last - first).days + 1))


def add_working_hours(start: dt.datetime, hours: float) -> dt.datetime:
    """The moment `hours` office hours after `start` (aware datetimes, in the site's zone)."""
    day = timezone.localtime(start).date() if timezone.is_aware(start) else start.date()
    return Calendar.around(day, years=1 + int(hours // 1500)).add_working_hours(start, hours)


def clock_hours_between(start: dt.datetime, end: dt.datetime, *, working_hours: bool) -> float:
    """Hours an SLA clock counts from `start` to `end`: office hours, or 7×24."""
    if not working_hours:
        return max((end - start).total_seconds() / 3600, 0.0)
    first, last = timezone.localtime(start).date(), timezone.localtime(end).date()
    return Calendar(first, max(first, last)).working_hours_between(start, end)


def add_clock_hours(start: dt.datetime, hours: float, *, working_hours: bool) -> dt.datetime:
    """An SLA clock: office hours, or 7×24 calendar hours for the classes that run round the clock."""
    if working_hours:
        return add_working_hours(start, hours)
    return start + dt.timedelta(hours=hours)
