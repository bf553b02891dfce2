"""Schemathesis over the whole OpenAPI schema: every documented operation gets generated requests, valid by
the schema and invalid ones, sent by an account manager and by the data steward (session auth through the
real WSGI stack). No answer may be a server error, and answers must match the schema they are documented by.

Bounded in time: MAX_EXAMPLES per operation, derandomized (the same requests on every run, so CI does not
flake on a lucky find; raise MAX_EXAMPLES locally to search harder). Marked `fuzz`: deselect with -m "not fuzz"."""

import os
from types import SimpleNamespace

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from channels.models import Notification
from customers.models import Segment
from opportunities.models import RoutingRule
from orders.models import Product
from tests.customers.factories import ContactFactory, CustomerFactory, SpendFactory, VisitFactory
from tests.opportunities.factories import OpportunityFactory
from tests.test_api_schema import DOCUMENTED_PATHS

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

# KAM_FUZZ_EXAMPLES=500 searches harder, with new random requests on each run (the default run is fixed).
MAX_EXAMPLES = int(os.environ.get("KAM_FUZZ_EXAMPLES", "12"))
DERANDOMIZE = "KAM_FUZZ_EXAMPLES" not in os.environ
OPERATIONS = sorted((path, method) for path, methods in DOCUMENTED_PATHS.items() for method in methods)
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema():
    # The document /api/v1/schema/ serves (public: every operation, whoever asks).
    return schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


@pytest.fixture(scope="module")
def app():
    """Django's own WSGI handler, inside the test's transaction: like Django's test client, it must not close
    the connection at the end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def signed_in(user) -> dict:
    """Session and CSRF cookies and the CSRF header, as a browser sends them."""
    client = Client()
    client.force_login(user)
    csrf = get_token(RequestFactory().get("/"))
    return {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
        "headers": {"X-CSRFToken": csrf},
    }


@pytest.fixture
def world(am, steward, supervisor):
    """One of each object, so detail operations also reach real rows (the other half of the ids are random)."""
    customer = CustomerFactory(account_manager=am, email="", website="")
    contact = ContactFactory(customer=customer)
    visit = VisitFactory(customer=customer, visited_by=am)
    SpendFactory(customer=customer)
    ids = {
        "customers": customer.pk,
        "contacts": contact.pk,
        "visits": visit.pk,
        "segments": Segment.objects.create(name="全部", owner=am, definition={}).pk,
        "products": Product.objects.values_list("pk", flat=True).first() or 1,
        "opportunities": OpportunityFactory(customer=customer, captured_by=am).pk,
        "routing-rules": RoutingRule.objects.values_list("pk", flat=True).first() or 1,
        "notifications": Notification.objects.create(recipient=am, kind="assigned", title="新商机").pk,
    }
    return SimpleNamespace(ids=ids, callers=[signed_in(am), signed_in(steward)])


def _id_for(path: str, ids: dict) -> int | None:
    return ids.get(path.removeprefix("/api/v1/").split("/")[0]) if "{id}" in path else None


@pytest.mark.parametrize("path,method", OPERATIONS)
def test_no_request_makes_a_server_error_or_breaks_the_schema(api_schema, app, world, path, method):
    operation = api_schema[path][method.upper()]
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    known = _id_for(path, world.ids)
    if known is not None:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters={"id": known}))

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=DERANDOMIZE,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        for caller in world.callers:
            response = case.call(app=app, **caller)
            case.validate_response(response, checks=CHECKS)

    run()
