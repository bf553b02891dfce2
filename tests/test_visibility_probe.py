"""Every API list and every list page scopes customer-owned rows by the reader's visibility.

The endpoints are discovered from the URL conf, not listed by hand: every router `-list` route under
/api/v1/ and every page that takes no URL argument is requested by people who must not see the account
manager's customer (an outsider of another team, a teammate with his own portfolio, the other team's
supervisor for the supervisor-only pages), and none of the owner's identifying strings may come back.
Roles that see every customer by design (data steward, operations center, analyst, admin) are not readers
here; the pages reserved to them answer 403/404 to the readers, which the probe accepts. A new endpoint is
probed the day it is added.

So that the probe can fail, the owner is shown to find his rows: in every API list that is not on the
short NOT_CUSTOMER_OWNED list (a new list of customer-owned rows needs a row of its kind in the world
below), and on the customer and opportunity pages and the capture page's customer search."""

import json
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from channels.models import ChannelType, Role
from customers.models import TierChange
from opportunities.models import RoutingStatus
from orders.models import Order, OrderLine, PreAcceptance, Product
from tests.channels.factories import UserFactory
from tests.customers.factories import ContactFactory, CustomerFactory, MemberFactory, SpendFactory, VisitFactory
from tests.opportunities.factories import OpportunityFactory
from tests.orders.factories import AgreementFactory, ResourceFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

API_PREFIX = "/api/v1/"

# API lists that hold no customer-owned rows (the outsider is still probed on them).
NOT_CUSTOMER_OWNED = {
    "api-product-list": "the product catalogue is reference data everyone sees",
    "api-routing-rule-list": "routing rules are configuration, not rows of a customer",
    "api-notification-list": "the caller's own inbox: rows of a user, not of a customer",
    "api-tokens-list": "the caller's own API tokens (tests/channels/test_tokens.py checks another person's)",
    "api-export-list": "the caller's own export jobs (tests/customers/test_exports.py checks another person's)",
    "api-segment-list": "segment definitions belong to their author; members need a segment id",
    "api-tier-evaluation-list": "evaluation runs carry counts per run, not customer rows",
    "api-sla-policy-list": "SLA policies are configuration, not rows of a customer",
    "api-kb-article-list": "knowledge articles are reference texts, visible by role (tests/service/test_knowledge.py)",
}

# Pages that are not probed: only what needs a URL of its own (login, admin, the API) is left out.
SKIPPED_PAGE_PREFIXES = ("/api/", "/admin/", "/i18n/", "/login/", "/logout/")

# Answers that may carry no data: a redirect, a refusal, a page the role has no access to, a POST-only URL.
PAGE_STATUSES = {200, 302, 403, 404, 405}


@pytest.fixture
def outside_supervisor(other_team):
    """The outsider's supervisor: opens the supervisor-only pages (handover, coverage) of another team."""
    user = UserFactory(username="outside-sup", role=Role.SUPERVISOR, team=other_team)
    other_team.supervisor = user
    other_team.save()
    return user


@pytest.fixture
def world(am, teammate, outsider, supervisor):
    """The account manager's customer with a row of every customer-owned kind; the outsider and the
    teammate have a customer of their own, so their lists are not empty."""
    customer = CustomerFactory(account_manager=am, name="宁波探针港务集团有限公司", phone="0574-8686 1234")
    contact = ContactFactory(customer=customer, name="欧阳探针", mobile="13957401234", mobile_digits="13957401234")
    visit = VisitFactory(customer=customer, visited_by=am, purpose="探针港务年度拜访")
    visit.contacts.add(contact)
    SpendFactory(customer=customer)
    member = MemberFactory(customer=customer, msisdn="13957409876")
    TierChange.objects.create(
        customer=customer,
        from_tier="B1",
        to_tier="A1",
        is_upgrade=True,
        source=TierChange.Source.MANUAL,
        reason="探针港务升级理由",
        changed_at=timezone.now(),
    )
    opportunity = OpportunityFactory(
        customer=customer,
        contact=contact,
        title="探针港务专线扩容需求",
        routing_status=RoutingStatus.CLAIMED,  # on the owner's desk: "my opportunities" lists it
        assigned_to=am,
        claimed_by=am,
        claimed_at=timezone.now(),
    )
    agreement = AgreementFactory(customer=customer, title="探针港务专线协议")
    work_order = _work_order(customer, am)
    # Order entry: a draft order and a queued pre-acceptance form of the owner's customer.
    order = Order.objects.create(customer=customer, created_by=am, note="探针港务订单")
    PreAcceptance.objects.create(customer=customer, product=Product.objects.get(code="VPMN"),
                                 channel=ChannelType.objects.get(code="group_hotline"), details="探针港务预受理",
                                 submitted_by=am)  # fmt: skip
    OrderLine.objects.create(order=order, product=Product.objects.get(code="VPMN"), unit_price=0)
    for user, name in ((outsider, "温州外部贸易有限公司"), (teammate, "宁波同组物流有限公司")):
        theirs = CustomerFactory(account_manager=user, name=name)
        ContactFactory(customer=theirs)
        VisitFactory(customer=theirs, visited_by=user)
        OpportunityFactory(customer=theirs)
    from service.models import Ticket

    ticket = Ticket.objects.create(customer=customer, kind="complaint", subject="探针港务投诉", owner=am,
                                   created_by=am, created_at=timezone.now(), number="TK-PROBE-1")  # fmt: skip
    subscription = SubscriptionFactory(customer=customer, service_id="TZ-PROBE-SV-1")
    ResourceFactory(identifier="TZ-PROBE-CIR-1", status="in_use", subscription=subscription)
    customer.refresh_from_db()
    return SimpleNamespace(
        customer=customer,
        markers=[
            customer.name,
            customer.code,
            contact.name,
            contact.mobile,
            visit.purpose,
            member.msisdn,
            "探针港务升级理由",
            opportunity.title,
            agreement.title,
            subscription.service_id,
            "TZ-PROBE-CIR-1",
            work_order.number,
            ticket.subject,
        ],
    )


def _work_order(customer, am):
    """A work order of the customer (the work-orders API list), numbered like the service numbers them."""
    from orders.models import Order, OrderLine, Product, WorkOrder, WorkStep
    from tests.orders.factories import WorkstationFactory

    order = Order.objects.create(customer=customer, created_by=am, status=Order.Status.IN_PROGRESS)
    line = OrderLine.objects.create(order=order, product=Product.objects.get(code="INET"), unit_price=1000)
    work_order = WorkOrder.objects.create(order_line=line, customer=customer, number="WO99887766")
    WorkStep.objects.create(work_order=work_order, customer=customer, sequence=1, name="探针勘察",
                            workstation=WorkstationFactory(), status=WorkStep.Status.READY)  # fmt: skip
    return work_order


def traces(world, response) -> list[str]:
    """What of the owner's data a response shows: his strings, and his customer's id in a `customer` field."""
    if response.streaming:
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    found = []
    if response.get("Content-Type", "").startswith("application/json") and body:
        data = json.loads(body)
        text = json.dumps(data, ensure_ascii=False)
        if _names_customer(data, world.customer.pk):
            found.append(f"customer={world.customer.pk}")
    else:
        text = body.decode("utf-8", errors="replace")
    return found + [marker for marker in world.markers if marker in text]


def _names_customer(data, pk: int) -> bool:
    if isinstance(data, list):
        return any(_names_customer(item, pk) for item in data)
    if isinstance(data, dict):
        value = data.get("customer")
        if value == pk or (isinstance(value, dict) and value.get("id") == pk):
            return True
        return any(_names_customer(item, pk) for item in data.values())
    return False


def no_argument_routes(resolver=None, prefix: str = "/", namespace: str = ""):
    """(path, qualified name) of every route of the URL conf that takes no argument."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if entry.pattern.regex.groups:
            continue
        path = prefix + str(entry.pattern).lstrip("^").rstrip("$")
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from no_argument_routes(entry, path, inner)
        elif isinstance(entry, URLPattern):
            yield path, f"{namespace}{entry.name}" if entry.name else ""


def api_lists() -> list[tuple[str, str]]:
    return [
        (path, name) for path, name in no_argument_routes() if path.startswith(API_PREFIX) and name.endswith("-list")
    ]


def pages() -> list[str]:
    return sorted({path for path, _name in no_argument_routes() if not path.startswith(SKIPPED_PAGE_PREFIXES)})


def logged_in(client_class, user):
    client = client_class(raise_request_exception=False)
    client.force_login(user)
    return client


def test_no_api_list_shows_the_owners_rows_to_someone_else(world, outsider, teammate, outside_supervisor):
    failures = []
    for user in (outsider, teammate, outside_supervisor):
        client = logged_in(APIClient, user)
        for path, _name in api_lists():
            response = client.get(path)
            if response.status_code not in (200, 403):
                failures.append(f"{path} as {user.username}: status {response.status_code}")
            elif found := traces(world, response):
                failures.append(f"{path} as {user.username}: shows {found}")
    assert not failures, "API lists leak the owner's rows:\n" + "\n".join(failures)


def test_the_owner_finds_his_rows_in_every_customer_owned_api_list(world, am):
    lists = dict((name, path) for path, name in api_lists())
    assert {"api-customer-list", "api-contact-list", "api-visit-list", "api-opportunity-list"} <= lists.keys()
    assert NOT_CUSTOMER_OWNED.keys() <= lists.keys(), "NOT_CUSTOMER_OWNED names an endpoint that no longer exists"
    client = logged_in(APIClient, am)
    missing = []
    for name, path in sorted(lists.items()):
        if name in NOT_CUSTOMER_OWNED:
            continue
        response = client.get(path)
        if response.status_code != 200 or not traces(world, response):
            missing.append(f"{path} ({name}): status {response.status_code}, none of the owner's rows")
    assert not missing, (
        "The probe cannot tell these lists are scoped: give the world fixture a row of their kind, or put them on "
        "NOT_CUSTOMER_OWNED with the reason:\n" + "\n".join(missing)
    )


def searches(world) -> dict[str, dict]:
    """Pages that search by a query parameter, probed with a term that finds the owner's customer. The term
    itself is none of the markers (the page echoes it), except on the duplicate check, which echoes nothing
    and must count, not name, the likely duplicates in other portfolios."""
    return {
        "/customers/": {"q": "探针港务"},
        "/customers/lookup/": {"phone": "0574-8686 1234"},
        "/customers/merge/": {"q": "探针港务"},
        "/opportunities/new/customers/": {"customer_q": "探针港务"},
        "/orders/new/": {"q": "探针港务"},
        "/orders/pre-acceptance/new/": {"q": "探针港务"},
        "/customers/duplicate-check/": {"name": world.customer.name, "phone": "0574-8686 1234"},
    }


def test_no_page_shows_the_owners_rows_to_someone_else(world, outsider, teammate, outside_supervisor):
    found_pages = pages()
    assert {"/customers/", "/opportunities/"} <= set(found_pages)
    requests = [(path, {}) for path in found_pages] + list(searches(world).items())
    failures = []
    for user in (outsider, teammate, outside_supervisor):
        client = logged_in(Client, user)
        for path, params in requests:
            response = client.get(path, params)
            label = f"{path}?{'&'.join(f'{k}={v}' for k, v in params.items())}" if params else path
            if response.status_code not in PAGE_STATUSES:
                failures.append(f"{label} as {user.username}: status {response.status_code}")
            elif found := traces(world, response):
                failures.append(f"{label} as {user.username}: shows {found}")
    assert not failures, "Pages leak the owner's rows:\n" + "\n".join(failures)


def test_the_owner_finds_his_rows_on_the_customer_and_opportunity_pages(world, am):
    client = logged_in(Client, am)
    customer, title = world.customer.name, "探针港务专线扩容需求"
    assert customer in traces(world, client.get("/customers/"))
    assert customer in traces(world, client.get("/customers/", searches(world)["/customers/"]))
    assert title in traces(world, client.get("/opportunities/"))
    assert customer in traces(world, client.get("/opportunities/new/customers/", {"customer_q": "探针港务"}))
