"""`/api/v1/agreements/`: drafting with field errors, the life cycle through the actions, versions with their
diff, filters, visibility (hidden → 404) and a list whose queries do not grow with the rows."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from orders.models import Agreement, Product
from orders.services import agreements as svc
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/agreements/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def customer(am):
    return CustomerFactory(account_manager=am, name="宁波协议接口集团有限公司")


def body(customer, **extra):
    data = {
        "customer": customer.pk, "title": "接口协议", "term_months": 12, "discount_cap": "10",
        "items": [{"product": "INET", "unit_price": "3500", "discount": "5"}],
    }  # fmt: skip
    return {**data, **extra}


def create(user, customer, **extra):
    response = api(user).post(URL, body(customer, **extra), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_answers_400_naming_every_violated_term(customer, am):
    response = api(am).post(
        URL, body(customer, term_months=121, items=[{"product": "INET", "unit_price": "90", "discount": "12"}]),
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["term_months"] == ["The term is 1 to 120 months (given: 121)."]
    assert errors["items"] == [
        "Price 90.00 is below the list price range 3000.00–8000.00 of INET.",
        "Discount 12.00% on INET is above the agreement's discount cap 10.00%.",
    ]
    assert not Agreement.objects.exists()


def test_create_refuses_bad_shapes_with_field_errors(customer, am):
    response = api(am).post(
        URL, body(customer, title=123, discount_cap="abc", items=[{"product": "NOPE", "unit_price": "-1"}]),
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert {"title", "discount_cap", "items"} <= set(response.json()["errors"])


def test_the_life_cycle_through_the_actions(customer, am, supervisor):
    created = create(am, customer, editors=[supervisor.pk])
    assert created["status"] == "draft" and created["number"] is None and created["version"] == 1
    assert created["items"] == [
        {"product": "INET", "unit_price": "3500.00", "discount": "5.00", "max_quantity": None, "note": ""}
    ]
    assert created["editors"] == [{"id": supervisor.pk, "name": str(supervisor)}]
    pk = created["id"]

    assert api(am).post(f"{URL}{pk}/submit/").json()["status"] == "in_approval"
    assert api(am).post(f"{URL}{pk}/approve/").status_code == 403  # the drafter is not the approver
    assert api(supervisor).post(f"{URL}{pk}/approve/", {"note": "同意"}, format="json").status_code == 200
    again = api(supervisor).post(f"{URL}{pk}/approve/")
    assert again.status_code == 409 and again.json()["detail"] == "It is already approved."
    assert api(am).post(f"{URL}{pk}/sign/", {"signed_on": "2099-01-01"}, format="json").status_code == 400
    assert api(am).post(f"{URL}{pk}/sign/").json()["status"] == "signed"
    done = api(am).post(f"{URL}{pk}/activate/", {"starts_on": "2027-01-01"}, format="json").json()

    assert done["status"] == "effective" and done["number"] == f"AG{pk:08d}"
    assert (done["starts_on"], done["ends_on"]) == ("2027-01-01", "2027-12-31")
    assert api(am).post(f"{URL}{pk}/submit/").status_code == 409


def test_an_effective_change_by_an_editor_shows_in_the_versions(customer, am, supervisor):
    pk = create(am, customer, editors=[supervisor.pk])["id"]
    agreement = Agreement.objects.get(pk=pk)
    svc.agreement_submit(agreement, by=am)
    svc.agreement_approve(agreement, by=supervisor)
    svc.agreement_sign(agreement, by=am)
    svc.agreement_activate(agreement, by=am)

    refused = api(am).patch(f"{URL}{pk}/", {"reason": "调价", "discount_cap": "8"}, format="json")
    no_reason = api(supervisor).patch(f"{URL}{pk}/", {"discount_cap": "8"}, format="json")
    changed = api(supervisor).patch(f"{URL}{pk}/", {"reason": "调价", "discount_cap": "8"}, format="json")

    assert refused.status_code == 403
    assert no_reason.status_code == 400 and list(no_reason.json()["errors"]) == ["reason"]
    assert changed.status_code == 200 and changed.json()["version"] == 2
    versions = api(am).get(f"{URL}{pk}/versions/").json()["results"]
    assert [(v["version"], v["changed_by"], v["reason"]) for v in versions] == [
        (2, str(supervisor), "调价"),
        (1, str(am), "Became effective"),
    ]
    assert versions[0]["changes"] == {"discount_cap": ["10.00", "8.00"]}


def test_filters_by_customer_status_and_expiry(customer, am, supervisor):
    other = CustomerFactory(account_manager=am)
    draft_pk = create(am, customer)["id"]
    other_pk = create(am, other)["id"]
    soon = Agreement.objects.get(pk=other_pk)
    Agreement.objects.filter(pk=other_pk).update(
        status="effective", number=f"AG{other_pk:08d}", ends_on=datetime.date.today() + datetime.timedelta(days=30)
    )
    client = api(am)

    def ids(**params):
        response = client.get(URL, params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(customer=customer.pk) == {draft_pk}
    assert ids(status="effective") == {soon.pk}
    assert ids(expiring_within=29) == set() and ids(expiring_within=30) == {soon.pk}
    assert client.get(URL, {"expiring_within": "-1"}).status_code == 400


def test_outsiders_get_404_on_the_agreement_and_every_action(customer, am, outsider):
    pk = create(am, customer)["id"]
    client = api(outsider)

    assert client.get(f"{URL}{pk}/").status_code == 404
    assert client.get(f"{URL}{pk}/versions/").status_code == 404
    assert client.patch(f"{URL}{pk}/", {"title": "x"}, format="json").status_code == 404
    for action in ("submit", "approve", "reject", "sign", "activate", "terminate"):
        assert client.post(f"{URL}{pk}/{action}/", {"reason": "x"}, format="json").status_code == 404
    assert client.get(URL).json()["results"] == []
    creating = client.post(URL, body(customer), format="json")
    assert creating.status_code == 400 and "customer" in creating.json()["errors"]


def test_the_list_runs_the_same_queries_for_more_rows(customer, am):
    client = api(am)
    create(am, customer)
    client.get(URL)  # warm the session and the per-request caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(URL).status_code == 200
    for _ in range(4):
        create(am, CustomerFactory(account_manager=am))
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(URL).json()["results"]) == 5

    assert len(five.captured_queries) == len(one.captured_queries)


def test_the_product_codes_are_the_catalogues(customer, am):
    """A retired product cannot be put on a new agreement."""
    Product.objects.filter(code="INET").update(is_active=False)

    response = api(am).post(URL, body(customer), format="json")

    assert response.status_code == 400 and "items" in response.json()["errors"]
