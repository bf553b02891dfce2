"""The ticket SLA sweep with frozen time: a warning before the deadline, the breach to the queue's manager (and
the account manager of an A/B customer), escalation up the team chain while the clock stays unmet, each once;
statements constant in the number of clocks."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels.models import Notification, Role
from service.models import SlaClock, SlaEvent
from service.services import sweep
from service.services import tickets as svc
from tests.channels.factories import TeamFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.orders.factories import WorkstationFactory

pytestmark = pytest.mark.django_db

ZONE = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=ZONE)


@pytest.fixture
def chain():
    """A province team above a city team above the account manager's district team, each with a supervisor."""
    province = TeamFactory(name="省集客部", supervisor=UserFactory(role=Role.SUPERVISOR))
    city = TeamFactory(name="宁波集客部", parent=province, supervisor=UserFactory(role=Role.SUPERVISOR))
    district = TeamFactory(name="北仑集客组", parent=city, supervisor=UserFactory(role=Role.SUPERVISOR))
    am = UserFactory(role=Role.ACCOUNT_MANAGER, team=district)
    return am, district.supervisor, city.supervisor, province.supervisor


def breach_of(ticket):
    return SlaClock.objects.get(ticket=ticket, metric="first_response")


def test_warning_breach_and_escalation_climb_once_each(agent, chain):
    am, district, city, province = chain
    queue = WorkstationFactory(manager=UserFactory(role=Role.WORKSTATION_MANAGER))
    customer = CustomerFactory(account_manager=am, tier="B1", service_tier="B1")
    ticket = svc.ticket_create(by=agent, customer=customer, kind="complaint", subject="话费争议", now=MONDAY)
    svc.assign(ticket, by=agent, queue=queue, now=MONDAY)
    due = breach_of(ticket).due_at  # 4 office hours: 13:00

    # 75 % of the 4-hour first response gone; the resolution and the hard cap are days away
    assert sweep.sweep(now=MONDAY + dt.timedelta(hours=3, minutes=30)) == sweep.SweepResult(warned=1)
    assert Notification.objects.filter(kind="ticket_sla_warning", recipient=agent).count() == 1  # nobody holds it
    assert sweep.sweep(now=MONDAY + dt.timedelta(hours=3, minutes=31)) == sweep.SweepResult()

    after = due + dt.timedelta(minutes=1)
    result = sweep.sweep(now=after)
    assert result.breached == 1 and result.escalated == 0
    told = set(Notification.objects.filter(kind="ticket_sla_breach").values_list("recipient_id", flat=True))
    assert told == {queue.manager_id, agent.pk, am.pk}  # B1: the account manager hears too
    assert sweep.sweep(now=after) == sweep.SweepResult()

    # another target's length later: the district supervisor, then the city's, then the province's — then no more
    reached = []
    for days in (5, 10, 15, 20):
        before = set(Notification.objects.values_list("pk", flat=True))
        sweep.sweep(now=after + dt.timedelta(days=days))
        new = Notification.objects.exclude(pk__in=before).filter(
            kind="ticket_sla_breach", title__contains=str(SlaClock.Metric.FIRST_RESPONSE.label)
        )
        reached.append(sorted(new.values_list("recipient_id", flat=True)))
    assert reached[:3] == [[district.pk], [city.pk], [province.pk]] and reached[3] == []
    clock = breach_of(ticket)
    assert clock.escalation_level == sweep.MAX_LEVEL and clock.escalate_at is None
    actions = list(SlaEvent.objects.filter(clock=clock).values_list("action", flat=True))
    assert actions == ["start", "warn", "breach", "escalate", "escalate", "escalate"]


def test_a_met_or_paused_clock_is_never_breached(agent, am):
    customer = CustomerFactory(account_manager=am, tier="C", service_tier="C")
    met = svc.ticket_create(by=agent, customer=customer, kind="complaint", subject="已回复", now=MONDAY)
    svc.message_customer(met, by=agent, text="您好", now=MONDAY + dt.timedelta(minutes=5))
    waiting = svc.ticket_create(by=agent, customer=customer, kind="complaint", subject="等资料", now=MONDAY)
    svc.wait_for_customer(waiting, by=agent, note="等客户资料", now=MONDAY + dt.timedelta(minutes=5))
    result = sweep.sweep(now=MONDAY + dt.timedelta(days=3))
    # only the hard caps (never paused) and the met ticket's resolution may breach
    breached = set(SlaClock.objects.filter(breached_at__isnull=False).values_list("ticket_id", "metric"))
    assert (met.pk, "first_response") not in breached and (waiting.pk, "first_response") not in breached
    assert (waiting.pk, "resolution") not in breached and result.breached == len(breached)


def sweep_statements(agent, customer, n: int) -> int:
    for i in range(n):
        svc.ticket_create(by=agent, customer=customer, kind="fault", subject=f"故障{i}", now=MONDAY)
    with CaptureQueriesContext(connection) as queries:
        sweep.sweep(now=MONDAY + dt.timedelta(days=20))
    return len(queries)


def test_the_sweep_runs_a_constant_number_of_statements(agent, am):
    customer = CustomerFactory(account_manager=am, tier="A1", service_tier="A1")
    few = sweep_statements(agent, customer, 3)
    SlaClock.objects.all().delete()
    Notification.objects.all().delete()
    assert sweep_statements(agent, customer, 30) == few
    # 30 tickets' deadlines passed at once: the owner gets one summary per kind, not a message per clock
    summaries = Notification.objects.filter(recipient=agent, kind="ticket_sla_breach")
    assert summaries.count() == 1 and summaries.get().link == reverse("service:my-queue")
