"""Product catalogue API: read-only reference data for every signed-in user."""

import pytest
from rest_framework.test import APIClient

from orders.models import Product
from tests.orders.factories import ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


def test_anonymous_callers_get_401_for_list_and_detail():
    inet = Product.objects.get(code="INET")

    assert api().get(PRODUCTS).status_code == 401
    assert api().get(f"{PRODUCTS}{inet.pk}/").status_code == 401


@pytest.mark.parametrize("persona", ["am", "outsider", "agent", "analyst", "dispatcher", "steward"])
def test_every_role_reads_the_whole_catalogue(request, persona):
    response = api(request.getfixturevalue(persona)).get(PRODUCTS, {"page_size": 200})

    assert codes(response) == set(Product.objects.values_list("code", flat=True))


def test_list_pages_with_the_project_cursor(am):
    body = api(am).get(PRODUCTS).json()

    assert len(body["results"]) == 25 and body["next"] and "cursor=" in body["next"]


def test_retrieve_gives_the_products_fields(am):
    inet = Product.objects.get(code="INET")

    body = api(am).get(f"{PRODUCTS}{inet.pk}/").json()

    assert body["code"] == "INET" and body["name_en"] == "Dedicated internet access"
    assert body["provisioning_type"] == "work_order" and body["category"] == "专线"
    assert (body["list_price_min"], body["list_price_max"]) == ("3000.00", "8000.00")
    assert body["needs_contract"] is True and body["min_contract_months"] == 12


def test_unknown_product_is_404(am):
    assert api(am).get(f"{PRODUCTS}999999/").status_code == 404


def test_filters_by_category_legacy_provisioning_and_active(am):
    retired = ProductFactory(code="TOLD", is_active=False)
    client = api(am)

    lines = codes(client.get(PRODUCTS, {"category": "专线", "page_size": 200}))
    current_lines = codes(client.get(PRODUCTS, {"category": "专线", "legacy": "false", "page_size": 200}))
    reviews = codes(client.get(PRODUCTS, {"provisioning_type": "platform_review", "page_size": 200}))
    inactive = codes(client.get(PRODUCTS, {"is_active": "false"}))

    assert lines == {"INET", "DATA", "MPLS", "DDN", "FR", "ATM", "DC"}
    assert current_lines == {"INET", "DATA", "MPLS"}
    assert reviews == {"SWBD", "N400", "GMMS", "APN", "EDU", "FLEET"}
    assert inactive == {retired.code}


def test_unknown_provisioning_type_is_a_400_naming_the_field(am):
    response = api(am).get(PRODUCTS, {"provisioning_type": "carrier_pigeon"})

    assert response.status_code == 400
    assert "provisioning_type" in response.json()["errors"]


@pytest.mark.parametrize(
    ("term", "expected"),
    [("inet", {"INET"}), ("专线", {"INET", "DATA", "MPLS", "ATM"}), ("leased", {"DATA", "DC"})],
)
def test_search_matches_code_chinese_or_english_name(am, term, expected):
    assert codes(api(am).get(PRODUCTS, {"search": term, "page_size": 200})) == expected


@pytest.mark.parametrize(("method", "detail"), [("post", False), ("put", True), ("patch", True), ("delete", True)])
def test_no_one_writes_through_the_api(admin_user, method, detail):
    inet = Product.objects.get(code="INET")
    url = f"{PRODUCTS}{inet.pk}/" if detail else PRODUCTS

    response = getattr(api(admin_user), method)(url, {"code": "NEW", "name": "新产品"}, format="json")

    assert response.status_code == 405
    assert Product.objects.filter(code="INET").exists() and not Product.objects.filter(code="NEW").exists()


@pytest.mark.parametrize("extra", [3, 30])
def test_list_query_count_does_not_grow_with_rows(am, extra, django_assert_max_num_queries):
    ProductFactory.create_batch(extra)
    client = api(am)

    with django_assert_max_num_queries(3):
        response = client.get(PRODUCTS, {"page_size": 200})

    assert len(response.json()["results"]) == Product.objects.count()
