"""A customer leaving (termination order, release checklist), the 360 "Subscriptions" panel, the
subscriptions/resources API and the "holds / does not hold product" segment criteria."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from channels.models import Role
from customers.models import Customer
from customers.segments.criteria import apply_definition, clean_definition
from orders.models import Order, Product, Resource, Subscription
from orders.services.installed import apply_line, customer_leave, reserve_resources
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.orders.factories import ResourceFactory, SubscriptionFactory, WorkstationFactory
from tests.orders.installed_support import make_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(am):
    return CustomerFactory(account_manager=am, name="杭州离网测试有限公司")


@pytest.fixture
def holdings(customer, am):
    """An internet line on a circuit and an IP block, and a VPMN without resources."""
    ResourceFactory(identifier="HZ-CIR-77")
    ResourceFactory(kind="ip_block", identifier="115.236.9.0/29")
    line = make_line(customer, am)
    reserve_resources(line)
    inet = apply_line(line, by=am)
    vpmn = apply_line(make_line(customer, am, code="VPMN", values={"members": 30}), by=am)
    return inet, vpmn


def checklist_url(customer):
    return reverse("orders:release-checklist", args=[customer.pk])


# --- a customer leaving ---------------------------------------------------------------------------------


def test_customer_leave_creates_one_numbered_termination_order_for_everything_live(customer, am, holdings):
    order = customer_leave(customer, by=am, reason="搬迁至外省")
    assert order.number == f"OR{order.pk:08d}"
    assert (order.kind, order.source, order.status) == ("terminate", "termination", "submitted")
    assert {line.subscription_id for line in order.lines.all()} == {sub.pk for sub in holdings}
    # asked again: nothing left that is not being terminated
    with pytest.raises(ValidationError) as err:
        customer_leave(customer, by=am, reason="again")
    assert "customer" in err.value.message_dict
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE  # the churn process decides the status


def test_customer_leave_needs_an_editor_and_a_reason(customer, am, outsider, holdings):
    with pytest.raises(PermissionDenied):
        customer_leave(customer, by=outsider, reason="x")
    with pytest.raises(ValidationError) as err:
        customer_leave(customer, by=am, reason="  ")
    assert "reason" in err.value.message_dict
    assert not Order.objects.filter(kind="terminate").exists()


def test_release_checklist_follows_the_termination_lines(client, customer, am, holdings):
    client.force_login(am)
    response = client.post(checklist_url(customer), {"reason": "客户业务迁出"})
    assert response.status_code == 302
    order = Order.objects.get(kind="terminate")
    html = client.get(checklist_url(customer)).content.decode()
    assert "HZ-CIR-77" in html and "115.236.9.0/29" in html
    assert '<dd id="to-release-count">2</dd>' in html and '<dd id="released-count">0</dd>' in html
    assert 'id="customer-leave-form"' not in html  # everything is already being terminated

    for line in order.lines.all():  # provisioning completes the lines
        apply_line(line, by=am)
    html = client.get(checklist_url(customer)).content.decode()
    assert '<dd id="to-release-count">0</dd>' in html and '<dd id="released-count">2</dd>' in html
    assert Resource.objects.get(identifier="HZ-CIR-77").status == "free"


def test_leave_form_errors_show_on_the_page(client, customer, am, holdings):
    client.force_login(am)
    response = client.post(checklist_url(customer), {"reason": ""})
    assert response.status_code == 400 and b"This field is required." in response.content
    assert not Order.objects.filter(kind="terminate").exists()


def test_outsider_gets_404_on_the_checklist_and_cannot_start_leaving(client, customer, outsider, holdings):
    client.force_login(outsider)
    assert client.get(checklist_url(customer)).status_code == 404
    assert client.post(checklist_url(customer), {"reason": "x"}).status_code == 404
    assert not Order.objects.filter(kind="terminate").exists()


def test_read_only_reader_sees_the_checklist_but_may_not_start(client, customer, analyst, holdings):
    client.force_login(analyst)
    response = client.get(checklist_url(customer))
    assert response.status_code == 200 and b'id="customer-leave-form"' not in response.content
    assert client.post(checklist_url(customer), {"reason": "x"}).status_code == 403


# --- the 360 panel -----------------------------------------------------------------------------------------


def test_panel_lists_live_subscriptions_with_constant_queries(client, customer, am, django_assert_num_queries):
    client.force_login(am)
    url = reverse("customers:panel", args=[customer.pk, "subscriptions"])
    assert url in client.get(customer.get_absolute_url()).content.decode()  # the page fetches it (lazy panel)
    SubscriptionFactory(customer=customer, service_id="HZ-PANEL-1", bandwidth_mbps=200, sla_class="AA")
    client.get(url)  # warm the caches
    with CaptureQueriesContext(connection) as one:
        html = client.get(url).content.decode()
    assert "HZ-PANEL-1" in html and "200 Mbit/s" in html and "1 live subscription" in html
    for i in range(12):
        SubscriptionFactory(customer=customer, service_id=f"HZ-PANEL-X{i}")
    SubscriptionFactory(customer=customer, service_id="HZ-ENDED", status="terminated")
    with django_assert_num_queries(len(one.captured_queries)):
        html = client.get(url).content.decode()
    assert "13 live subscriptions" in html and "HZ-ENDED" not in html and "First 10 shown." in html
    assert 'id="customer-leaving-link"' in html and 'id="release-checklist-link"' not in html


def test_panel_links_the_checklist_once_the_customer_is_leaving(client, customer, am, holdings):
    customer_leave(customer, by=am, reason="迁出")
    client.force_login(am)
    url = reverse("customers:panel", args=[customer.pk, "subscriptions"])
    assert 'id="release-checklist-link"' in client.get(url, headers={"HX-Request": "true"}).content.decode()


# --- API ---------------------------------------------------------------------------------------------------


def api(user):
    client = APIClient()
    client.force_login(user)
    return client


def test_subscription_api_lists_filters_and_hides_others(customer, am, outsider, holdings):
    inet, vpmn = holdings
    rows = api(am).get("/api/v1/subscriptions/", {"customer": customer.pk, "product": "INET"}).json()["results"]
    assert [r["service_id"] for r in rows] == ["HZ-CIR-77"]
    assert rows[0]["product"] == "INET" and Decimal(rows[0]["monthly_price"]) == Decimal("2700.00")
    assert api(am).get("/api/v1/subscriptions/", {"status": "bogus"}).status_code == 400
    assert api(outsider).get(f"/api/v1/subscriptions/{inet.pk}/").status_code == 404
    assert api(outsider).get("/api/v1/subscriptions/").json()["results"] == []


def test_resource_api_inventory_for_operations_own_rows_for_account_managers(customer, am, outsider, dispatcher):
    ResourceFactory(identifier="HZ-FREE-1")
    ResourceFactory(identifier="NB-FREE-1", region_code="330200")
    line = make_line(customer, am, code="DATA", values={})
    held = reserve_resources(line)[0]
    free = api(dispatcher).get("/api/v1/resources/", {"status": "free", "kind": "circuit", "region": "330200"})
    assert [r["identifier"] for r in free.json()["results"]] == ["NB-FREE-1"]
    mine = api(am).get("/api/v1/resources/").json()["results"]
    assert [r["identifier"] for r in mine] == [held.identifier]  # reserved for his customer's line
    assert api(outsider).get(f"/api/v1/resources/{held.pk}/").status_code == 404
    assert api(am).get("/api/v1/resources/", {"kind": "bogus"}).status_code == 400


def test_resource_api_names_a_subscription_only_to_who_may_see_it(customer, am, holdings):
    inet, _vpmn = holdings
    executor = UserFactory(role=Role.WORKSTATION_EXECUTOR, workstation=WorkstationFactory())

    inventory = {r["identifier"]: r for r in api(executor).get("/api/v1/resources/").json()["results"]}
    assert inventory["HZ-CIR-77"]["status"] == "in_use" and inventory["HZ-CIR-77"]["subscription"] is None
    held = Resource.objects.get(identifier="HZ-CIR-77")
    assert api(executor).get(f"/api/v1/resources/{held.pk}/").json()["subscription"] is None
    theirs = {r["identifier"]: r for r in api(am).get("/api/v1/resources/").json()["results"]}
    assert theirs["HZ-CIR-77"]["subscription"] == inet.pk


# --- segment criteria --------------------------------------------------------------------------------------


def test_segment_criteria_holds_and_lacks_a_product(am, customer, holdings):
    other = CustomerFactory(account_manager=am)
    ended = CustomerFactory(account_manager=am)
    SubscriptionFactory(customer=ended, status="terminated", service_id="HZ-OLD")
    inet = Product.objects.get(code="INET")
    holds = clean_definition({"holds_products": [str(inet.pk)]})
    assert holds == {"holds_products": [inet.pk]}
    base = Customer.objects.filter(pk__in=[customer.pk, other.pk, ended.pk])
    assert set(apply_definition(base, holds)) == {customer}
    lacks = clean_definition({"lacks_products": [inet.pk]})
    assert set(apply_definition(base, lacks)) == {other, ended}
    with pytest.raises(ValidationError):
        clean_definition({"holds_products": ["999999"]})


def test_a_customer_leaving_is_provisioned_at_once_and_everything_is_released(customer, am, holdings):
    """The termination order runs through provisioning like any order: one BOSS command per line (no
    installation work order for a leased line that is being removed), the subscriptions end, the circuit and
    the IP block go back to the pool."""
    from orders.services.provisioning import start_order

    order = customer_leave(customer, by=am, reason="搬迁至外省")
    assert start_order(order)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert not order.lines.filter(work_order__isnull=False).exists()
    ended = Subscription.objects.filter(pk__in=[s.pk for s in holdings])
    assert set(ended.values_list("status", flat=True)) == {"terminated"}
    released = Resource.objects.filter(identifier__in=["HZ-CIR-77", "115.236.9.0/29"])
    assert set(released.values_list("status", flat=True)) == {"free"}
