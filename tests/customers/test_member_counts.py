"""The 360 member chart reads the monthly member counts (MemberCount), which every member write keeps."""

import datetime
import re
import threading
from datetime import date

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers import services, tasks
from customers.models import GroupMember, MemberCount
from customers.selectors import customer_charts, members_trend, month_starts
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC)
ACTIVE, LEFT, PORTED = GroupMember.Status.ACTIVE, GroupMember.Status.LEFT, GroupMember.Status.PORTED_OUT


def month_end(first: date) -> date:
    return (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def counted_the_old_way(customer, *, months: int = 12) -> list[int]:
    """The chart's rule counted over the member rows, as the 360 page did before: joined by the month's
    last day and not left by then."""
    members = list(GroupMember.objects.filter(customer=customer).values_list("joined_on", "left_on"))
    ends = [month_end(m) for m in month_starts(months)]
    return [sum(1 for joined, left in members if joined <= end and (left is None or left > end)) for end in ends]


def same_but_the_customer(sql: str) -> str:
    return re.sub(r'"customer_id" = \d+', '"customer_id" = ?', sql)


def feed(customer, *rows) -> None:
    day = date.fromisoformat
    services.members_upsert(
        rows=[
            services.MemberRow(customer.pk, number, status, day(joined), left and day(left))
            for number, status, joined, left in rows
        ]
    )


JOINS_AND_LEAVES = (
    ("13900000001", ACTIVE, "2024-03-10", None),  # before the window
    ("13900000002", LEFT, "2025-07-31", "2025-09-30"),  # joins on the window's first month-end, leaves on a month-end
    ("13900000003", LEFT, "2025-08-01", "2025-08-31"),  # in and out within one month
    ("13900000004", PORTED, "2025-01-05", "2026-02-01"),
    ("13900000005", ACTIVE, "2026-06-14", None),  # this month
    ("13900000006", ACTIVE, "2026-06-28", None),  # later this month: counted at this month's end, as before
    ("13900000007", LEFT, "2025-11-15", "2026-07-10"),  # a leaving date already known, next month
    ("13900000008", ACTIVE, "2026-08-01", None),  # joins after the window
    ("13900000009", LEFT, "2023-05-01", "2024-12-31"),  # gone before the window
    ("13900000010", ACTIVE, "2025-10-10", None),
)


@time_machine.travel(TODAY, tick=False)
def test_the_chart_shows_what_counting_the_member_rows_showed(django_capture_on_commit_callbacks):
    customer, neighbour = CustomerFactory(), CustomerFactory()
    feed(customer, *JOINS_AND_LEAVES)
    feed(neighbour, ("13800000001", ACTIVE, "2025-12-01", None))

    chart = members_trend(customer)

    assert chart["months"][0] == "2025-07" and chart["months"][-1] == "2026-06"
    assert chart["values"] == counted_the_old_way(customer) == [3, 3, 2, 3, 4, 4, 4, 3, 3, 3, 3, 5]
    assert members_trend(neighbour)["values"] == [0] * 5 + [1] * 7

    # A later feed moves dates and statuses: the chart (cached one too) follows, and the neighbour is untouched.
    customer_charts(customer)
    with django_capture_on_commit_callbacks(execute=True):
        feed(
            customer,
            ("13900000010", LEFT, "2025-10-10", "2026-03-03"),
            ("13900000001", ACTIVE, "2025-12-20", None),
            ("13900000011", ACTIVE, "2025-09-09", None),
        )
    assert members_trend(customer)["values"] == counted_the_old_way(customer) == [2, 2, 2, 3, 4, 5, 5, 4, 3, 3, 3, 5]
    assert customer_charts(customer)["members"]["values"] == [2, 2, 2, 3, 4, 5, 5, 4, 3, 3, 3, 5]
    assert members_trend(neighbour)["values"] == [0] * 5 + [1] * 7


@time_machine.travel(TODAY, tick=False)
def test_months_before_the_first_member_show_zero_and_a_customer_without_members_shows_zeros():
    newcomer, empty = CustomerFactory(), CustomerFactory()
    feed(newcomer, ("13900000001", ACTIVE, "2026-04-02", None), ("13900000002", ACTIVE, "2026-04-30", None))

    assert members_trend(newcomer)["values"] == [0] * 9 + [2, 2, 2]
    assert members_trend(empty)["values"] == [0] * 12
    assert not MemberCount.objects.filter(customer=empty).exists()


@time_machine.travel(TODAY, tick=False)
def test_a_customer_with_many_members_costs_the_same_one_query_as_one_with_few():
    few, many = CustomerFactory(), CustomerFactory()
    feed(few, ("13900000001", ACTIVE, "2026-01-01", None))
    rows = []
    for i in range(600):  # joins and leaves in every one of 40 months
        joined = date(2023, 3, 1) + datetime.timedelta(days=2 * i)
        left = joined + datetime.timedelta(days=200) if i % 3 == 0 else None
        rows.append((f"1391{i:07d}", LEFT if left else ACTIVE, joined.isoformat(), left and left.isoformat()))
    feed(many, *rows)

    with CaptureQueriesContext(connection) as cheap:
        members_trend(few)
    with CaptureQueriesContext(connection) as big:
        chart = members_trend(many)

    assert len(cheap) == len(big) == 1
    assert "customers_membercount" in big[0]["sql"] and "customers_groupmember" not in big[0]["sql"]
    assert same_but_the_customer(cheap[0]["sql"]) == same_but_the_customer(big[0]["sql"])  # LIMIT 12, one index
    assert chart["values"] == counted_the_old_way(many)
    assert MemberCount.objects.filter(customer=many).count() > 40  # a row per month with a join or a departure


@time_machine.travel(TODAY, tick=False)
def test_a_merge_moves_the_members_and_recomputes_both_charts(steward, django_capture_on_commit_callbacks):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    feed(survivor, ("13900000001", ACTIVE, "2025-08-15", None), ("13900000002", ACTIVE, "2026-01-10", None))
    feed(
        duplicate,
        ("13900000002", ACTIVE, "2025-10-01", None),  # the survivor has this number: it stays with the duplicate
        ("13900000003", ACTIVE, "2025-10-01", None),
        ("13900000004", LEFT, "2025-06-01", "2026-02-14"),
    )
    assert members_trend(survivor)["values"] == [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]
    customer_charts(survivor)  # cached

    with django_capture_on_commit_callbacks(execute=True):
        services.customer_merge(survivor=survivor, duplicate=duplicate, by=steward)

    assert members_trend(survivor)["values"] == counted_the_old_way(survivor) == [1, 2, 2, 3, 3, 3, 4, 3, 3, 3, 3, 3]
    assert members_trend(duplicate)["values"] == counted_the_old_way(duplicate) == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    assert customer_charts(survivor)["members"]["values"][-1] == 3


def test_the_daily_run_writes_the_new_month_for_every_customer_and_repairs_what_bypassed_the_services():
    with time_machine.travel(TODAY, tick=False):
        customers = [CustomerFactory() for _i in range(3)]
        for n, customer in enumerate(customers):
            feed(customer, (f"1390000000{n}", ACTIVE, "2026-02-01", None))
        # A row written straight into the table: nothing recomputed the chart.
        GroupMember.objects.create(customer=customers[0], msisdn="13911111111", joined_on=date(2026, 6, 1))
        assert members_trend(customers[0])["values"][-1] == 1

        tasks.record_member_months()

        assert members_trend(customers[0])["values"][-1] == 2 == counted_the_old_way(customers[0])[-1]

    with time_machine.travel(TODAY + datetime.timedelta(days=20), tick=False):  # July: no write since June
        assert members_trend(customers[1])["values"][-2:] == [1, 1]  # the latest month's count carries on

        tasks.record_member_months()

        assert MemberCount.objects.filter(month=date(2026, 7, 1)).count() == 3
        assert members_trend(customers[0])["values"][-2:] == [2, 2]
        assert tasks.record_member_months() == 0  # nothing changed: nothing rewritten


def test_the_daily_run_is_in_the_beat_schedule(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "customers.tasks.record_member_months" in tasks_scheduled


@time_machine.travel(TODAY, tick=False)
def test_a_member_edited_in_the_admin_moves_the_chart(client, admin_user):
    customer = CustomerFactory()
    feed(customer, ("13900000001", ACTIVE, "2025-09-01", None), ("13900000002", ACTIVE, "2025-09-01", None))
    member = GroupMember.objects.get(msisdn="13900000001")
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:customers_groupmember_change", args=[member.pk]),
        {"customer": customer.pk, "msisdn": member.msisdn, "status": LEFT, "joined_on": "2025-09-01",
         "left_on": "2026-01-05"},
    )  # fmt: skip

    assert response.status_code == 302
    assert members_trend(customer)["values"] == counted_the_old_way(customer) == [0, 0] + [2] * 4 + [1] * 6
    assert customer.__class__.objects.get(pk=customer.pk).members_count == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_daily_run_waits_for_a_feed_in_flight_and_never_overwrites_its_fresh_month():
    customer = CustomerFactory()
    feed(customer, ("13900000001", ACTIVE, "2025-01-01", None))
    fed, release, recorded = threading.Event(), threading.Event(), threading.Event()

    def feed_held_open():
        try:
            with transaction.atomic():
                feed(customer, ("13900000002", ACTIVE, "2025-02-01", None), ("13900000003", ACTIVE, "2025-03-01", None))
                fed.set()
                release.wait(10)
        finally:
            connection.close()

    def daily_run():
        try:
            tasks.record_member_months()
            recorded.set()
        finally:
            connection.close()

    writer, beat = threading.Thread(target=feed_held_open), threading.Thread(target=daily_run)
    writer.start()
    assert fed.wait(10)
    beat.start()
    assert not recorded.wait(1)  # the daily run waits for the feed's commit...
    release.set()
    writer.join(10)
    beat.join(10)
    assert recorded.is_set()
    assert members_trend(customer)["values"][-1] == 3 == counted_the_old_way(customer)[-1]  # ...and reads it
