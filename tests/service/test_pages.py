"""The ticket page and its actions, my queue, the 360 "tickets" panel: who sees what (404 for the rest), errors
as form errors, conflicts as 409, query counts that do not grow with the rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels.models import Role
from service.models import Ticket
from service.services import tickets as svc
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.orders.factories import WorkstationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(am):
    return CustomerFactory(account_manager=am, tier="B1", service_tier="B1", name="宁波港集装箱码头有限公司")


@pytest.fixture
def ticket(agent, customer):
    return svc.ticket_create(by=agent, customer=customer, kind="complaint", subject="专线频繁中断")


def detail(ticket):
    return reverse("service:ticket-detail", args=[ticket.pk])


def action(ticket, name):
    return reverse("service:ticket-action", args=[ticket.pk, name])


def test_the_ticket_page_shows_clocks_and_timeline_to_who_may_see_it(client, agent, am, outsider, ticket):
    client.force_login(agent)
    page = client.get(detail(ticket)).content.decode()
    assert ticket.number in page and "专线频繁中断" in page and 'id="sla-clocks"' in page
    assert 'id="ticket-actions"' in page and action(ticket, "message") in page
    client.force_login(am)  # the customer's account manager reads it, but does not work it
    page = client.get(detail(ticket)).content.decode()
    assert ticket.number in page and 'id="ticket-actions"' not in page
    client.force_login(outsider)
    assert client.get(detail(ticket)).status_code == 404
    assert client.post(action(ticket, "note"), {"text": "x"}).status_code == 404
    assert client.get(reverse("customers:panel", args=[ticket.customer_id, "tickets"])).status_code == 404


def test_actions_answer_errors_conflicts_and_forbidden_work(client, agent, am, ticket):
    client.force_login(agent)
    response = client.post(action(ticket, "message"), {"text": "已受理，2小时内回复", "revision": ticket.revision})
    assert response.status_code == 302 and response.url == detail(ticket)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.IN_PROGRESS and ticket.first_response_at is not None
    assert client.post(action(ticket, "resolve"), {"text": "", "revision": ticket.revision}).status_code == 400
    stale = client.post(action(ticket, "resolve"), {"text": "已处理", "revision": ticket.revision - 1})
    assert stale.status_code == 409 and Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.IN_PROGRESS
    assert client.post(action(ticket, "bogus"), {}).status_code == 404
    client.force_login(am)  # sees it, may not work it
    assert client.post(action(ticket, "note"), {"text": "我来跟进"}).status_code == 403


def test_a_queue_works_what_is_sent_to_it_and_sees_nothing_else(client, agent, customer, ticket):
    queue = WorkstationFactory()
    engineer = UserFactory(role=Role.WORKSTATION_EXECUTOR, workstation=queue)
    other = svc.ticket_create(by=agent, customer=customer, kind="consultation", subject="资费咨询")
    client.force_login(agent)
    assert client.post(action(ticket, "assign"), {"queue": queue.pk, "revision": ticket.revision}).status_code == 302
    client.force_login(engineer)
    mine = client.get(reverse("service:my-queue")).content.decode()
    assert ticket.number in mine and other.number not in mine
    assert client.post(action(ticket, "note"), {"text": "已安排现场"}).status_code == 302
    assert client.get(detail(other)).status_code == 404


def test_my_queue_and_the_360_panel_run_constant_queries(client, agent, customer):
    def take(n):
        for i in range(n):
            svc.ticket_create(by=agent, customer=customer, kind="fault", subject=f"故障{i}")

    take(1)
    client.force_login(agent)
    urls = [reverse("service:my-queue"), reverse("customers:panel", args=[customer.pk, "tickets"])]
    counts = []
    for url in urls:
        client.get(url)
        with CaptureQueriesContext(connection) as one:
            client.get(url, headers={"HX-Request": "true"})
        counts.append(len(one))
    take(11)
    for url, few in zip(urls, counts, strict=True):
        with CaptureQueriesContext(connection) as many:
            text = client.get(url, headers={"HX-Request": "true"}).content.decode()
        assert len(many) == few and "故障10" in text
    assert "12 open tickets" in client.get(urls[1]).content.decode()


def test_the_page_fetches_the_tickets_panel(client, am, customer, ticket):
    client.force_login(am)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert reverse("customers:panel", args=[customer.pk, "tickets"]) in page
