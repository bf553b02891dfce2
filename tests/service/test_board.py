"""The wall board and the ticket lists behind it: open tickets by SLA state and queue, breaches today, the longest
waiting; supervisors see their teams' customers, the operations center everybody's; constant queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from service.models import SlaClock
from service.services import sweep
from service.services import tickets as svc
from tests.customers.factories import CustomerFactory
from tests.orders.factories import WorkstationFactory

pytestmark = pytest.mark.django_db


def take(agent, customer, n=1, **fields):
    return [svc.ticket_create(by=agent, customer=customer, kind="complaint", subject=f"投诉{i}", **fields)
            for i in range(n)]  # fmt: skip


def test_the_wall_counts_states_and_queues_and_lists_what_is_behind_them(client, agent, am, dispatcher, outsider):
    mine = CustomerFactory(account_manager=am, tier="C", service_tier="C")
    queue = WorkstationFactory(name="计费支撑")
    late = take(agent, mine)[0]
    on_time = take(agent, mine, 2)
    svc.assign(late, by=agent, queue=queue)
    SlaClock.objects.filter(ticket=late).update(due_at=timezone.now() - dt.timedelta(hours=1),
                                                warn_at=timezone.now() - dt.timedelta(hours=2))  # fmt: skip
    sweep.sweep()
    take(agent, CustomerFactory(account_manager=outsider))
    client.force_login(dispatcher)
    wall = client.get(reverse("service:wall-board"))
    assert wall.context["states"] == {"total": 4, "breached": 1, "at_risk": 0}
    assert wall.context["breaches_today"] >= 1 and "计费支撑" in wall.content.decode()
    breached = client.get(reverse("service:ticket-list"), {"state": "breached"}).content.decode()
    assert late.number in breached and not any(t.number in breached for t in on_time)
    assert client.get(reverse("service:ticket-list"), {"queue": queue.pk}).context["page"].object_list[0] == late
    assert (
        'hx-trigger="every 30s"'
        in client.get(reverse("service:wall-board"), headers={"HX-Request": "true"}).content.decode()
    )


def test_who_sees_the_wall_and_how_much(client, agent, am, supervisor, outsider):
    take(agent, CustomerFactory(account_manager=am))
    take(agent, CustomerFactory(account_manager=outsider))
    client.force_login(supervisor)  # the am's team: one of the two
    assert client.get(reverse("service:wall-board")).context["states"]["total"] == 1
    for user in (agent, am):
        client.force_login(user)
        assert client.get(reverse("service:wall-board")).status_code == 404
        assert client.get(reverse("service:ticket-list")).status_code == 404


def test_the_wall_runs_the_same_queries_for_few_or_many_tickets(client, agent, am, dispatcher):
    customer = CustomerFactory(account_manager=am)
    take(agent, customer)
    client.force_login(dispatcher)
    urls = [reverse("service:wall-board"), reverse("service:ticket-list")]
    counts = []
    for url in urls:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        counts.append(len(queries))
    take(agent, customer, 12)
    for url, few in zip(urls, counts, strict=True):
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        assert len(queries) == few
