"""The agents' follow-up call list (due, unanswered; the answer recorded from the call, once) and the SLA report
(met and missed deadlines by kind, tier and queue, from the stored clocks; supervisors only)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from service.models import FollowUp, SlaClock, Ticket
from service.services import sweep
from service.services import tickets as svc
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_an_agent_calls_the_customer_and_records_the_answer_once(client, agent, am, outsider):
    customer = CustomerFactory(account_manager=am, tier="C", service_tier="C")
    ticket = svc.ticket_create(by=agent, customer=customer, kind="complaint", subject="话费争议")
    svc.resolve(ticket, by=agent, resolution="已退费", now=timezone.now() - dt.timedelta(days=5))
    item = FollowUp.objects.get(ticket=ticket)
    client.force_login(outsider)  # not their customer: not on their list
    assert ticket.number not in client.get(reverse("service:follow-ups")).content.decode()
    assert client.post(reverse("service:follow-up-record", args=[item.pk]), {"answer": "fairly"}).status_code == 404
    client.force_login(agent)
    page = client.get(reverse("service:follow-ups")).content.decode()
    assert ticket.number in page
    url = reverse("service:follow-up-record", args=[item.pk])
    assert client.post(url, {"answer": "bogus"}).status_code == 400
    assert client.post(url, {"answer": "fairly", "comment": "处理及时"}).status_code == 302
    item.refresh_from_db()
    assert item.answer == "fairly" and Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.CLOSED
    assert client.post(url, {"answer": "satisfied"}).status_code == 404  # answered: off the list


def test_the_sla_report_counts_met_and_missed_deadlines(client, agent, am, supervisor, dispatcher):
    customer = CustomerFactory(account_manager=am, tier="B1", service_tier="B1")
    met = svc.ticket_create(by=agent, customer=customer, kind="complaint", subject="已及时回复")
    svc.message_customer(met, by=agent, text="您好")
    missed = svc.ticket_create(by=agent, customer=customer, kind="complaint", subject="未及时回复")
    SlaClock.objects.filter(ticket=missed, metric="first_response").update(
        due_at=timezone.now() - dt.timedelta(hours=1)
    )
    SlaClock.objects.filter(ticket=met, metric="first_response").update(due_at=timezone.now() + dt.timedelta(hours=1))
    sweep.sweep()
    client.force_login(dispatcher)
    month = timezone.localdate().strftime("%Y-%m")
    report = client.get(reverse("service:sla-report"), {"month": month, "metric": "first_response", "by": "tier"})
    assert report.context["rows"] == [{"key": "B1", "label": "B1", "met": 1, "missed": 1, "total": 2, "percent": 50.0}]
    client.force_login(agent)
    assert client.get(reverse("service:sla-report")).status_code == 404
