"""Customers API: what each endpoint does for the people allowed to use it.

Who may see what (the IDOR matrix across every route) is in tests/test_api_access.py."""

import base64
import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from customers import services
from customers.api.serializers import FEED_MAX_ROWS, CustomerInputSerializer
from customers.models import AccountManagerAssignment, Contact, Customer, GroupMember, MergeRecord, SpendRecord, Visit
from tests.channels.factories import UserFactory
from tests.customers.factories import (
    ContactFactory,
    CustomerFactory,
    MemberFactory,
    SpendFactory,
    VisitFactory,
    credit_code,
)

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"
CONTACTS = "/api/v1/contacts/"
VISITS = "/api/v1/visits/"
SPEND = "/api/v1/spend/"
MEMBERS = "/api/v1/members/"


@pytest.fixture
def api():
    """api(user) -> an API client logged in (session) as that user."""

    def make(user) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return make


# --- customers: create and update ------------------------------------------------------------------------


def test_prospect_is_created_with_a_name_only(api, am):
    response = api(am).post(CUSTOMERS, {"name": "宁波海曙甬新能源有限公司"}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert customer.status == Customer.Status.PROSPECT and customer.account_manager == am
    assert body["status"] == "prospect" and body["code"].startswith("KA") and body["tier"] == ""
    assert body["account_manager"] == {"id": am.pk, "name": str(am), "mobile": am.mobile}


def test_likely_duplicate_answers_409_with_candidates_and_confirming_creates_it(api, am):
    existing = CustomerFactory(name="中国工商银行股份有限公司北京市分行", region_id="110000", account_manager=am)
    client = api(am)

    response = client.post(CUSTOMERS, {"name": "北京工行"}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["detail"]
    first = body["duplicates"][0]
    assert set(first) == {"id", "name", "score", "reasons"}
    assert (first["id"], first["name"]) == (existing.pk, existing.name)
    assert isinstance(first["reasons"], list) and first["reasons"]
    assert body["hidden_duplicates"] == 0
    assert not Customer.objects.filter(name="北京工行").exists()

    confirmed = client.post(CUSTOMERS, {"name": "北京工行", "confirm_not_duplicate": True}, format="json")

    assert confirmed.status_code == 201
    assert Customer.objects.filter(name="北京工行").count() == 1


def test_rename_into_a_likely_duplicate_answers_409_until_confirmed(api, am):
    CustomerFactory(name="杭州娃哈哈集团有限公司")
    mine = CustomerFactory(name="杭州新星电子有限公司", account_manager=am)
    client = api(am)

    response = client.patch(f"{CUSTOMERS}{mine.pk}/", {"name": "杭州娃哈哈集团有限公司"}, format="json")

    # The existing customer is nobody's the account manager serves: counted, not named.
    assert response.status_code == 409
    assert response.json()["duplicates"] == [] and response.json()["hidden_duplicates"] == 1
    assert "娃哈哈" not in response.json()["detail"]
    mine.refresh_from_db()
    assert mine.name == "杭州新星电子有限公司"
    confirmed = client.patch(
        f"{CUSTOMERS}{mine.pk}/", {"name": "杭州娃哈哈集团有限公司", "confirm_not_duplicate": True}, format="json"
    )
    assert confirmed.status_code == 200 and confirmed.json()["name"] == "杭州娃哈哈集团有限公司"


def test_bad_credit_code_answers_400_naming_the_field_and_writes_nothing(api, am):
    good = credit_code(7)
    mistyped = good[:-1] + ("0" if good[-1] != "0" else "1")

    response = api(am).post(CUSTOMERS, {"name": "绍兴越城纺织有限公司", "credit_code": mistyped}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] and body["errors"]["credit_code"]
    assert not Customer.objects.filter(name="绍兴越城纺织有限公司").exists()


@pytest.mark.parametrize(
    "field, value",
    [("name", 12345), ("phone", 13800001234), ("credit_code", 913301001234567890), ("is_strategic", "yes")],
)
def test_a_value_of_the_wrong_json_type_is_refused_not_coerced(api, am, field, value):
    payload = {"name": "嘉兴南湖物流有限公司", field: value}

    response = api(am).post(CUSTOMERS, payload, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_system_fields_in_the_input_are_ignored(api, am, teammate):
    payload = {"name": "湖州吴兴丝绸有限公司", "code": "KA99999999", "members_count": 500, "created_by": teammate.pk}

    response = api(am).post(CUSTOMERS, payload, format="json")

    assert response.status_code == 201
    customer = Customer.objects.get(pk=response.json()["id"])
    assert customer.code != "KA99999999" and customer.members_count == 0 and customer.created_by == am


def test_input_serializer_accepts_exactly_what_the_service_may_write():
    fields = set(CustomerInputSerializer().fields)

    assert fields == set(services.CUSTOMER_WRITABLE_FIELDS) | {"confirm_not_duplicate", "reason"}


def test_patch_changes_only_the_fields_sent(api, am):
    mine = CustomerFactory(account_manager=am, tier="B1", employees=10)

    response = api(am).patch(f"{CUSTOMERS}{mine.pk}/", {"employees": 120, "reason": "年报更新"}, format="json")

    assert response.status_code == 200
    mine.refresh_from_db()
    assert (mine.employees, mine.tier) == (120, "B1")
    assert mine.history.first().history_change_reason == "年报更新"


def test_put_needs_the_name(api, am):
    mine = CustomerFactory(account_manager=am)

    response = api(am).put(f"{CUSTOMERS}{mine.pk}/", {"employees": 5}, format="json")

    assert response.status_code == 400 and "name" in response.json()["errors"]


def test_status_merged_cannot_be_set_by_hand(api, am):
    mine = CustomerFactory(account_manager=am)

    response = api(am).patch(f"{CUSTOMERS}{mine.pk}/", {"status": "merged"}, format="json")

    assert response.status_code == 400 and "status" in response.json()["errors"]
    mine.refresh_from_db()
    assert mine.status == Customer.Status.ACTIVE


def test_account_manager_cannot_move_a_customer_to_someone_else(api, am, teammate):
    mine = CustomerFactory(account_manager=am)

    response = api(am).patch(f"{CUSTOMERS}{mine.pk}/", {"account_manager": teammate.pk}, format="json")

    assert response.status_code == 400 and "account_manager" in response.json()["errors"]
    mine.refresh_from_db()
    assert mine.account_manager == am


def test_parent_must_be_a_customer_the_caller_can_see(api, am, outsider):
    mine, foreign = CustomerFactory(account_manager=am), CustomerFactory(account_manager=outsider)

    response = api(am).patch(f"{CUSTOMERS}{mine.pk}/", {"parent": foreign.pk}, format="json")

    assert response.status_code == 400 and "parent" in response.json()["errors"]


# --- customers: list and detail ---------------------------------------------------------------------------


def test_list_is_keyset_paginated_without_a_count(api, am):
    CustomerFactory.create_batch(3, account_manager=am)

    body = api(am).get(CUSTOMERS, {"page_size": 2}).json()

    assert set(body) == {"next", "previous", "results"}
    assert len(body["results"]) == 2 and body["next"]
    rest = api(am).get(body["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None


def test_search_and_its_alias_q_find_by_name(api, am):
    wanted = CustomerFactory(name="温州鹿城眼镜有限公司", account_manager=am)
    CustomerFactory(name="台州椒江制药有限公司", account_manager=am)
    client = api(am)

    for param in ("search", "q"):
        ids = [row["id"] for row in client.get(CUSTOMERS, {param: "鹿城眼镜"}).json()["results"]]
        assert ids == [wanted.pk], param


def test_search_lists_exact_and_prefix_matches_first_and_pages_through_every_match_once(
    api, am, outsider, django_assert_max_num_queries
):
    exact = CustomerFactory(name="宁波市北仑区人民政府", short_name="北仑", account_manager=am)
    prefix = CustomerFactory(name="北仑港集装箱码头有限公司", account_manager=am)
    inside = [CustomerFactory(name=f"宁波北仑第{n}码头有限公司", account_manager=am) for n in range(3)]
    CustomerFactory(name="北仑发电有限公司", account_manager=outsider)  # another portfolio: never listed
    client = api(am)
    expected = [exact.pk, prefix.pk, *reversed([c.pk for c in inside])]

    # session, user, portfolio (2), aliases (named so, containing it), ids from each group read, the rows
    with django_assert_max_num_queries(10):
        body = client.get(CUSTOMERS, {"q": "北仑", "page_size": 2}).json()
    pages = [body]
    while body["next"]:
        body = client.get(body["next"]).json()
        pages.append(body)

    assert [[row["id"] for row in page["results"]] for page in pages] == [expected[:2], expected[2:4], expected[4:]]
    back = client.get(pages[-1]["previous"]).json()  # and back again, across the groups
    assert [row["id"] for row in back["results"]] == expected[2:4]
    assert [row["id"] for row in client.get(back["previous"]).json()["results"]] == expected[:2]


def test_a_forged_search_cursor_is_a_404_not_a_500(api, am):
    CustomerFactory(name="北仑港集装箱码头有限公司", account_manager=am)
    forged = base64.b64encode(b"p=9.abc").decode()

    response = api(am).get(CUSTOMERS, {"q": "北仑", "cursor": forged})

    assert response.status_code == 404


def test_list_filters_by_tier_and_leaves_out_merged_records(api, am):
    a1 = CustomerFactory(account_manager=am, tier="A1")
    CustomerFactory(account_manager=am, tier="C")
    survivor = CustomerFactory(account_manager=am, tier="A1")
    CustomerFactory(account_manager=am, tier="A1", status=Customer.Status.MERGED, merged_into=survivor)

    ids = {row["id"] for row in api(am).get(CUSTOMERS, {"tier": "A1"}).json()["results"]}

    assert ids == {a1.pk, survivor.pk}


def test_invalid_filter_value_answers_400(api, am):
    response = api(am).get(CUSTOMERS, {"tier": "Z9"})

    assert response.status_code == 400 and "tier" in response.json()["errors"]


def test_merged_record_is_still_readable_and_says_where_it_went(api, steward):
    survivor = CustomerFactory()
    gone = CustomerFactory(status=Customer.Status.MERGED, merged_into=survivor)

    body = api(steward).get(f"{CUSTOMERS}{gone.pk}/").json()

    assert (body["status"], body["merged_into"]) == ("merged", survivor.pk)


@pytest.mark.parametrize("rows", [3, 30])
def test_customer_list_query_count_does_not_grow_with_rows(api, am, rows, django_assert_max_num_queries):
    parent = CustomerFactory(account_manager=am)
    CustomerFactory.create_batch(rows, account_manager=am, parent=parent)
    client = api(am)

    with django_assert_max_num_queries(8):
        response = client.get(CUSTOMERS, {"page_size": 50})

    assert len(response.json()["results"]) == rows + 1


def test_customer_detail_query_count_is_bounded(api, am, django_assert_max_num_queries):
    mine = CustomerFactory(account_manager=am)
    client = api(am)

    with django_assert_max_num_queries(6):
        assert client.get(f"{CUSTOMERS}{mine.pk}/").status_code == 200


# --- merge and handover ---------------------------------------------------------------------------------


def test_steward_merges_a_duplicate_and_its_contacts_move(api, steward, am):
    survivor = CustomerFactory(account_manager=am, name="中国建设银行股份有限公司杭州分行")
    duplicate = CustomerFactory(name="杭州建行")
    contact = ContactFactory(customer=duplicate)

    response = api(steward).post(
        f"{CUSTOMERS}{survivor.pk}/merge/", {"duplicate": duplicate.pk, "reason": "同一客户"}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["survivor"], body["duplicate"], body["reason"]) == (survivor.pk, duplicate.pk, "同一客户")
    assert body["moved"]["customers.contact.customer"] == 1
    contact.refresh_from_db()
    duplicate.refresh_from_db()
    assert contact.customer == survivor
    assert (duplicate.status, duplicate.merged_into) == (Customer.Status.MERGED, survivor)


def test_account_manager_may_not_merge_even_own_customers(api, am):
    survivor, duplicate = CustomerFactory(account_manager=am), CustomerFactory(account_manager=am)

    response = api(am).post(f"{CUSTOMERS}{survivor.pk}/merge/", {"duplicate": duplicate.pk}, format="json")

    assert response.status_code == 403
    assert not MergeRecord.objects.exists()


def test_merging_a_customer_into_itself_answers_400(api, steward):
    customer = CustomerFactory()

    response = api(steward).post(f"{CUSTOMERS}{customer.pk}/merge/", {"duplicate": customer.pk}, format="json")

    assert response.status_code == 400 and "duplicate" in response.json()["errors"]


def test_supervisor_hands_one_customer_over_to_a_teammate(api, supervisor, am, teammate):
    moving, staying = CustomerFactory(account_manager=am), CustomerFactory(account_manager=am)

    response = api(supervisor).post(
        f"{CUSTOMERS}{moving.pk}/handover/", {"to_user": teammate.pk, "reason": "客户经理调岗"}, format="json"
    )

    assert response.status_code == 200 and response.json() == {"moved": 1}
    moving.refresh_from_db()
    staying.refresh_from_db()
    assert (moving.account_manager, staying.account_manager) == (teammate, am)
    current = AccountManagerAssignment.objects.get(customer=moving, ended_at__isnull=True)
    assert (current.account_manager, current.reason, current.assigned_by) == (teammate, "客户经理调岗", supervisor)


def test_account_manager_cannot_hand_over_own_customer(api, am, teammate):
    mine = CustomerFactory(account_manager=am)

    response = api(am).post(
        f"{CUSTOMERS}{mine.pk}/handover/", {"to_user": teammate.pk, "reason": "休假"}, format="json"
    )

    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.account_manager == am


def test_handover_needs_a_reason(api, supervisor, am, teammate):
    mine = CustomerFactory(account_manager=am)

    response = api(supervisor).post(f"{CUSTOMERS}{mine.pk}/handover/", {"to_user": teammate.pk}, format="json")

    assert response.status_code == 400 and "reason" in response.json()["errors"]


def test_supervisor_hands_over_a_whole_portfolio_or_a_chosen_part(api, supervisor, am, teammate):
    first, second, third = CustomerFactory.create_batch(3, account_manager=am)
    client = api(supervisor)

    part = client.post(
        "/api/v1/handovers/",
        {"from_user": am.pk, "to_user": teammate.pk, "reason": "分流", "customers": [first.pk]},
        format="json",
    )
    assert part.status_code == 200 and part.json() == {"moved": 1}
    rest = client.post(
        "/api/v1/handovers/", {"from_user": am.pk, "to_user": teammate.pk, "reason": "离职"}, format="json"
    )

    assert rest.status_code == 200 and rest.json() == {"moved": 2}
    assert set(Customer.objects.filter(account_manager=teammate)) == {first, second, third}


def test_portfolio_handover_by_another_teams_supervisor_is_refused(api, am, teammate, other_team):
    stranger = UserFactory(role="supervisor", team=other_team)
    mine = CustomerFactory(account_manager=am)

    response = api(stranger).post(
        "/api/v1/handovers/", {"from_user": am.pk, "to_user": teammate.pk, "reason": "离职"}, format="json"
    )

    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.account_manager == am


# --- caller lookup ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialled", ["+86 138-0000-1234", "13800001234", "0086 138 0000 1234", "138 0000 1234"])
def test_lookup_finds_the_contact_whatever_the_formatting(api, agent, am, dialled):
    customer = CustomerFactory(account_manager=am, name="杭州西湖文旅有限公司", tier="A2")
    contact = services.contact_create(customer=customer, by=am, name="王建国", title="总经理", mobile="138-0000-1234")

    response = api(agent).get(f"{CUSTOMERS}lookup/", {"phone": dialled})

    assert response.status_code == 200
    assert response.json() == [
        {
            "customer": {
                "id": customer.pk,
                "name": customer.name,
                "code": customer.code,
                "tier": "A2",
                "status": "active",
            },
            "contact": {"id": contact.pk, "name": "王建国", "title": "总经理", "mobile": "138-0000-1234"},
            "is_member": False,
            "account_manager": {"id": am.pk, "name": str(am), "mobile": am.mobile},
        }
    ]


def test_lookup_finds_a_customer_by_its_main_phone_without_a_contact(api, agent):
    customer = CustomerFactory(phone="0571-8888 1234")

    body = api(agent).get(f"{CUSTOMERS}lookup/", {"phone": "+86 571 8888 1234"}).json()

    assert body == [
        {
            "customer": {"id": customer.pk, "name": customer.name, "code": customer.code, "tier": customer.tier,
                         "status": customer.status},
            "contact": None,
            "is_member": False,
            "account_manager": None,
        }
    ]  # fmt: skip


def test_lookup_without_a_phone_answers_400(api, agent):
    response = api(agent).get(f"{CUSTOMERS}lookup/")

    assert response.status_code == 400 and "phone" in response.json()["errors"]


@pytest.mark.parametrize("rows", [3, 15])
def test_lookup_query_count_does_not_grow_with_matches(api, agent, rows, django_assert_max_num_queries):
    for customer in CustomerFactory.create_batch(rows):
        ContactFactory(customer=customer, mobile="13900001111", mobile_digits="13900001111")
    client = api(agent)

    with django_assert_max_num_queries(6):
        assert len(client.get(f"{CUSTOMERS}lookup/", {"phone": "13900001111"}).json()) == rows


# --- contacts and visits --------------------------------------------------------------------------------


def test_account_manager_adds_and_changes_a_contact(api, am):
    mine = CustomerFactory(account_manager=am)
    client = api(am)

    created = client.post(CONTACTS, {"customer": mine.pk, "name": "李敏", "mobile": "139 0000 2222"}, format="json")

    assert created.status_code == 201, created.json()
    contact = Contact.objects.get(pk=created.json()["id"])
    assert (contact.customer, contact.mobile_digits) == (mine, "13900002222")
    changed = client.patch(f"{CONTACTS}{contact.pk}/", {"title": "CIO", "is_key_person": True}, format="json")
    assert changed.status_code == 200 and changed.json()["title"] == "CIO"
    contact.refresh_from_db()
    assert contact.is_key_person


def test_contact_with_a_bad_mobile_answers_400(api, am):
    mine = CustomerFactory(account_manager=am)

    response = api(am).post(CONTACTS, {"customer": mine.pk, "name": "李敏", "mobile": "12345"}, format="json")

    assert response.status_code == 400 and "mobile" in response.json()["errors"]
    assert not Contact.objects.exists()


def test_contact_list_filters_by_customer(api, am):
    first, second = CustomerFactory(account_manager=am), CustomerFactory(account_manager=am)
    wanted = ContactFactory(customer=first)
    ContactFactory(customer=second)

    ids = [row["id"] for row in api(am).get(CONTACTS, {"customer": first.pk}).json()["results"]]

    assert ids == [wanted.pk]


@pytest.mark.parametrize("rows", [3, 30])
def test_contact_list_query_count_does_not_grow_with_rows(api, am, rows, django_assert_max_num_queries):
    mine = CustomerFactory(account_manager=am)
    ContactFactory.create_batch(rows, customer=mine)
    client = api(am)

    with django_assert_max_num_queries(7):
        assert len(client.get(CONTACTS, {"page_size": 50}).json()["results"]) == rows


def test_account_manager_logs_a_visit_with_the_contacts_met(api, am):
    mine = CustomerFactory(account_manager=am)
    met = ContactFactory(customer=mine)

    response = api(am).post(
        VISITS,
        {
            "customer": mine.pk,
            "visited_on": "2026-11-02",
            "kind": "on_site",
            "purpose": "方案交流",
            "contacts": [met.pk],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["contacts"] == [met.pk] and body["visited_by"]["id"] == am.pk
    visit = Visit.objects.get(pk=body["id"])
    assert (visit.customer, visit.visited_by, list(visit.contacts.all())) == (mine, am, [met])


def test_visit_in_the_future_answers_400(api, am):
    mine = CustomerFactory(account_manager=am)
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()

    response = api(am).post(VISITS, {"customer": mine.pk, "visited_on": tomorrow, "purpose": "回访"}, format="json")

    assert response.status_code == 400 and "visited_on" in response.json()["errors"]
    assert not Visit.objects.exists()


def test_visit_with_another_customers_contact_answers_400(api, am):
    mine, also_mine = CustomerFactory(account_manager=am), CustomerFactory(account_manager=am)
    elsewhere = ContactFactory(customer=also_mine)

    response = api(am).post(
        VISITS,
        {"customer": mine.pk, "visited_on": "2026-11-02", "purpose": "回访", "contacts": [elsewhere.pk]},
        format="json",
    )

    assert response.status_code == 400 and "contacts" in response.json()["errors"]


@pytest.mark.parametrize("rows", [3, 30])
def test_visit_list_query_count_does_not_grow_with_rows(api, am, rows, django_assert_max_num_queries):
    mine = CustomerFactory(account_manager=am)
    contacts = ContactFactory.create_batch(2, customer=mine)
    for visit in VisitFactory.create_batch(rows, customer=mine, visited_by=am):
        visit.contacts.set(contacts)
    client = api(am)

    with django_assert_max_num_queries(8):
        body = client.get(VISITS, {"customer": mine.pk, "page_size": 50}).json()

    assert len(body["results"]) == rows and len(body["results"][0]["contacts"]) == 2


# --- billing feeds ------------------------------------------------------------------------------------------


@pytest.fixture
def feed_user(db):
    """The billing integration's login: no admin role, just the two feed permissions."""
    user = UserFactory(username="billing-feed", role="phone_account_manager")
    user.user_permissions.add(
        Permission.objects.get(codename="add_spendrecord"), Permission.objects.get(codename="add_groupmember")
    )
    return user


def test_spend_feed_writes_rows_and_a_repost_updates_instead_of_duplicating(api, feed_user):
    customer = CustomerFactory()
    rows = [
        {"customer": customer.pk, "month": "2026-09", "category": "voice", "amount": "1200.50"},
        {"customer": customer.pk, "month": "2026-10-01", "category": "data", "amount": 800},
    ]
    client = api(feed_user)

    first = client.post(SPEND, rows, format="json")

    assert first.status_code == 200, first.json()
    assert first.json() == {"received": 2, "customers": 1}
    rows[0]["amount"] = "1300.00"
    again = client.post(SPEND, {"rows": rows}, format="json")
    assert again.status_code == 200
    stored = {(r.month, r.category): r.amount for r in SpendRecord.objects.filter(customer=customer)}
    assert stored == {
        (datetime.date(2026, 9, 1), "voice"): Decimal("1300.00"),
        (datetime.date(2026, 10, 1), "data"): Decimal("800.00"),
    }


def test_spend_batch_with_one_bad_row_writes_nothing_and_names_the_row(api, admin_user):
    customer = CustomerFactory()
    rows = [
        {"customer": customer.pk, "month": f"2026-{m:02d}", "category": "voice", "amount": "100"} for m in range(1, 6)
    ]
    rows[3]["amount"] = "-5"
    rows[4]["month"] = "2026-13"

    response = api(admin_user).post(SPEND, rows, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]["rows"]
    assert set(errors) == {"3", "4"}
    assert list(errors["3"]) == ["amount"] and list(errors["4"]) == ["month"]
    assert not SpendRecord.objects.exists()


@pytest.mark.parametrize(
    "row, field",
    [
        ({"month": "2026-10-15"}, "month"),
        ({"category": "satellite"}, "category"),
        ({"customer": 987654321}, "customer"),
        ({"amount": "abc"}, "amount"),
    ],
)
def test_spend_row_problems_are_reported_by_field(api, admin_user, row, field):
    customer = CustomerFactory()
    good = {"customer": customer.pk, "month": "2026-10", "category": "voice", "amount": "1"}

    response = api(admin_user).post(SPEND, [good, {**good, **row}], format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]["rows"]) == ["1"]
    assert field in response.json()["errors"]["rows"]["1"]
    assert not SpendRecord.objects.exists()


def test_spend_row_repeated_in_one_batch_is_refused(api, admin_user):
    customer = CustomerFactory()
    row = {"customer": customer.pk, "month": "2026-10", "category": "voice", "amount": "1"}

    response = api(admin_user).post(SPEND, [row, {**row, "amount": "2"}], format="json")

    assert response.status_code == 400 and list(response.json()["errors"]["rows"]) == ["1"]


def test_spend_for_a_merged_customer_lands_on_the_survivor(api, admin_user):
    survivor = CustomerFactory()
    gone = CustomerFactory(status=Customer.Status.MERGED, merged_into=survivor)

    response = api(admin_user).post(
        SPEND, [{"customer": gone.pk, "month": "2026-10", "category": "iot", "amount": "9"}], format="json"
    )

    assert response.status_code == 200
    assert SpendRecord.objects.get().customer == survivor


def test_feed_beyond_the_row_cap_is_refused_before_validation(api, admin_user):
    row = {"customer": 1, "month": "2026-10", "category": "voice", "amount": "1"}

    response = api(admin_user).post(SPEND, [row] * (FEED_MAX_ROWS + 1), format="json")

    assert response.status_code == 400 and "rows" in response.json()["errors"]


@pytest.mark.parametrize("payload", [{}, [], "rows", {"rows": {"a": 1}}])
def test_feed_that_is_not_a_list_of_rows_answers_400(api, admin_user, payload):
    response = api(admin_user).post(SPEND, payload, format="json")

    assert response.status_code == 400 and "rows" in response.json()["errors"]


def test_account_manager_may_not_post_feeds(api, am):
    mine = CustomerFactory(account_manager=am)
    row = {"customer": mine.pk, "month": "2026-10", "category": "voice", "amount": "1"}

    assert api(am).post(SPEND, [row], format="json").status_code == 403
    assert not SpendRecord.objects.exists()


def test_member_feed_normalises_numbers_updates_on_repost_and_refreshes_the_count(api, feed_user):
    customer = CustomerFactory()
    rows = [
        {"customer": customer.pk, "msisdn": "+86 139-0000-0001", "status": "active", "joined_on": "2025-03-01"},
        {
            "customer": customer.pk,
            "msisdn": "13900000002",
            "status": "active",
            "joined_on": "2025-03-01",
            "left_on": None,
        },
    ]
    client = api(feed_user)

    assert client.post(MEMBERS, rows, format="json").status_code == 200
    customer.refresh_from_db()
    assert customer.members_count == 2
    rows[1].update(status="ported_out", left_on="2026-10-20")
    assert client.post(MEMBERS, rows, format="json").status_code == 200

    members = {m.msisdn: (m.status, m.left_on) for m in GroupMember.objects.filter(customer=customer)}
    assert members == {"13900000001": ("active", None), "13900000002": ("ported_out", datetime.date(2026, 10, 20))}
    customer.refresh_from_db()
    assert customer.members_count == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"msisdn": "0571888812"}, "msisdn"),
        ({"msisdn": 13900000009}, "msisdn"),
        ({"status": "left"}, "left_on"),
        ({"left_on": "2026-01-01"}, "left_on"),
        ({"status": "left", "left_on": "2024-01-01"}, "left_on"),
    ],
)
def test_member_row_problems_fail_the_batch(api, admin_user, change, field):
    customer = CustomerFactory()
    good = {"customer": customer.pk, "msisdn": "13900000001", "status": "active", "joined_on": "2025-03-01"}

    response = api(admin_user).post(MEMBERS, [good, {**good, "msisdn": "13900000002", **change}], format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]["rows"]["1"]
    assert not GroupMember.objects.exists()


@pytest.mark.parametrize("rows", [3, 30])
def test_spend_and_member_lists_query_count_does_not_grow(api, am, rows, django_assert_max_num_queries):
    mine = CustomerFactory(account_manager=am)
    for i in range(rows):
        SpendFactory(customer=mine, month=datetime.date(2020 + i // 12, i % 12 + 1, 1))
        MemberFactory(customer=mine)
    client = api(am)

    for url in (SPEND, MEMBERS):
        with django_assert_max_num_queries(7):
            assert len(client.get(url, {"customer": mine.pk, "page_size": 50}).json()["results"]) == rows


def test_negative_amounts_and_overlong_texts_are_refused_with_every_field_named(api, am):
    body = {
        "name": "舟山海星渔业有限公司", "annual_revenue": "-5", "annual_budget": "-1", "telecom_budget": "-0.01",
        "main_business": "远洋捕捞" * 50_000, "profit_growth": "-12.5",
    }  # fmt: skip

    response = api(am).post(CUSTOMERS, body, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"annual_revenue", "annual_budget", "telecom_budget", "main_business"} <= set(errors)
    assert "profit_growth" not in errors  # growth may be negative
    assert not Customer.objects.filter(name="舟山海星渔业有限公司").exists()


def test_the_same_bounds_hold_on_the_page_form(client, am):
    client.force_login(am)
    response = client.post(
        "/customers/new/",
        {"name": "舟山海星渔业有限公司", "status": "prospect", "annual_budget": "-3", "main_business": "x" * 2001},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert "annual_budget" in form.errors and "main_business" in form.errors
    assert not Customer.objects.filter(name="舟山海星渔业有限公司").exists()
