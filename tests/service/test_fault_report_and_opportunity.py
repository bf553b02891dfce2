"""A fault of an A/B customer is resolved with its written report (cause, impact, duration, fix, prevention),
sent to the customer's contact and kept on the ticket; an opportunity found during service goes to sales through
the opportunities services and the ticket links to it."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opportunities.models import Opportunity
from service.models import FaultReport, Ticket
from service.services import tickets as svc
from tests.customers.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fault(agent, am):
    customer = CustomerFactory(account_manager=am, tier="A1", service_tier="A1")
    contact = ContactFactory(customer=customer, email="noc@example.cn", mobile="13957144444")
    return svc.ticket_create(by=agent, customer=customer, kind="fault", subject="核心专线中断", contact=contact)


def test_an_a_customer_fault_is_resolved_with_its_report(client, agent, fault, django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError) as refused:
        svc.resolve(fault, by=agent, resolution="已恢复")
    assert "resolution" in refused.value.message_dict
    now = timezone.now()
    client.force_login(agent)
    url = reverse("service:ticket-fault-report", args=[fault.pk])
    fields = {
        "cause": "光缆被挖断",
        "impact": "总部至分部中断",
        "fix": "熔接并割接备用路由",
        "prevention": "增加双路由",
    }
    backwards = {**fields, "started_at": now.strftime("%Y-%m-%dT%H:%M"),
                 "restored_at": (now - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")}  # fmt: skip
    assert client.post(url, backwards).status_code == 400 and not FaultReport.objects.exists()
    good = {**fields, "started_at": (now - dt.timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
            "restored_at": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, good).status_code == 302
    report = FaultReport.objects.get(ticket=fault)
    assert report.duration == dt.timedelta(hours=3) and report.sent_to == "noc@example.cn"
    assert len(mail.outbox) == 1 and "光缆被挖断" in mail.outbox[0].body and mail.outbox[0].to == ["noc@example.cn"]
    page = client.get(reverse("service:ticket-detail", args=[fault.pk])).content.decode()
    assert 'id="fault-report"' in page and "增加双路由" in page
    svc.resolve(Ticket.objects.get(pk=fault.pk), by=agent, resolution="已恢复")


def test_an_opportunity_found_during_service_goes_to_sales(client, agent, fault):
    client.force_login(agent)
    url = reverse("service:ticket-opportunity", args=[fault.pk])
    assert client.post(url, {"kind": "lead", "title": ""}).status_code == 400
    assert client.post(url, {"kind": "lead", "title": "客户想加一条备用专线"}).status_code == 302
    fault.refresh_from_db()
    opportunity = Opportunity.objects.get(title="客户想加一条备用专线")
    assert fault.opportunity == opportunity and opportunity.customer == fault.customer
    assert fault.events.filter(action="opportunity").exists()
    with pytest.raises(ValidationError):
        svc.capture_opportunity(fault, by=agent, kind="lead", title="再来一个")
