import datetime as dt

import pytest
from django.utils import timezone

from channels import calendar
from channels.models import CalendarDay

pytestmark = pytest.mark.django_db

SHANGHAI = timezone.get_fixed_timezone(8 * 60)


def at(day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SHANGHAI)


def test_working_days_skip_weekends_and_holidays_and_count_worked_weekends():
    # Thu 2026-12-31 + 1 working day: Fri 2027-01-01 is New Year's Day -> Mon 2027-01-04
    # (the reference data ships New Year's Day; the test states what it relies on)
    CalendarDay.objects.update_or_create(date=dt.date(2027, 1, 1), defaults={"is_working_day": False, "name": "元旦"})
    assert calendar.add_working_days(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 4)
    # a Saturday worked in exchange (调休) counts
    CalendarDay.objects.update_or_create(date=dt.date(2027, 1, 2), defaults={"is_working_day": True, "name": "调休"})
    assert calendar.add_working_days(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 2)
    assert calendar.working_days_between(dt.date(2026, 12, 31), dt.date(2027, 1, 4)) == 2


def test_zero_days_from_a_holiday_is_the_next_working_day():
    CalendarDay.objects.filter(date__range=(dt.date(2026, 12, 5), dt.date(2026, 12, 8))).delete()
    assert calendar.add_working_days(dt.date(2026, 12, 5), 0) == dt.date(2026, 12, 7)  # Saturday -> Monday
    with pytest.raises(ValueError):
        calendar.add_working_days(dt.date(2026, 12, 5), -1)


def test_working_hours_carry_over_the_night_and_the_weekend():
    # Friday 16:30 + 2 office hours: one hour on Friday, one from Monday 08:30
    due = calendar.add_working_hours(at("2026-12-04", "16:30"), 2)
    assert timezone.localtime(due, SHANGHAI) == at("2026-12-07", "09:30")
    # started at night: the clock starts at the next opening
    due = calendar.add_working_hours(at("2026-12-07", "22:00"), 1)
    assert timezone.localtime(due, SHANGHAI) == at("2026-12-08", "09:30")


def test_round_the_clock_sla_ignores_office_hours():
    start = at("2026-12-05", "23:00")
    assert calendar.add_clock_hours(start, 4, working_hours=False) == start + dt.timedelta(hours=4)
    assert calendar.add_clock_hours(start, 4, working_hours=True) == at("2026-12-07", "12:30")


def test_hours_between_count_office_hours_over_a_weekend_and_a_holiday():
    CalendarDay.objects.update_or_create(date=dt.date(2027, 1, 1), defaults={"is_working_day": False, "name": "元旦"})
    # Thu 2026-12-31 16:30 -> Mon 2027-01-04 09:30: one hour on Thursday, the holiday and the weekend count nothing
    start, end = at("2026-12-31", "16:30"), at("2027-01-04", "09:30")
    assert calendar.clock_hours_between(start, end, working_hours=True) == 2.0
    assert calendar.clock_hours_between(start, end, working_hours=False) == 89.0
    assert calendar.clock_hours_between(end, start, working_hours=True) == 0.0
    # the inverse of add_working_hours
    assert calendar.add_clock_hours(start, 2, working_hours=True) == end
