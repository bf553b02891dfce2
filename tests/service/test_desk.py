"""The agent's screen: a number fills it with the caller's customer, a ticket is taken from it (every error at
once), an unknown caller becomes a prospect, VIP and blacklist flags with their reason; nobody reaches a customer
they may not see; the queries do not grow with the customer's rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from service.models import Ticket
from service.services import tickets as svc
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.orders.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db

DESK = "/service/desk/"


@pytest.fixture
def caller(am):
    customer = CustomerFactory(account_manager=am, name="舟山港综合保税区管理有限公司", tier="A2", service_tier="A2")
    contact = ContactFactory(customer=customer, name="陈来电", mobile="13957111234", mobile_digits="13957111234")
    SubscriptionFactory(customer=customer, service_id="ZS-CIR-001", sla_class="AA")
    return customer, contact


def test_a_number_fills_the_screen_and_a_ticket_is_taken_from_it(client, agent, caller):
    customer, contact = caller
    client.force_login(agent)
    page = client.get(DESK, {"phone": "139-5711-1234"}).content.decode()
    assert customer.name in page and "陈来电" in page and "ZS-CIR-001" in page and 'id="desk-ticket-form"' in page
    response = client.post(reverse("service:desk-ticket"), {
        "customer": customer.pk, "caller_phone": "13957111234", "kind": "fault", "channel": "hotline",
        "subject": "专线中断", "contact": contact.pk, "subscription": customer.subscriptions.get().pk,
    })  # fmt: skip
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == reverse("service:ticket-detail", args=[ticket.pk])
    assert (ticket.contact, ticket.caller_phone, ticket.owner) == (contact, "13957111234", agent)
    assert ticket.priority == Ticket.Priority.URGENT  # an AA circuit's fault
    assert ticket.number in client.get(DESK, {"phone": "13957111234"}).content.decode()  # now an open ticket


def test_every_error_at_once_and_no_ticket(client, agent, caller):
    customer, _contact = caller
    client.force_login(agent)
    response = client.post(reverse("service:desk-ticket"), {
        "customer": customer.pk, "kind": "consultation", "channel": "hotline", "subject": "",
        "request_type": "change", "regulator_appeal": "on",
    })  # fmt: skip
    assert response.status_code == 400 and not Ticket.objects.exists()
    errors = response.context["ticket_form"].errors
    assert "subject" in errors  # the form's own errors come first, the service's with them once it is complete
    response = client.post(reverse("service:desk-ticket"), {
        "customer": customer.pk, "kind": "consultation", "channel": "hotline", "subject": "咨询",
        "request_type": "change", "regulator_appeal": "on",
    })  # fmt: skip
    assert response.status_code == 400 and {"request_type", "regulator_appeal"} <= set(
        response.context["ticket_form"].errors
    )


def test_an_unknown_caller_becomes_a_prospect(client, agent):
    client.force_login(agent)
    page = client.get(DESK, {"phone": "0574-8877 6655"}).content.decode()
    assert 'id="desk-unknown"' in page
    response = client.post(
        reverse("service:desk-prospect"), {"name": "宁波新来电贸易有限公司", "phone": "0574-88776655"}
    )
    prospect = Customer.objects.get(name="宁波新来电贸易有限公司")
    assert prospect.status == Customer.Status.PROSPECT and str(prospect.pk) in response.url
    assert client.get(response.url).status_code == 200


def test_vip_and_blacklist_flags_carry_a_reason_and_who_set_them(client, agent, supervisor, caller):
    customer, _contact = caller
    url = reverse("service:desk-flags", args=[customer.pk])
    client.force_login(agent)
    assert client.post(url, {"is_vip": "on", "reason": "x"}).status_code == 403
    client.force_login(supervisor)
    assert client.post(url, {"is_vip": "on", "reason": ""}).status_code == 400
    assert client.post(url, {"is_blacklisted": "on", "reason": "恶意欠费"}).status_code == 302
    customer.refresh_from_db()
    assert customer.is_blacklisted and not customer.is_vip and customer.service_flag_by == supervisor
    client.force_login(agent)
    page = client.get(DESK, {"customer": customer.pk}).content.decode()
    assert 'id="flag-blacklisted"' in page and "恶意欠费" in page


def test_nobody_reaches_a_customer_they_may_not_see(client, am, outsider, caller):
    customer, _contact = caller
    client.force_login(outsider)
    assert client.get(DESK, {"customer": customer.pk}).status_code == 404
    assert customer.name not in client.get(DESK, {"phone": "13957111234"}).content.decode()
    response = client.post(reverse("service:desk-ticket"), {"customer": customer.pk, "kind": "complaint",
                                                             "subject": "x", "channel": "hotline"})  # fmt: skip
    assert response.status_code == 404 and not Ticket.objects.exists()
    assert client.post(reverse("service:desk-flags", args=[customer.pk]), {"reason": "x"}).status_code == 404


def test_the_screen_runs_the_same_queries_for_few_or_many_rows(client, agent, caller):
    customer, _contact = caller
    client.force_login(agent)
    url = f"{DESK}?phone=13957111234"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(8):
        svc.ticket_create(by=agent, customer=customer, kind="consultation", subject=f"咨询{i}")
        SubscriptionFactory(customer=customer)
        ContactFactory(customer=customer)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
