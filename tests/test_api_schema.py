"""The OpenAPI schema documents every customers endpoint and its error answers; the docs page is
self-contained (no CDN: the app runs on intranets)."""

import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

DOCUMENTED_PATHS = {
    "/api/v1/auth/token/": {"post"},
    "/api/v1/auth/logout/": {"post"},
    "/api/v1/auth/tokens/": {"get"},
    "/api/v1/auth/tokens/{prefix}/": {"delete"},
    "/api/v1/auth/tokens/revoke-all/": {"post"},
    "/api/v1/customers/": {"get", "post"},
    "/api/v1/customers/{id}/": {"get", "put", "patch"},
    "/api/v1/customers/{id}/merge/": {"post"},
    "/api/v1/customers/{id}/handover/": {"post"},
    "/api/v1/customers/lookup/": {"get"},
    "/api/v1/customers/export/": {"get"},
    "/api/v1/handovers/": {"post"},
    "/api/v1/contacts/": {"get", "post"},
    "/api/v1/contacts/{id}/": {"get", "put", "patch"},
    "/api/v1/visits/": {"get", "post"},
    "/api/v1/visits/{id}/": {"get"},
    "/api/v1/spend/": {"get", "post"},
    "/api/v1/members/": {"get", "post"},
    "/api/v1/segments/": {"get", "post"},
    "/api/v1/segments/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/segments/{id}/members/": {"get"},
    "/api/v1/segments/{id}/freeze/": {"post"},
    "/api/v1/segments/{id}/export/": {"get"},
    "/api/v1/tier-rules/": {"get", "put", "patch"},
    "/api/v1/tier-changes/": {"get"},
    "/api/v1/tier-changes/{id}/": {"get"},
    "/api/v1/tier-evaluations/": {"get", "post"},
    "/api/v1/tier-evaluations/{id}/": {"get"},
    "/api/v1/products/": {"get"},
    "/api/v1/products/{id}/": {"get"},
    "/api/v1/agreements/": {"get", "post"},
    "/api/v1/agreements/{id}/": {"get", "patch"},
    "/api/v1/agreements/{id}/versions/": {"get"},
    "/api/v1/agreements/{id}/submit/": {"post"},
    "/api/v1/agreements/{id}/approve/": {"post"},
    "/api/v1/agreements/{id}/reject/": {"post"},
    "/api/v1/agreements/{id}/sign/": {"post"},
    "/api/v1/agreements/{id}/activate/": {"post"},
    "/api/v1/agreements/{id}/terminate/": {"post"},
    "/api/v1/tickets/": {"get", "post"},
    "/api/v1/tickets/{id}/": {"get"},
    "/api/v1/tickets/{id}/assign/": {"post"},
    "/api/v1/tickets/{id}/hand-over/": {"post"},
    "/api/v1/tickets/{id}/accept/": {"post"},
    "/api/v1/tickets/{id}/message/": {"post"},
    "/api/v1/tickets/{id}/notes/": {"get", "post"},
    "/api/v1/tickets/{id}/wait/": {"post"},
    "/api/v1/tickets/{id}/resolve/": {"post"},
    "/api/v1/tickets/{id}/refuse/": {"post"},
    "/api/v1/tickets/{id}/close/": {"post"},
    "/api/v1/tickets/{id}/reopen/": {"post"},
    "/api/v1/tickets/{id}/apply/": {"post"},
    "/api/v1/sla-policies/": {"get"},
    "/api/v1/kb/articles/": {"get"},
    "/api/v1/kb/articles/{id}/": {"get"},
    "/api/v1/sla-policies/{id}/": {"get"},
    "/api/v1/subscriptions/": {"get"},
    "/api/v1/subscriptions/{id}/": {"get"},
    "/api/v1/resources/": {"get"},
    "/api/v1/resources/{id}/": {"get"},
    "/api/v1/opportunities/": {"get", "post"},
    "/api/v1/opportunities/{id}/": {"get"},
    "/api/v1/opportunities/{id}/claim/": {"post"},
    "/api/v1/opportunities/{id}/return/": {"post"},
    "/api/v1/opportunities/{id}/dispatch/": {"post"},
    "/api/v1/opportunities/{id}/stage/": {"post"},
    "/api/v1/opportunities/{id}/close/": {"post"},
    "/api/v1/opportunities/{id}/qualify/": {"post"},
    "/api/v1/opportunities/{id}/activities/": {"get", "post"},
    "/api/v1/opportunities/{id}/transfers/": {"get"},
    "/api/v1/routing-rules/": {"get", "post"},
    "/api/v1/routing-rules/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/routing-rules/test/": {"post"},
    "/api/v1/notifications/": {"get"},
    "/api/v1/notifications/{id}/": {"get"},
    "/api/v1/notifications/read/": {"post"},
    "/api/v1/exports/": {"get"},
    "/api/v1/exports/{id}/": {"get"},
    "/api/v1/exports/{id}/download/": {"get"},
    "/api/v1/work-orders/": {"get"},
    "/api/v1/work-orders/{id}/": {"get"},
    "/api/v1/work-orders/{id}/steps/{seq}/claim/": {"post"},
    "/api/v1/work-orders/{id}/steps/{seq}/complete/": {"post"},
    "/api/v1/work-orders/{id}/steps/{seq}/reject/": {"post"},
    "/api/v1/work-orders/{id}/steps/{seq}/block/": {"post"},
    "/api/v1/work-orders/{id}/steps/{seq}/unblock/": {"post"},
    "/api/v1/work-orders/{id}/steps/{seq}/hand-over/": {"post"},
    # order entry
    "/api/v1/orders/": {"get", "post"},
    "/api/v1/orders/{id}/": {"get", "patch"},
    "/api/v1/orders/{id}/submit/": {"post"},
    "/api/v1/orders/{id}/cancel/": {"post"},
    "/api/v1/orders/{id}/approve/": {"post"},
    "/api/v1/orders/{id}/reject/": {"post"},
    "/api/v1/pre-acceptances/": {"get", "post"},
    "/api/v1/pre-acceptances/{id}/convert/": {"post"},
    "/api/v1/pre-acceptances/{id}/refuse/": {"post"},
}


@pytest.fixture
def schema(am):
    client = APIClient()
    client.force_login(am)
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_documents_every_customers_endpoint_and_method(schema):
    documented = {path: set(ops) - {"parameters"} for path, ops in schema["paths"].items()}

    assert documented == DOCUMENTED_PATHS


def test_detail_paths_have_an_integer_id(schema):
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "id" and parameter["in"] == "path":
                    assert parameter["schema"]["type"] == "integer", path


def test_writes_document_their_error_answers(schema):
    paths = schema["paths"]

    assert {"201", "400", "403", "409"} <= set(paths["/api/v1/customers/"]["post"]["responses"])
    assert {"200", "400", "403", "404", "409"} <= set(paths["/api/v1/customers/{id}/"]["patch"]["responses"])
    for path in ("/api/v1/customers/{id}/merge/", "/api/v1/customers/{id}/handover/"):
        assert {"200", "400", "403", "404"} <= set(paths[path]["post"]["responses"]), path
    for path in ("/api/v1/spend/", "/api/v1/members/"):
        assert {"200", "400", "403"} <= set(paths[path]["post"]["responses"]), path
    assert {"201", "400", "403", "409"} <= set(paths["/api/v1/opportunities/"]["post"]["responses"])
    for action in ("claim", "return", "dispatch", "stage", "close", "qualify"):
        path = f"/api/v1/opportunities/{{id}}/{action}/"
        assert {"200", "400", "403", "404", "409"} <= set(paths[path]["post"]["responses"]), path


def test_customer_list_documents_the_search_alias_and_keyset_cursor(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/customers/"]["get"]["parameters"]}

    assert {"q", "search", "tier", "status", "region", "cursor", "page_size"} <= set(parameters)
    # The sorts the keyset can follow, both ways; not the customer code (empty for a moment after an insert).
    sorts = set(parameters["ordering"]["schema"]["items"]["enum"])
    assert {"revenue", "-revenue", "name", "-members_count", "value_score"} <= sorts and "code" not in sorts


def test_schema_validates_without_warnings(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (untyped path parameter, unresolvable field) into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    assert "/api/v1/customers/{id}/merge/" in (tmp_path / "schema.yml").read_text()


def test_docs_page_and_its_script_load_from_this_server_only(am):
    client = APIClient()
    client.force_login(am)

    page = client.get("/api/v1/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//", html), "the page must load nothing from elsewhere"
    assert "<script>" not in html, "inline scripts are blocked by the CSP; the init script must be a URL"
    style_tags = re.findall(r"<style[^>]*>", html)
    assert style_tags, "the page's own inline style is expected (it carries the nonce)"
    for tag in style_tags:
        nonce = re.search(r'nonce="([^"]+)"', tag)
        assert nonce and f"'nonce-{nonce.group(1)}'" in page["Content-Security-Policy"], "inline styles need the nonce"
    sources = re.findall(r"<script src=\"([^\"]+)\"", html)
    assert any("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in src for src in sources)
    init = client.get(next(src for src in sources if src.startswith("/api/v1/docs/")).replace("&amp;", "&"))
    assert init.status_code == 200 and "/api/v1/schema/" in init.content.decode()
    assert not re.search(r"https?://", init.content.decode())


def test_optional_choice_email_and_url_outputs_allow_the_blank_the_api_returns(schema):
    # Given the answers give "" for an empty optional choice, e-mail or URL (blank=True on the model)
    customer = schema["components"]["schemas"]["Customer"]["properties"]

    # Then the schema allows it beside the enum or the format, as it does for the inputs
    assert {"$ref": "#/components/schemas/BlankEnum"} in customer["ownership"]["oneOf"]
    for name in ("email", "website"):
        assert {"type": "string", "maxLength": 0} in customer[name]["oneOf"], name
    assert "oneOf" not in customer["name"] and "minLength" not in customer["name"]


def test_collected_static_files_ship_no_unused_bundle_that_points_elsewhere():
    """The API docs are Swagger UI from this server; ReDoc's bundle (which names files on other servers) is not
    collected at all. Asked as collectstatic asks: every finder's files, less the staticfiles app's patterns."""
    from django.apps import apps
    from django.contrib.staticfiles import finders

    patterns = apps.get_app_config("staticfiles").ignore_patterns
    collected = {path for finder in finders.get_finders() for path, _storage in finder.list(patterns)}

    assert any(path.startswith("drf_spectacular_sidecar/swagger-ui-dist/") for path in collected)
    assert not any(path.startswith("drf_spectacular_sidecar/redoc/") for path in collected)
