"""Satisfaction follow-up: scheduled on resolution by the policy, the link sent by SMS once when due, the public
page without login; the link is signed, single-use and expires; "unsatisfied" reopens the ticket once."""

import datetime as dt
import re

import pytest
import time_machine

from channels.models import Notification
from service.models import FollowUp, Ticket
from service.services import follow_up
from service.services import tickets as svc
from tests.customers.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

ZONE = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=ZONE)


@pytest.fixture
def resolved(agent, am):
    customer = CustomerFactory(account_manager=am, tier="B1", service_tier="B1")
    contact = ContactFactory(customer=customer, mobile="13957122222")
    ticket = svc.ticket_create(by=agent, customer=customer, kind="complaint", subject="账单有误", contact=contact,
                               now=MONDAY)  # fmt: skip
    svc.resolve(ticket, by=agent, resolution="已更正账单", now=MONDAY + dt.timedelta(hours=5))
    return ticket


def sent_link(caplog, django_capture_on_commit_callbacks, now) -> str | None:
    caplog.clear()
    caplog.set_level("INFO", logger="kam.sms")
    with django_capture_on_commit_callbacks(execute=True):
        follow_up.send_due(now=now)
    texts = [r.getMessage() for r in caplog.records if r.name == "kam.sms"]
    found = re.search(r"(/service/survey/[^/\s]+/)", " ".join(texts))
    return found.group(1) if found else None


def test_the_link_goes_out_once_when_due_and_the_answer_closes_the_ticket(
    client, resolved, caplog, django_capture_on_commit_callbacks
):
    item = FollowUp.objects.get(ticket=resolved)
    assert item.due_at == MONDAY + dt.timedelta(hours=5 + 48)  # B1 complaints: within 48 hours
    assert sent_link(caplog, django_capture_on_commit_callbacks, MONDAY + dt.timedelta(hours=6)) is None
    with time_machine.travel(MONDAY + dt.timedelta(days=3), tick=False):
        url = sent_link(caplog, django_capture_on_commit_callbacks, MONDAY + dt.timedelta(days=3))
        assert url and sent_link(caplog, django_capture_on_commit_callbacks, MONDAY + dt.timedelta(days=3)) is None
        page = client.get(url)  # nobody logged in
        assert page.status_code == 200 and resolved.number in page.content.decode()
        answered = client.post(url, {"answer": "satisfied", "score": "5", "comment": "很快"})
        assert answered.status_code == 200 and 'id="survey-thanks"' in answered.content.decode()
        assert client.post(url, {"answer": "unsatisfied"}).status_code == 410  # single use
    item.refresh_from_db()
    assert (item.answer, item.score) == ("satisfied", 5)
    assert Ticket.objects.get(pk=resolved.pk).status == Ticket.Status.CLOSED


def test_forged_and_expired_links_are_refused(client, resolved):
    item = FollowUp.objects.get(ticket=resolved)
    token = follow_up.token_for(item)
    assert client.get(f"/service/survey/{token[:-2]}xx/").status_code == 404
    assert client.get(f"/service/survey/{follow_up.token_for(FollowUp(pk=item.pk + 999))}/").status_code == 404
    with time_machine.travel(dt.datetime.now(ZONE) + dt.timedelta(days=follow_up.link_days() + 1)):
        response = client.get(f"/service/survey/{token}/")
    assert response.status_code == 410 and FollowUp.objects.get(pk=item.pk).answered_at is None


def test_unsatisfied_reopens_the_ticket_once_and_tells_its_owner(client, agent, resolved):
    token = follow_up.token_for(FollowUp.objects.get(ticket=resolved))
    response = client.post(f"/service/survey/{token}/", {"answer": "unsatisfied", "comment": "还是多收费"})
    assert response.status_code == 200
    ticket = Ticket.objects.get(pk=resolved.pk)
    assert ticket.status == Ticket.Status.IN_PROGRESS and ticket.reopened == 1
    assert Notification.objects.filter(recipient=agent, urgent=True, body="还是多收费").exists()
    svc.resolve(ticket, by=agent, resolution="已退还多收费用")
    second = follow_up.token_for(FollowUp.objects.filter(ticket=ticket).latest("id"))
    client.post(f"/service/survey/{second}/", {"answer": "unsatisfied", "comment": "仍不满意"})
    ticket.refresh_from_db()
    assert ticket.reopened == 1 and ticket.status == Ticket.Status.RESOLVED  # once: a new complaint is a new ticket
