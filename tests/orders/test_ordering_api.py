"""Order entry through the API and the pages: errors all at once in one shape, the approver's actions, the
pre-acceptance queue, an outsider probing by id, and lists whose query count does not grow with the rows."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from channels.models import ChannelType, Role
from orders.models import Order, PreAcceptance, Product
from orders.services import ordering
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/orders/"
INET_VALUES = {"bandwidth": 100, "a_end": "杭州市西湖区文三路 90 号", "ip_block": 29, "sla_class": "A",
               "install_phone": "13800001234"}  # fmt: skip


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def page_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def customer(am):
    return CustomerFactory(account_manager=am, name="杭州西湖港务有限公司")


def draft(customer, am, **line) -> Order:
    row = {"product": Product.objects.get(code="INET"), "unit_price": Decimal("3000"), "values": INET_VALUES, **line}
    return ordering.order_create(customer, by=am, lines=[row])


def test_api_create_then_submit_answers_every_error_at_once_keyed_by_line(am, customer):
    client = api_for(am)
    bad = {"customer": customer.pk, "lines": [
        {"product": "VPMN", "quantity": 0, "values": {}},
        {"product": "INET", "values": {"bandwidth": 0, "ip_block": 31, "colour": "red"}},
    ]}  # fmt: skip
    response = client.post(API, bad, format="json")
    assert response.status_code == 400
    assert response.json()["errors"].keys() == {"lines[0].quantity"}  # the shape checks come first
    bad["lines"][0]["quantity"] = 1
    errors = client.post(API, bad, format="json").json()["errors"]
    assert errors.keys() == {"lines[1].values.bandwidth", "lines[1].values.ip_block", "lines[1].values.colour"}

    created = client.post(API, {"customer": customer.pk, "lines": [{"product": "INET", "values": {"bandwidth": 50}}]},
                          format="json")  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "draft" and body["lines"][0]["unit_price"] == "3000.00"
    submitted = client.post(f"{API}{body['id']}/submit/")
    assert submitted.status_code == 400
    assert {"lines[0].values.a_end", "lines[0].values.ip_block", "lines[0].values.sla_class",
            "lines[0].values.install_phone"} == submitted.json()["errors"].keys()  # fmt: skip

    patched = client.patch(f"{API}{body['id']}/", {"lines": [{"product": "INET", "values": INET_VALUES}]},
                           format="json")  # fmt: skip
    assert patched.status_code == 200
    answer = client.post(f"{API}{body['id']}/submit/").json()
    assert answer["status"] == "in_approval"  # INET needs a contract and none is named
    assert "needs a contract" in answer["approval_reasons"][0]
    assert client.patch(f"{API}{body['id']}/", {"note": "x"}, format="json").status_code == 409


def test_api_approval_and_rejection_by_the_supervisor_only(am, supervisor, customer):
    order = ordering.order_submit(draft(customer, am), by=am)
    assert api_for(am).post(f"{API}{order.pk}/approve/").status_code == 403
    assert api_for(supervisor).post(f"{API}{order.pk}/reject/", {}, format="json").status_code == 400
    assert api_for(supervisor).post(f"{API}{order.pk}/approve/").json()["status"] == "submitted"
    cancelled = api_for(am).post(f"{API}{order.pk}/cancel/", {"reason": "客户改期"}, format="json")
    assert cancelled.json()["status"] == "cancelled"


def test_an_outsider_probing_orders_and_forms_by_id_gets_404(am, outsider, customer, agent):
    order = draft(customer, am)
    form = ordering.pre_acceptance_submit(customer, by=agent, product=Product.objects.get(code="VPMN"), details="V网")
    api, page = api_for(outsider), page_for(outsider)
    assert api.get(f"{API}{order.pk}/").status_code == 404
    for action in ("submit", "approve", "cancel", "reject"):
        assert api.post(f"{API}{order.pk}/{action}/", {"reason": "x"}, format="json").status_code == 404, action
    assert api.patch(f"{API}{order.pk}/", {"note": "x"}, format="json").status_code == 404
    assert api.get(API).json()["results"] == []
    for action in ("convert", "refuse"):
        assert api.post(f"/api/v1/pre-acceptances/{form.pk}/{action}/", {"reason": "x"}, format="json").status_code \
            == 404  # fmt: skip
    assert page.get(f"/orders/{order.pk}/").status_code == 404
    line = order.lines.get()
    assert page.get(f"/orders/{order.pk}/lines/{line.pk}/").status_code == 404
    for action in ("submit", "approve", "reject", "cancel"):
        assert page.post(f"/orders/{order.pk}/{action}/", {"cancel-reason": "x"}).status_code == 404, action
    order.refresh_from_db()
    assert order.status == Order.Status.DRAFT


def test_pre_acceptance_api_create_then_convert_by_the_operations_center(agent, dispatcher, am, customer):
    created = api_for(agent).post("/api/v1/pre-acceptances/", {"customer": customer.pk, "product": "INET",
                                                               "details": "专线"}, format="json")  # fmt: skip
    assert created.status_code == 400 and "product" in created.json()["errors"]
    created = api_for(agent).post("/api/v1/pre-acceptances/", {"customer": customer.pk, "product": "GCRBT",
                                                               "details": "彩铃", "values": {"members": 0}},
                                  format="json")  # fmt: skip
    assert created.json()["errors"] == {"values.members": ["Number of members must be at least 1."]}
    created = api_for(agent).post("/api/v1/pre-acceptances/", {"customer": customer.pk, "product": "GCRBT",
                                                               "details": "彩铃"}, format="json")  # fmt: skip
    assert created.status_code == 201
    pk = created.json()["id"]
    assert api_for(am).post(f"/api/v1/pre-acceptances/{pk}/convert/", {}, format="json").status_code == 403
    converted = api_for(dispatcher).post(f"/api/v1/pre-acceptances/{pk}/convert/", {"quantity": 2}, format="json")
    assert converted.status_code == 201
    assert (converted.json()["source"], converted.json()["lines"][0]["quantity"]) == ("pre_acceptance", 2)
    assert PreAcceptance.objects.get(pk=pk).status == PreAcceptance.Status.CONVERTED


def test_order_lists_cost_the_same_queries_for_one_order_or_many(am, customer):
    api, page = api_for(am), page_for(am)
    draft(customer, am)
    api.get(API), page.get("/orders/")  # warm the per-process caches (menu, content types)

    def counted(client, path):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    one = (counted(api, API), counted(page, "/orders/"))
    for _ in range(5):
        draft(customer, am, quantity=2)
    assert (counted(api, API), counted(page, "/orders/")) == one
    assert len(api.get(API).json()["results"]) == 6


def test_the_wizard_enters_a_draft_then_submits_it_and_the_page_shows_the_approvers_buttons(am, supervisor, customer):
    client = page_for(am)
    inet = Product.objects.get(code="INET")
    step = client.get("/orders/new/", {"customer": customer.pk, "kind": "new", "product": inet.pk})
    assert step.status_code == 302
    line_url = step["Location"]
    form = client.get(line_url)
    assert "A-end address *" in form.content.decode()
    posted = {"line-quantity": 1, "line-unit_price": "3000", "line-discount": "0", "line-v_bandwidth": "100",
              "line-v_a_end": "杭州", "line-v_ip_block": "33", "order-note": ""}  # fmt: skip
    bad = client.post(line_url, {**posted, "step": "review"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "IP block size (prefix length) must be at most 30." in text and "A-end address is too short" in text
    posted.update({"line-v_a_end": "杭州市西湖区文三路 90 号", "line-v_ip_block": "29", "line-v_sla_class": "A",
                   "line-v_install_phone": "13800001234"})  # fmt: skip
    review = client.post(line_url, {**posted, "step": "review"})
    assert review.status_code == 200 and 'id="review"' in review.content.decode()
    done = client.post(line_url, {**posted, "step": "submit"})
    order = Order.objects.get(customer=customer)
    assert done["Location"] == f"/orders/{order.pk}/"
    assert order.status == Order.Status.IN_APPROVAL and order.lines.get().values["bandwidth"] == 100
    assert 'id="approve-button"' not in client.get(done["Location"]).content.decode()
    detail = page_for(supervisor).get(done["Location"]).content.decode()
    assert 'id="approve-button"' in detail and "needs a contract" in detail
    assert page_for(supervisor).post(f"/orders/{order.pk}/approve/").status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED


def test_the_wizard_lists_only_the_products_the_channel_may_accept(am, customer):
    hall = ChannelType.objects.get(code="service_hall")
    hall_user = UserFactory(username="hall", role=Role.PHONE_ACCOUNT_MANAGER, channel_type=hall)
    start = page_for(am).get("/orders/new/", {"customer": customer.pk}).content.decode()
    assert "INET" in start
    inet = Product.objects.get(code="INET")
    theirs = CustomerFactory(account_manager=hall_user)
    hall_page = page_for(hall_user).get("/orders/new/", {"customer": theirs.pk}).content.decode()
    assert "VPMN" in hall_page and "INET" not in hall_page
    refused = page_for(hall_user).get("/orders/new/line/", {"customer": theirs.pk, "kind": "new", "product": inet.pk})
    assert refused.status_code == 404


def test_order_filters_on_the_api_and_the_list_page(am, customer):
    first, second = draft(customer, am), draft(CustomerFactory(account_manager=am), am)
    ordering.order_cancel(second, by=am, reason="客户取消")
    api = api_for(am)
    assert [r["id"] for r in api.get(API, {"status": "cancelled"}).json()["results"]] == [second.pk]
    assert [r["id"] for r in api.get(API, {"customer": customer.pk}).json()["results"]] == [first.pk]
    assert api.get(API, {"kind": "terminate"}).json()["results"] == []
    assert api.get(API, {"customer": "x"}).status_code == 400
    page = page_for(am).get("/orders/", {"q": first.number.lower()}).content.decode()
    assert first.number in page and second.number not in page


def test_pre_acceptance_pages_send_a_form_and_the_queue_refuses_it_with_a_reason(agent, dispatcher, am, customer):
    vpmn = Product.objects.get(code="VPMN")
    client = page_for(agent)
    choose = client.get("/orders/pre-acceptance/new/", {"customer": customer.pk}).content.decode()
    assert "VPMN" in choose and "INET" not in choose  # the hotline takes BOSS-direct products only
    url = f"/orders/pre-acceptance/new/?customer={customer.pk}&product={vpmn.pk}"
    bad = client.post(url, {"details": "", "v_members": "1"})
    assert bad.status_code == 400 and "Number of members must be at least 2." in bad.content.decode()
    assert client.post(url, {"details": "V网 50 人", "v_members": "50"}).status_code == 302
    form = PreAcceptance.objects.get(customer=customer)
    assert form.values == {"members": 50}

    assert page_for(am).get("/orders/pre-acceptance/").status_code == 403
    queue = page_for(dispatcher)
    assert "V网 50 人" in queue.get("/orders/pre-acceptance/").content.decode()
    queue.post(f"/orders/pre-acceptance/{form.pk}/refuse/", {"reason": ""})
    form.refresh_from_db()
    assert form.status == PreAcceptance.Status.QUEUED
    queue.post(f"/orders/pre-acceptance/{form.pk}/refuse/", {"reason": "客户已有V网"})
    form.refresh_from_db()
    assert (form.status, form.refusal_reason) == (PreAcceptance.Status.REFUSED, "客户已有V网")
    assert "V网 50 人" not in queue.get("/orders/pre-acceptance/").content.decode()


def test_the_won_opportunitys_page_links_its_draft_order(am, outsider, customer):
    from opportunities.models import Kind, Opportunity, RoutingStatus, Stage
    from tests.opportunities.factories import OpportunityFactory

    opp = OpportunityFactory(customer=customer, kind=Kind.OPPORTUNITY, stage=Stage.WON,
                             routing_status=RoutingStatus.CLAIMED, claimed_by=am, assigned_to=am)  # fmt: skip
    order = draft(customer, am)
    Opportunity.objects.filter(pk=opp.pk).update(order=order)
    page = page_for(am).get(f"/opportunities/{opp.pk}/").content.decode()
    assert f'href="/orders/{order.pk}/" id="opp-order">{order.number}</a>' in page


def test_the_wizard_adds_a_line_to_a_draft_of_the_same_customer_only(am, customer):
    order = draft(customer, am)
    client = page_for(am)
    vpmn = Product.objects.get(code="VPMN")
    step = client.get("/orders/new/", {"customer": customer.pk, "order": order.pk, "kind": "terminate",
                                       "product": vpmn.pk})  # fmt: skip
    assert step.status_code == 302 and f"order={order.pk}" in step["Location"] and "kind=new" in step["Location"]
    posted = {"line-quantity": 1, "line-unit_price": "10", "line-v_members": "30", "line-v_short_prefix": "61",
              "line-v_short_digits": "4", "step": "draft"}  # fmt: skip
    assert client.post(step["Location"], posted)["Location"] == f"/orders/{order.pk}/"
    assert [line.product.code for line in order.lines.order_by("id")] == ["INET", "VPMN"]
    other = CustomerFactory(account_manager=am)
    assert client.get("/orders/new/", {"customer": other.pk, "order": order.pk}).status_code == 404
