"""/api/v1/tickets/ and /api/v1/sla-policies/: create answers the priority and the deadlines, errors are field
messages, ids of rows the caller may not see are "not found" (never named), every action on another's ticket
is a 404, a stale revision a 409."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from service.models import Ticket
from service.services.tickets import fault_report_write
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.orders.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def customer(am):
    return CustomerFactory(account_manager=am, tier="A1", service_tier="A1")


def test_create_answers_priority_and_deadlines_and_the_actions_work(agent, customer):
    contact = ContactFactory(customer=customer)
    circuit = SubscriptionFactory(customer=customer, sla_class="AAA")
    response = api(agent).post("/api/v1/tickets/", {
        "customer": customer.pk, "kind": "fault", "subject": "AAA 专线中断", "contact": contact.pk,
        "subscription": circuit.pk, "symptom": "全断",
    }, format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["priority"] == Ticket.Priority.URGENT and body["first_response_due"] and body["resolution_due"]
    url = f"/api/v1/tickets/{body['id']}/"
    assert api(agent).post(f"{url}resolve/", {"text": "已熔接恢复"}, format="json").status_code == 400  # no report
    now = timezone.now()
    fault_report_write(Ticket.objects.get(pk=body["id"]), by=agent, cause="挖断", impact="全断", fix="熔接",
                       prevention="双路由", started_at=now - dt.timedelta(hours=2), restored_at=now)  # fmt: skip
    answered = api(agent).post(f"{url}message/", {"text": "已派抢修", "revision": body["revision"]}, format="json")
    assert answered.status_code == 200 and answered.json()["status"] == "in_progress"
    stale = api(agent).post(f"{url}resolve/", {"text": "已修复", "revision": body["revision"]}, format="json")
    assert stale.status_code == 409
    assert api(agent).post(f"{url}notes/", {"text": "光缆被挖断"}, format="json").status_code == 201
    timeline = api(agent).get(f"{url}notes/").json()
    assert [e["action"] for e in timeline] == ["create", "report", "message", "note"]
    done = api(agent).post(f"{url}resolve/", {"text": "已熔接恢复"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert api(agent).post(f"{url}close/", format="json").json()["status"] == "closed"
    assert api(agent).post(f"{url}reopen/", {"text": "又断了"}, format="json").json()["reopened"] == 1


def test_bad_input_is_answered_field_by_field_and_hidden_ids_are_not_found(agent, am, outsider, customer):
    theirs = CustomerFactory(account_manager=outsider)
    response = api(agent).post("/api/v1/tickets/", {"customer": customer.pk, "kind": "nonsense", "subject": ""},
                               format="json")  # fmt: skip
    assert response.status_code == 400 and {"kind", "subject"} <= set(response.json()["errors"])
    response = api(agent).post("/api/v1/tickets/", {"customer": customer.pk, "kind": "consultation", "subject": "x",
                                                    "regulator_appeal": True}, format="json")  # fmt: skip
    assert response.status_code == 400 and "regulator_appeal" in response.json()["errors"]
    # the account manager may not name another's customer or subscription: "not found", never named
    other = SubscriptionFactory(customer=theirs)
    response = api(am).post("/api/v1/tickets/", {"customer": theirs.pk, "kind": "fault", "subject": "x",
                                                 "subscription": other.pk}, format="json")  # fmt: skip
    assert response.status_code == 400 and theirs.name not in response.content.decode()
    assert set(response.json()["errors"]) >= {"customer", "subscription"}
    assert not Ticket.objects.exists()


def test_an_outsider_probing_every_ticket_endpoint_by_id_gets_404(agent, outsider, customer):
    created = api(agent).post("/api/v1/tickets/", {"customer": customer.pk, "kind": "complaint", "subject": "x"},
                              format="json").json()  # fmt: skip
    url = f"/api/v1/tickets/{created['id']}/"
    probe = api(outsider)
    assert probe.get(url).status_code == 404 and probe.get(f"{url}notes/").status_code == 404
    for name in ("assign", "hand-over", "accept", "message", "notes", "wait", "resolve", "refuse", "close", "reopen"):
        assert probe.post(f"{url}{name}/", {"text": "x", "to": outsider.pk}, format="json").status_code == 404, name
    assert probe.get("/api/v1/tickets/").json()["results"] == []
    assert len(api(agent).get("/api/v1/sla-policies/").json()["results"]) >= 11
