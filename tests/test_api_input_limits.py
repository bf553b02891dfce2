"""Hostile input answers in the API's one error format, never a 500 or an HTML page: deeply nested JSON,
control characters in text, ids and numbers beyond the database's integers, unknown API paths, bodies over
the upload limit, OPTIONS on every route."""

import base64
import importlib
import inspect

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.test import APIClient

from kam.validators import refuse_control_characters
from tests.customers.factories import CustomerFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"
NESTED = "[" * 1500 + "]" * 1500  # 3 KB that Python's json module cannot decode (RecursionError)
TOO_BIG = 10**20  # beyond PostgreSQL's bigint and SQLite's INTEGER


@pytest.fixture
def api():
    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return make


def assert_error_format(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --- nested JSON ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["auth/token/", "spend/", "customers/", "segments/"])
def test_deeply_nested_json_is_a_400_before_and_after_login(api, admin_user, path):
    for client in (api(), api(admin_user)):
        response = client.post(API + path, data=NESTED, content_type="application/json")

        if response.status_code in (401, 403):  # the anonymous caller of a protected route
            continue
        body = assert_error_format(response, 400)
        assert "nested" in body["detail"]


def test_nesting_up_to_the_bound_is_still_parsed(api, admin_user):
    nested_filter = {"tier": ["A"]}
    for _ in range(10):
        nested_filter = {"x": nested_filter}

    response = api(admin_user).post(API + "segments/", data={"name": "深", "definition": nested_filter}, format="json")

    assert response.status_code == 400  # parsed, then refused by the segment criteria, not by the parser
    assert "nested" not in response.json()["detail"]


def test_the_token_view_still_takes_a_form(api, am):
    am.set_password("s3cret-pass-word")
    am.save()

    response = api().post(API + "auth/token/", data={"username": "am", "password": "s3cret-pass-word"})

    assert response.status_code == 200 and response.json()["token"]


# --- control characters --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["\x07", "\x1b[31m", "\x7f", "\x0b"])
def test_control_characters_in_a_customer_name_are_a_400_naming_the_field(api, am, bad):
    response = api(am).post(API + "customers/", data={"name": f"北京{bad}工商银行"}, format="json")

    body = assert_error_format(response, 400)
    assert body["errors"]["name"] == ["Remove the control characters (such as ESC or BEL) from this text."]


def test_tabs_and_line_breaks_stay_allowed(api, am):
    response = api(am).post(
        API + "customers/",
        data={"name": "杭州\t西湖科技有限公司", "main_business": "软件\r\n硬件\n服务"},
        format="json",
    )

    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "path,payload,field",
    [
        ("customers/", {"name": "北京工商银行", "email": '"\x07"@example.com'}, "email"),
        ("customers/", {"name": "北京工商银行", "website": "https://example.com/\x1b"}, "website"),
        ("segments/", {"name": "大客户\x07"}, "name"),
        ("segments/", {"name": "大客户", "description": "\x1b"}, "description"),
        ("opportunities/", {"kind": "lead", "title": "专线\x07", "prospect_name": "新客户"}, "title"),
        ("routing-rules/", {"name": "规则\x07", "target": "operations_center"}, "name"),
    ],
)
def test_every_text_input_refuses_control_characters(api, admin_user, path, payload, field):
    response = api(admin_user).post(API + path, data=payload, format="json")

    body = assert_error_format(response, 400)
    assert field in body["errors"], body


SERIALIZER_MODULES = [
    "customers.api.serializers", "customers.api.segments", "customers.api.tiering",
    "opportunities.api.serializers", "channels.api.serializers", "orders.api.serializers",
]  # fmt: skip


def _text_inputs(field, name):
    """(name, field) of every writable string field in a serializer field, nested ones included."""
    if getattr(field, "read_only", False):
        return
    if isinstance(field, serializers.CharField):
        yield name, field
    elif isinstance(field, (serializers.ListField, serializers.ListSerializer)):
        yield from _text_inputs(field.child, f"{name}[]")
    elif isinstance(field, serializers.Serializer):
        for child_name, child in field.fields.items():
            yield from _text_inputs(child, f"{name}.{child_name}")


def test_every_text_input_of_the_api_refuses_control_characters():
    # The request bodies are the schema's "<Name>Request" components, one per serializer <Name>Serializer.
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    inputs = {name.removesuffix("Request") + "Serializer" for name in components if name.endswith("Request")}
    checked, unguarded = set(), []
    for module in map(importlib.import_module, SERIALIZER_MODULES):
        for name, serializer in inspect.getmembers(module, inspect.isclass):
            if name in inputs and issubclass(serializer, serializers.Serializer):
                checked.add(name)
                for field_name, field in _text_inputs(serializer(), name):
                    if refuse_control_characters not in field.validators:
                        unguarded.append(field_name)

    assert not unguarded
    assert {"CustomerInputSerializer", "SegmentInputSerializer", "OpportunityInputSerializer"} <= checked


# --- numbers beyond the database's integers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "contacts/?customer=1e20",
        "visits/?customer=1e20",
        "spend/?customer=99999999999999999999",
        "members/?customer=-1",
        "customers/?parent=1234567890123456789012345",
        "tier-changes/?customer=1e20",
        "opportunities/?customer=1e20",
        "opportunities/?assigned_to=%C2%B9",  # "¹": str.isdigit() says yes, int() says no
        "opportunities/?captured_by=99999999999999999999",
    ],
)
def test_an_id_filter_out_of_range_is_a_400_naming_the_filter(api, steward, query):
    response = api(steward).get(API + query)

    body = assert_error_format(response, 400)
    name = query.split("?")[1].split("=")[0]
    assert name in body["errors"], body


def test_an_id_filter_in_range_still_filters(api, am):
    customer = CustomerFactory(account_manager=am)
    child = CustomerFactory(account_manager=am, parent=customer)

    response = api(am).get(API + f"customers/?parent={customer.pk}")

    assert [row["id"] for row in response.json()["results"]] == [child.pk]


def test_huge_integers_in_bodies_are_a_400_naming_the_field(api, am, admin_user):
    customer = api(am).post(API + "customers/", data={"name": "北京工商银行", "employees": TOO_BIG}, format="json")
    spend = api(admin_user).post(
        API + "spend/",
        data=[{"customer": TOO_BIG, "month": "2026-01", "category": "voice", "amount": "1.00"}],
        format="json",
    )
    spend_float = api(admin_user).post(
        API + "spend/", data='[{"customer": 1e20, "month": "2026-01", "category": "voice", "amount": 1}]',
        content_type="application/json",
    )  # fmt: skip
    rule = api(admin_user).post(
        API + "routing-rules/", data={"name": "大", "target": "operations_center", "priority": 2**31}, format="json"
    )

    assert "employees" in assert_error_format(customer, 400)["errors"]
    assert "customer" in assert_error_format(spend, 400)["errors"]["rows"]["0"]
    assert "customer" in assert_error_format(spend_float, 400)["errors"]["rows"]["0"]
    assert "priority" in assert_error_format(rule, 400)["errors"]


def test_a_segment_count_criterion_beyond_the_column_is_a_400_naming_it(api, am):
    definition = {"members_min": TOO_BIG}

    response = api(am).post(API + "segments/", data={"name": "大", "definition": definition}, format="json")

    assert "members_min" in assert_error_format(response, 400)["errors"]["definition"]


@pytest.mark.parametrize(
    "query",
    ["opportunities/?created_from=0001-01-01", "opportunities/?created_to=9999-12-31",
     "tier-changes/?month=0001-01", "tier-changes/?month=9999-12"],
)  # fmt: skip
def test_a_date_filter_at_the_ends_of_the_calendar_filters_without_an_error(api, am, query):
    # Midnight of 0001-01-01 in Shanghai is in year 0 in UTC; the day after 9999-12-31 does not exist.
    response = api(am).get(API + query)

    assert response.status_code == 200


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00", "0001-01-01T07:59:59+08:00", "9999-12-31T23:00:00-08:00"])
def test_a_time_that_cannot_be_stored_in_utc_is_a_400_naming_the_field(api, am, at):
    opportunity = OpportunityFactory(customer=CustomerFactory(account_manager=am), captured_by=am)

    response = api(am).post(API + f"opportunities/{opportunity.pk}/activities/", {"notes": "拜访", "at": at})

    assert "at" in assert_error_format(response, 400)["errors"]


@pytest.mark.parametrize("position", ["abc", "1e5", "%00", "99999999999999999999"])
def test_a_forged_cursor_is_refused_like_any_invalid_cursor(api, am, position):
    cursor = base64.b64encode(f"p={position}".encode()).decode()

    for path in ("customers/", "contacts/", "opportunities/", "notifications/", "segments/"):
        body = assert_error_format(api(am).get(API + path, {"cursor": cursor}), 404)
        assert body["detail"] == "Invalid cursor"


# --- unknown paths, big bodies, OPTIONS ----------------------------------------------------------------------


@pytest.mark.parametrize("user", [None, "am"])
def test_an_unknown_api_path_is_a_json_404(api, request, user):
    client = api(request.getfixturevalue(user) if user else None)

    for path in ("/api/v1/no-such-thing/", "/api/v1/customers/1/no-such-action/", "/api/v2/"):
        assert_error_format(client.get(path), 404)


def test_an_unknown_page_keeps_the_html_404(api, am):
    response = api(am).get("/no-such-page/")

    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_a_body_over_the_upload_limit_is_a_json_413(api, admin_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    rows = [{"customer": 1, "month": "2026-01", "category": "voice", "amount": "1.00"}] * 50

    response = api(admin_user).post(API + "spend/", data=rows, format="json")

    assert assert_error_format(response, 413)["detail"] == "The request body is too large (at most 1000 bytes)."


def test_a_form_with_too_many_fields_is_a_json_400(api, admin_user, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10

    response = api(admin_user).post(API + "customers/", data={f"f{n}": "x" for n in range(20)})

    assert assert_error_format(response, 400)["detail"] == "The request has too many fields or files."


def test_options_answers_on_every_documented_route(api, admin_user):
    client = api(admin_user)
    schema = client.get(API + "schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    for path in schema["paths"]:
        response = client.options(path.replace("{id}", "1"))

        assert response.status_code < 500, path
