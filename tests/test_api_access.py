"""Who may see and do what through the customers API (the IDOR matrix).

Every route is probed by someone allowed to use it and by people who must not see the object: an
outsider (another team) and a teammate (same team, different account manager) get 404 for the ids
and find none of them in lists. Roles that may see but not change get 403; anonymous callers get nothing."""

import re
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from customers.api.serializers import CONTACT_OUTPUT_FIELDS, CUSTOMER_FINANCE_OUTPUT_FIELDS, CUSTOMER_OUTPUT_FIELDS
from customers.models import Contact, Customer, MergeRecord, SpendRecord, Visit
from tests.customers.factories import ContactFactory, CustomerFactory, MemberFactory, SpendFactory, VisitFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def world(am, teammate, outsider, supervisor):
    """The account manager's customer with everything hanging off it, plus a teammate's and an outsider's."""
    customer = CustomerFactory(account_manager=am, name="宁波北仑港务有限公司", phone="0574-8686 1234")
    contact = ContactFactory(customer=customer, mobile="137 1234 5678", mobile_digits="13712345678")
    visit = VisitFactory(customer=customer, visited_by=am)
    visit.contacts.add(contact)
    return SimpleNamespace(
        customer=customer,
        contact=contact,
        visit=visit,
        spend=SpendFactory(customer=customer),
        member=MemberFactory(customer=customer),
        spare=CustomerFactory(account_manager=am, name="宁波北仑物流有限公司"),
        mates=CustomerFactory(account_manager=teammate),
        foreign=CustomerFactory(account_manager=outsider),
    )


# (method, url, payload, persona allowed to do it) for every route that names one object.
OBJECT_ROUTES = {
    "customer detail": ("get", "customers/{customer}/", None, "am"),
    "customer patch": ("patch", "customers/{customer}/", {"employees": 99}, "am"),
    "customer put": ("put", "customers/{customer}/", {"name": "宁波北仑港务有限公司", "employees": 99}, "am"),
    "customer merge": ("post", "customers/{customer}/merge/", {"duplicate": "{spare}"}, "steward"),
    "customer handover": ("post", "customers/{customer}/handover/", {"to_user": "{teammate}", "reason": "调岗"},
                          "supervisor"),
    "contact detail": ("get", "contacts/{contact}/", None, "am"),
    "contact patch": ("patch", "contacts/{contact}/", {"title": "总监"}, "am"),
    "contact put": ("put", "contacts/{contact}/", {"name": "张三"}, "am"),
    "visit detail": ("get", "visits/{visit}/", None, "am"),
}  # fmt: skip


def _fill(value, ids: dict):
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("{"):
        return ids[value.strip("{}")]
    return value


def _request(client, route: str, world, teammate):
    method, url, payload, _persona = OBJECT_ROUTES[route]
    ids = {"customer": world.customer.pk, "contact": world.contact.pk, "visit": world.visit.pk,
           "spare": world.spare.pk, "teammate": teammate.pk}  # fmt: skip
    return getattr(client, method)(API + url.format(**ids), _fill(payload, ids), format="json")


def _snapshot(world) -> tuple:
    customer = Customer.objects.get(pk=world.customer.pk)
    contact = Contact.objects.get(pk=world.contact.pk)
    return (
        customer.employees,
        customer.account_manager_id,
        customer.status,
        contact.title,
        MergeRecord.objects.count(),
    )


@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_the_permitted_person_succeeds_on_every_object_route(request, world, teammate, route):
    persona = request.getfixturevalue(OBJECT_ROUTES[route][3])

    response = _request(client_for(persona), route, world, teammate)

    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("intruder", ["outsider", "teammate"])
@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_other_account_managers_get_404_and_change_nothing(request, world, teammate, route, intruder):
    before = _snapshot(world)

    response = _request(client_for(request.getfixturevalue(intruder)), route, world, teammate)

    assert response.status_code == 404
    assert _snapshot(world) == before


LISTS = ["customers/", "contacts/", "visits/", "spend/", "members/"]


def _ids(client, url: str, **params) -> set[int]:
    response = client.get(API + url, {"page_size": 200, **params})
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("url", LISTS)
def test_lists_show_the_owner_their_rows_and_others_none_of_them(world, am, outsider, teammate, url):
    mine = {
        "customers/": {world.customer.pk, world.spare.pk},
        "contacts/": {world.contact.pk},
        "visits/": {world.visit.pk},
        "spend/": {world.spend.pk},
        "members/": {world.member.pk},
    }[url]

    assert _ids(client_for(am), url) >= mine
    for intruder in (outsider, teammate):
        client = client_for(intruder)
        assert not _ids(client, url) & mine
        if url != "customers/":
            # asking for the customer by id gives the same empty answer as an id that does not exist
            assert _ids(client, url, customer=world.customer.pk) == set() == _ids(client, url, customer=10**9)


def test_supervisor_sees_the_teams_customers_but_not_other_teams(world, supervisor):
    ids = _ids(client_for(supervisor), "customers/")

    assert {world.customer.pk, world.spare.pk, world.mates.pk} <= ids
    assert world.foreign.pk not in ids


def test_caller_lookup_only_finds_customers_the_caller_may_see(world, am, outsider, teammate, agent):
    for user, expected in ((am, [world.customer.pk]), (agent, [world.customer.pk]), (outsider, []), (teammate, [])):
        for phone in ("+86 137-1234-5678", "0574 8686 1234"):
            body = client_for(user).get(API + "customers/lookup/", {"phone": phone}).json()
            assert [m["customer"]["id"] for m in body] == expected, (user, phone)


@pytest.mark.parametrize(
    "url, payload",
    [
        ("contacts/", {"customer": "{id}", "name": "张三"}),
        ("visits/", {"customer": "{id}", "visited_on": "2026-11-01", "purpose": "拜访"}),
        ("customers/", {"name": "宁波镇海石化有限公司", "parent": "{id}", "confirm_not_duplicate": True}),
    ],
)
def test_referencing_another_persons_customer_fails_like_an_id_that_does_not_exist(world, outsider, url, payload):
    client = client_for(outsider)

    def attempt(pk):
        response = client.post(API + url, {k: (pk if v == "{id}" else v) for k, v in payload.items()}, format="json")
        return response.status_code, re.sub(r"\d+", "N", str(response.json()["errors"]))

    assert attempt(world.customer.pk) == attempt(10**9)
    assert attempt(world.customer.pk)[0] == 400
    assert not Contact.objects.filter(name="张三").exists() and Visit.objects.count() == 1


def test_merge_with_a_duplicate_the_caller_cannot_see_is_refused(world, am):
    response = client_for(am).post(
        f"{API}customers/{world.customer.pk}/merge/", {"duplicate": world.foreign.pk}, format="json"
    )

    assert response.status_code == 400 and "duplicate" in response.json()["errors"]


# --- field-level policy -------------------------------------------------------------------------------------

SERVICE_CUSTOMER_KEYS = (
    set(CUSTOMER_OUTPUT_FIELDS) - set(Customer.SENSITIVE_FIELDS) - set(CUSTOMER_FINANCE_OUTPUT_FIELDS)
)
SERVICE_CONTACT_KEYS = set(CONTACT_OUTPUT_FIELDS) - set(Contact.SENSITIVE_FIELDS)


@pytest.mark.parametrize(
    "persona, full",
    [("am", True), ("supervisor", True), ("steward", True), ("analyst", True), ("dispatcher", True),
     ("admin_user", True), ("agent", False)],
)  # fmt: skip
def test_each_role_gets_exactly_its_keys_in_lists_and_details(request, world, persona, full):
    client = client_for(request.getfixturevalue(persona))
    customer_keys = set(CUSTOMER_OUTPUT_FIELDS) if full else SERVICE_CUSTOMER_KEYS
    contact_keys = set(CONTACT_OUTPUT_FIELDS) if full else SERVICE_CONTACT_KEYS

    assert set(client.get(f"{API}customers/{world.customer.pk}/").json()) == customer_keys
    assert set(client.get(f"{API}customers/").json()["results"][0]) == customer_keys
    assert set(client.get(f"{API}contacts/{world.contact.pk}/").json()) == contact_keys
    assert set(client.get(f"{API}contacts/").json()["results"][0]) == contact_keys


def test_agent_service_view_leaves_out_every_sensitive_field(world, agent):
    body = client_for(agent).get(f"{API}customers/{world.customer.pk}/").json()

    assert not set(body) & set(Customer.SENSITIVE_FIELDS)
    assert {"annual_budget", "attitude", "telecom_budget"} <= set(Customer.SENSITIVE_FIELDS)


# --- read-only roles -------------------------------------------------------------------------------------------


def _writes(world, teammate, am):
    return [
        ("post", "customers/", {"name": "舟山定海渔业有限公司", "confirm_not_duplicate": True}),
        ("post", "customers/", {"name": 1}),  # refused for the role before the input is even read
        ("patch", f"customers/{world.customer.pk}/", {"employees": 1}),
        ("put", f"customers/{world.customer.pk}/", {"name": "x"}),
        ("post", f"customers/{world.customer.pk}/merge/", {"duplicate": world.spare.pk}),
        ("post", f"customers/{world.customer.pk}/handover/", {"to_user": teammate.pk, "reason": "x"}),
        ("post", "handovers/", {"from_user": am.pk, "to_user": teammate.pk, "reason": "x"}),
        ("post", "contacts/", {"customer": world.customer.pk, "name": "张三"}),
        ("patch", f"contacts/{world.contact.pk}/", {"title": "x"}),
        ("post", "visits/", {"customer": world.customer.pk, "visited_on": "2026-11-01", "purpose": "x"}),
        ("post", "spend/", [{"customer": world.customer.pk, "month": "2026-01", "category": "voice", "amount": "1"}]),
        ("post", "members/", [{"customer": world.customer.pk, "msisdn": "13911112222", "status": "active",
                               "joined_on": "2026-01-01"}]),
    ]  # fmt: skip


def test_analyst_reads_everything_and_every_write_is_403(world, analyst, teammate, am):
    client = client_for(analyst)
    assert client.get(f"{API}customers/{world.customer.pk}/").status_code == 200
    before = (_snapshot(world), Customer.objects.count(), SpendRecord.objects.count())

    for method, url, payload in _writes(world, teammate, am):
        response = getattr(client, method)(API + url, payload, format="json")
        assert response.status_code == 403, (method, url, response.json())

    assert (_snapshot(world), Customer.objects.count(), SpendRecord.objects.count()) == before


@pytest.mark.parametrize("persona", ["agent", "dispatcher"])
def test_agents_and_dispatchers_see_customers_but_may_not_change_them(request, world, persona):
    client = client_for(request.getfixturevalue(persona))
    before = _snapshot(world)

    assert client.get(f"{API}customers/{world.customer.pk}/").status_code == 200
    assert client.patch(f"{API}customers/{world.customer.pk}/", {"employees": 1}, format="json").status_code == 403
    new_contact = {"customer": world.customer.pk, "name": "张三"}
    assert client.post(f"{API}contacts/", new_contact, format="json").status_code == 403
    assert client.post(f"{API}customers/", {"name": "舟山定海渔业有限公司"}, format="json").status_code == 403
    assert _snapshot(world) == before


# --- authentication ----------------------------------------------------------------------------------------------


def test_token_from_username_and_password_authenticates_api_calls(world, am):
    client = APIClient()
    token = client.post(f"{API}auth/token/", {"username": "am", "password": "pw-123456"}, format="json").json()["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    ids = _ids(client, "customers/")

    assert ids == {world.customer.pk, world.spare.pk}
    response = client.patch(f"{API}customers/{world.customer.pk}/", {"employees": 7}, format="json")
    assert response.status_code == 200  # token clients need no CSRF token


def test_wrong_password_gets_no_token_and_a_bad_token_is_refused(am):
    client = APIClient()
    response = client.post(f"{API}auth/token/", {"username": "am", "password": "wrong"}, format="json")
    assert response.status_code == 400 and "token" not in response.json()

    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = client.get(f"{API}customers/")
    # 403 while session authentication is listed first in settings (DRF answers 401 only when the first
    # authenticator names a WWW-Authenticate scheme); 401 if token authentication is moved first.
    assert response.status_code in (401, 403) and "results" not in response.json()


def test_session_writes_need_the_csrf_token(world, am):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(am)

    response = client.patch(f"{API}customers/{world.customer.pk}/", {"employees": 7}, format="json")

    assert response.status_code == 403
    assert Customer.objects.get(pk=world.customer.pk).employees != 7


@pytest.mark.parametrize(
    "method, url",
    [("get", "customers/"), ("get", "customers/{c}/"), ("patch", "customers/{c}/"), ("post", "customers/"),
     ("post", "customers/{c}/merge/"), ("post", "customers/{c}/handover/"), ("post", "handovers/"),
     ("get", "customers/lookup/?phone=13712345678"), ("get", "contacts/"), ("get", "contacts/{ct}/"),
     ("post", "contacts/"), ("get", "visits/"), ("get", "visits/{v}/"), ("post", "visits/"), ("get", "spend/"),
     ("post", "spend/"), ("get", "members/"), ("post", "members/"), ("get", "schema/")],
)  # fmt: skip
def test_anonymous_callers_are_refused_everywhere(world, method, url):
    """(The docs page, a page for people, sends to the login page instead: tests/test_error_pages.py.)"""
    url = url.format(c=world.customer.pk, ct=world.contact.pk, v=world.visit.pk)

    client = APIClient()
    response = client.get(API + url) if method == "get" else getattr(client, method)(API + url, {}, format="json")

    assert response.status_code in (401, 403)
    assert world.customer.name not in response.content.decode()


def test_call_center_agents_get_no_value_score_in_the_api_nor_on_the_360_page(client, world, agent, am):
    world.customer.value_score = 87
    world.customer.save()

    api_answer = client_for(agent).get(f"{API}customers/{world.customer.pk}/").json()
    client.force_login(agent)
    page = client.get(world.customer.get_absolute_url()).content.decode()
    client.force_login(am)
    owners_page = client.get(world.customer.get_absolute_url()).content.decode()

    assert "value_score" not in api_answer and "Value score" not in page
    assert (
        "Value score" in owners_page
        and client_for(am).get(f"{API}customers/{world.customer.pk}/").json()["value_score"] == 87
    )


@pytest.fixture
def partner_staff(db):
    from channels.models import Role
    from tests.channels.factories import PartnerFactory, UserFactory

    return UserFactory(username="partner", role=Role.PARTNER, partner=PartnerFactory())


def test_partner_agents_add_no_customers_and_see_no_segments_nor_staff_phone_numbers(
    client, partner_staff, supervisor, world
):
    from customers.models import Segment
    from customers.segments import services as segment_services

    supervisor.mobile = "13900001111"
    supervisor.save()
    segment_services.segment_create(owner=supervisor, name="A类", definition={"tier": ["A1"]}, is_shared=True)
    api = client_for(partner_staff)

    created = api.post(f"{API}customers/", {"name": "杭州新开通信器材有限公司"}, format="json")
    segments = api.get(f"{API}segments/").json()
    client.force_login(partner_staff)
    home = client.get("/").content.decode()

    assert created.status_code == 403 and not Customer.objects.filter(name="杭州新开通信器材有限公司").exists()
    assert segments["results"] == [] and Segment.objects.visible_to(partner_staff).count() == 0
    assert 'href="/customers/segments/"' not in home and 'href="/customers/"' not in home


def test_staff_phone_numbers_are_hidden_from_partner_agents_only(partner_staff, supervisor, am):
    from types import SimpleNamespace

    from customers.api.serializers import StaffSerializer

    am.mobile = "13700002222"
    am.save()

    def mobile_as_read_by(reader):
        return StaffSerializer(am, context={"request": SimpleNamespace(user=reader)}).data["mobile"]

    assert (mobile_as_read_by(supervisor), mobile_as_read_by(partner_staff)) == ("13700002222", "")
