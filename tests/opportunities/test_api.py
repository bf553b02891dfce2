"""The opportunities API: capture (pending, then routed after commit), claim / return / dispatch, stages,
closing, the transfer log, routing rules with their dry run, notifications — and who may see what."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from channels.models import Notification, Role
from customers.models import Customer
from opportunities import services
from opportunities.models import Kind, Opportunity, RoutingRule, RoutingStatus, Stage, Transfer
from orders.models import Product
from tests.channels.factories import PartnerFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/opportunities/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _eager(eager_celery):
    """Routing runs in-process when the capture commits."""


@pytest.fixture
def customer(am):
    return CustomerFactory(account_manager=am, name="杭州西湖港务有限公司")


def captured(by, customer, *, kind=Kind.OPPORTUNITY, route=True, title="专线扩容", **fields) -> Opportunity:
    """An opportunity captured through the service and (by default) routed, as the Celery task would."""
    opp = services.opportunity_capture(
        by=by, kind=kind, title=title, customer=customer, description="100M 专线", **fields
    )
    if route:
        services.opportunity_route(opp.pk)
    return Opportunity.objects.get(pk=opp.pk)


@pytest.fixture
def sent_to_am(agent, customer):
    return captured(agent, customer)


@pytest.fixture
def claimed(am, sent_to_am):
    services.opportunity_claim(pk=sent_to_am.pk, by=am)
    return sent_to_am


# --- capture -----------------------------------------------------------------------------------------------


def test_capture_answers_pending_and_is_then_routed_to_the_customers_account_manager(
    agent, am, customer, django_capture_on_commit_callbacks
):
    payload = {"kind": "opportunity", "title": "100M 专线", "customer": customer.pk, "products": ["INET"],
               "expected_value": "5000.00", "contact_name": "王经理", "need_type": "new"}  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(agent).post(API, payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["routing_status"] == "pending" and body["assigned_to"] is None
    assert body["code"].startswith("OP") and body["products"] == ["INET"]
    assert body["customer"] == {"id": customer.pk, "name": customer.name}
    assert body["stage"] == "identified" and body["captured_by"] == agent.pk
    assert callbacks, "routing is enqueued after commit"
    detail = client_for(agent).get(f"{API}{body['id']}/").json()
    assert detail["routing_status"] == "dispatched"
    assert detail["assigned_to"] == am.pk and detail["assigned_channel"] == "account_manager"
    assert detail["claim_due_at"] is not None
    assert Notification.objects.filter(recipient=am, kind="opportunity").exists()


def test_contact_channel_defaults_to_the_capturing_users_channel(am, customer):
    from channels.models import ChannelType

    am.channel_type = ChannelType.objects.get(code="account_manager")
    am.save()

    body = client_for(am).post(API, {"kind": "lead", "title": "了解云专线", "customer": customer.pk},
                               format="json").json()  # fmt: skip
    chosen = client_for(am).post(API, {"kind": "lead", "title": "热线来电", "customer": customer.pk,
                                       "contact_channel": "group_hotline"}, format="json").json()  # fmt: skip

    assert body["contact_channel"] == "account_manager"
    assert chosen["contact_channel"] == "group_hotline"


def test_prospect_that_may_exist_answers_409_naming_only_visible_candidates(am, outsider):
    CustomerFactory(account_manager=outsider, name="宁波北仑港务有限公司")
    payload = {"kind": "lead", "title": "物联网卡", "prospect_name": "宁波北仑港务有限公司"}

    response = client_for(am).post(API, payload, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["duplicates"] == [] and body["hidden_duplicates"] == 1
    assert "宁波北仑港务" not in str(body["duplicates"])
    assert not Opportunity.objects.exists()


def test_prospect_duplicate_the_caller_may_see_is_named_and_confirming_registers_the_prospect(am, customer):
    payload = {"kind": "lead", "title": "物联网卡", "prospect_name": customer.name, "prospect_region": "330100"}

    conflict = client_for(am).post(API, payload, format="json")
    confirmed = client_for(am).post(API, {**payload, "confirm_not_duplicate": True}, format="json")

    assert conflict.status_code == 409
    assert [d["id"] for d in conflict.json()["duplicates"]] == [customer.pk]
    assert confirmed.status_code == 201
    prospect = Customer.objects.get(pk=confirmed.json()["customer"]["id"])
    assert prospect.pk != customer.pk and prospect.status == Customer.Status.PROSPECT


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": None}, "title"),
        ({"prospect_name": "全新科技有限公司"}, "customer"),  # both a customer and a prospect
        ({"customer": None}, "customer"),  # neither
        ({"expected_value": "-1"}, "expected_value"),
        ({"products": ["NOPE"]}, "products"),
        ({"customer": "outsiders"}, "customer"),  # a customer the caller may not see: 400, like a missing id
        ({"customer": 99999999}, "customer"),
        ({"kind": "deal"}, "kind"),
        ({"title": 123}, "title"),
    ],
)
def test_bad_capture_answers_400_naming_the_field(am, customer, outsider, change, field):
    foreign = CustomerFactory(account_manager=outsider)
    payload = {"kind": "opportunity", "title": "专线", "customer": customer.pk, "products": ["INET"]}
    payload.update({k: foreign.pk if v == "outsiders" else v for k, v in change.items()})
    payload = {k: v for k, v in payload.items() if v is not None}

    response = client_for(am).post(API, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "errors"} and field in body["errors"], body
    assert foreign.name not in response.content.decode()
    assert not Opportunity.objects.exists()


def test_read_only_roles_cannot_capture(analyst, customer):
    response = client_for(analyst).post(API, {"kind": "lead", "title": "x", "customer": customer.pk}, format="json")

    assert response.status_code == 403


# --- claim, return, dispatch -------------------------------------------------------------------------------


def test_receiver_claims_and_a_second_claim_gets_409_saying_who(am, supervisor, sent_to_am):
    first = client_for(am).post(f"{API}{sent_to_am.pk}/claim/")
    again = client_for(supervisor).post(f"{API}{sent_to_am.pk}/claim/")

    assert first.status_code == 200
    assert first.json()["routing_status"] == "claimed" and first.json()["claimed_by"] == am.pk
    assert again.status_code == 409
    assert str(am) in again.json()["detail"] and again.json()["claimed_by"] == am.pk


def test_someone_it_was_not_sent_to_cannot_claim_it(teammate, dispatcher, sent_to_am):
    hidden = client_for(teammate).post(f"{API}{sent_to_am.pk}/claim/")
    seen = client_for(dispatcher).post(f"{API}{sent_to_am.pk}/claim/")

    assert hidden.status_code == 404
    assert seen.status_code == 403
    assert Opportunity.objects.get(pk=sent_to_am.pk).routing_status == RoutingStatus.DISPATCHED


def test_return_sends_it_to_the_operations_center_which_is_notified(am, dispatcher, sent_to_am):
    response = client_for(am).post(f"{API}{sent_to_am.pk}/return/", {"reason": "不在我的片区"}, format="json")
    without_reason = client_for(am).post(f"{API}{sent_to_am.pk}/return/", {}, format="json")

    assert response.status_code == 200
    assert response.json()["routing_status"] == "returned" and response.json()["assigned_to"] is None
    assert response.json()["assigned_channel"] == "operations_center"
    note = Notification.objects.get(recipient=dispatcher)
    assert sent_to_am.title in note.title and note.body == "不在我的片区"
    assert without_reason.status_code == 400 and "reason" in without_reason.json()["errors"]


def test_dispatcher_redispatches_and_an_account_manager_may_not(am, teammate, dispatcher, sent_to_am):
    client_for(am).post(f"{API}{sent_to_am.pk}/return/", {"reason": "客户在外地"}, format="json")

    refused = client_for(am).post(f"{API}{sent_to_am.pk}/dispatch/", {"to_user": teammate.pk}, format="json")
    neither = client_for(dispatcher).post(f"{API}{sent_to_am.pk}/dispatch/", {"reason": "x"}, format="json")
    done = client_for(dispatcher).post(
        f"{API}{sent_to_am.pk}/dispatch/", {"to_user": teammate.pk, "reason": "同组接手"}, format="json"
    )

    assert refused.status_code == 403
    assert neither.status_code == 400 and "to_user" in neither.json()["errors"]
    assert done.status_code == 200
    assert done.json()["assigned_to"] == teammate.pk and done.json()["routing_status"] == "dispatched"
    assert client_for(teammate).post(f"{API}{sent_to_am.pk}/claim/").status_code == 200


# --- working it --------------------------------------------------------------------------------------------


def test_owner_moves_the_stage_forward_but_not_beyond_the_allowed_moves(am, claimed):
    forbidden = client_for(am).post(f"{API}{claimed.pk}/stage/", {"stage": "signed"}, format="json")
    allowed = client_for(am).post(f"{API}{claimed.pk}/stage/", {"stage": "solution", "note": "方案"}, format="json")

    assert forbidden.status_code == 400 and "stage" in forbidden.json()["errors"]
    assert allowed.status_code == 200
    assert allowed.json()["stage"] == "solution" and allowed.json()["probability"] is not None


def test_stage_move_before_claiming_is_a_conflict(am, sent_to_am):
    response = client_for(am).post(f"{API}{sent_to_am.pk}/stage/", {"stage": "solution"}, format="json")

    assert response.status_code == 409


def test_close_as_lost_needs_a_reason_and_keeps_it(am, claimed):
    without = client_for(am).post(f"{API}{claimed.pk}/close/", {"result": "lost"}, format="json")
    competitor = client_for(am).post(f"{API}{claimed.pk}/close/", {"result": "lost", "reason": "competitor"},
                                     format="json")  # fmt: skip
    done = client_for(am).post(f"{API}{claimed.pk}/close/", {"result": "lost", "reason": "price", "note": "太贵"},
                               format="json")  # fmt: skip
    again = client_for(am).post(f"{API}{claimed.pk}/close/", {"result": "lost", "reason": "price"}, format="json")

    assert without.status_code == 400 and "reason" in without.json()["errors"]
    assert competitor.status_code == 400 and "competitor" in competitor.json()["errors"]
    assert done.status_code == 200
    assert done.json()["stage"] == "lost" and done.json()["close_reason"] == "price"
    assert done.json()["closed_at"] and done.json()["close_note"] == "太贵"
    assert again.status_code == 409


def test_a_lead_is_qualified_into_an_opportunity(am, agent, customer):
    lead = captured(agent, customer, kind=Kind.LEAD)
    services.opportunity_claim(pk=lead.pk, by=am)

    empty = client_for(am).post(f"{API}{lead.pk}/qualify/", {}, format="json")
    response = client_for(am).post(f"{API}{lead.pk}/qualify/", {"products": ["INET"], "expected_value": "3000"},
                                   format="json")  # fmt: skip

    assert empty.status_code == 400 and "products" in empty.json()["errors"]
    assert response.status_code == 200
    assert response.json()["kind"] == "opportunity" and response.json()["stage"] == "identified"
    assert response.json()["products"] == ["INET"]


def test_owner_logs_activities_and_lists_them_newest_first(am, claimed):
    url = f"{API}{claimed.pk}/activities/"
    client_for(am).post(url, {"kind": "call", "notes": "电话沟通需求"}, format="json")
    added = client_for(am).post(url, {"kind": "visit", "notes": "上门勘察", "next_action": "出方案"}, format="json")
    empty = client_for(am).post(url, {"kind": "visit", "notes": ""}, format="json")

    listed = client_for(am).get(url).json()["results"]

    assert added.status_code == 201 and added.json()["by"] == am.pk
    assert empty.status_code == 400
    assert [a["notes"] for a in listed] == ["上门勘察", "电话沟通需求"]
    assert client_for(am).get(f"{API}{claimed.pk}/").json()["next_action"] == "出方案"


def test_transfers_list_every_step_in_order(am, teammate, dispatcher, sent_to_am):
    services.opportunity_return(pk=sent_to_am.pk, by=am, reason="不在片区")
    services.opportunity_dispatch(pk=sent_to_am.pk, by=dispatcher, to_user=teammate, reason="同组接手")
    services.opportunity_claim(pk=sent_to_am.pk, by=teammate)

    response = client_for(dispatcher).get(f"{API}{sent_to_am.pk}/transfers/")

    assert response.status_code == 200
    steps = response.json()
    assert [s["action"] for s in steps] == ["captured", "routed", "returned", "dispatched", "claimed"]
    routed, returned, dispatched = steps[1], steps[2], steps[3]
    assert routed["to_user"] == am.pk and routed["rule_name"] and routed["to_channel"] == "account_manager"
    assert returned["by"] == am.pk and returned["reason"] == "不在片区"
    assert returned["to_channel"] == "operations_center"
    assert dispatched["by"] == dispatcher.pk and dispatched["to_user"] == teammate.pk
    assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)


# --- who sees what -----------------------------------------------------------------------------------------


@pytest.fixture
def world(am, teammate, outsider, agent, customer):
    partner = PartnerFactory()
    partner_staff = UserFactory(role=Role.PARTNER, partner=partner)
    prospect = CustomerFactory(account_manager=None, status=Customer.Status.PROSPECT, region_id="330100")
    foreign = CustomerFactory(account_manager=outsider)
    return SimpleNamespace(
        mine=captured(agent, customer),
        mates=captured(agent, CustomerFactory(account_manager=teammate)),
        foreign=captured(agent, foreign),
        to_partner=captured(agent, prospect, kind=Kind.LEAD),
        by_outsider=captured(outsider, foreign, kind=Kind.LEAD, route=False),  # still pending
        partner=partner,
        partner_staff=partner_staff,
    )


OBJECT_ROUTES = [
    ("get", ""),
    ("post", "claim/"),
    ("post", "return/"),
    ("post", "dispatch/"),
    ("post", "stage/"),
    ("post", "close/"),
    ("post", "qualify/"),
    ("get", "activities/"),
    ("post", "activities/"),
    ("get", "transfers/"),
]
PAYLOADS = {"return/": {"reason": "x"}, "dispatch/": {"to_channel": "operations_center"},
            "stage/": {"stage": "solution"}, "close/": {"result": "lost", "reason": "price"},
            "activities/": {"notes": "x"}, "qualify/": {"need_type": "new"}}  # fmt: skip


@pytest.mark.parametrize(("method", "suffix"), OBJECT_ROUTES)
def test_outsider_gets_404_on_another_managers_opportunity_and_every_action(outsider, world, method, suffix):
    before = list(Transfer.objects.filter(opportunity=world.mine).values_list("id", flat=True))

    response = getattr(client_for(outsider), method)(f"{API}{world.mine.pk}/{suffix}", PAYLOADS.get(suffix),
                                                     format="json")  # fmt: skip

    assert response.status_code == 404
    assert world.mine.title not in response.content.decode()
    assert list(Transfer.objects.filter(opportunity=world.mine).values_list("id", flat=True)) == before


@pytest.mark.parametrize("persona", ["am", "teammate", "outsider", "supervisor", "agent", "dispatcher", "partner"])
def test_list_holds_exactly_what_the_caller_may_see(request, world, persona):
    user = world.partner_staff if persona == "partner" else request.getfixturevalue(persona)

    rows = client_for(user).get(API, {"page_size": 200}).json()["results"]

    assert {r["id"] for r in rows} == set(Opportunity.objects.visible_to(user).values_list("pk", flat=True))


def test_each_persona_sees_its_own_and_not_others(am, outsider, agent, world):
    def ids(user, **params):
        return {r["id"] for r in client_for(user).get(API, params).json()["results"]}

    assert world.mine.pk in ids(am) and world.foreign.pk not in ids(am) and world.mates.pk not in ids(am)
    assert world.foreign.pk in ids(outsider) and world.mine.pk not in ids(outsider)
    assert world.by_outsider.pk in ids(outsider) and world.by_outsider.pk not in ids(am)
    assert ids(agent, captured_by="me") == {world.mine.pk, world.mates.pk, world.foreign.pk, world.to_partner.pk}
    assert world.to_partner.pk in ids(world.partner_staff) and world.mine.pk not in ids(world.partner_staff)


def test_partner_staff_see_and_claim_what_was_sent_to_their_partner(world):
    opp = Opportunity.objects.get(pk=world.to_partner.pk)
    assert opp.assigned_partner_id == world.partner.pk

    detail = client_for(world.partner_staff).get(f"{API}{opp.pk}/")
    claim = client_for(world.partner_staff).post(f"{API}{opp.pk}/claim/")

    assert detail.status_code == 200 and detail.json()["assigned_partner"] == world.partner.pk
    assert claim.status_code == 200 and claim.json()["claimed_by"] == world.partner_staff.pk


def test_filters_by_status_kind_and_search(dispatcher, world):
    def ids(**params):
        return {r["id"] for r in client_for(dispatcher).get(API, params).json()["results"]}

    assert ids(routing_status="pending") == {world.by_outsider.pk}
    assert ids(kind="lead") == {world.by_outsider.pk, world.to_partner.pk}
    assert ids(search=world.mine.code) == {world.mine.pk}
    assert ids(customer=world.foreign.customer_id) == {world.foreign.pk, world.by_outsider.pk}
    assert ids(assigned_to=world.mine.assigned_to_id) == {world.mine.pk}
    assert client_for(dispatcher).get(API, {"captured_by": "someone"}).status_code == 400


def test_list_costs_the_same_queries_for_2_or_20_rows(dispatcher, agent):
    def count() -> int:
        client = client_for(dispatcher)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(API).status_code == 200
        return len(queries)

    inet = Product.objects.get(code="INET")

    def add(n):
        for _ in range(n):
            opp = OpportunityFactory(kind=Kind.OPPORTUNITY, stage=Stage.IDENTIFIED, probability=10)
            opp.products.set([inet])

    add(2)
    few = count()
    add(18)
    many = count()

    assert few == many
    assert many <= 8


def test_list_stays_within_a_query_budget_for_an_account_manager(am, agent, customer, django_assert_max_num_queries):
    for _ in range(12):
        captured(agent, customer)
    client = client_for(am)

    with django_assert_max_num_queries(10):
        rows = client.get(API).json()["results"]

    assert len(rows) == 12


# --- routing rules -----------------------------------------------------------------------------------------


RULES = "/api/v1/routing-rules/"


def test_dispatchers_read_rules_in_order_and_others_may_not(dispatcher, am):
    rows = client_for(dispatcher).get(RULES)

    assert rows.status_code == 200
    assert [r["priority"] for r in rows.json()] == sorted(r["priority"] for r in rows.json())
    assert client_for(am).get(RULES).status_code == 403


def test_only_admins_change_rules_and_bad_rules_answer_400(dispatcher, admin_user, team):
    rule = {"name": "大额商机 → 金融行业组", "priority": 5, "target": "team_pool", "amount_min": "100000",
            "products": ["INET"]}  # fmt: skip

    refused = client_for(dispatcher).post(RULES, {**rule, "target_team": team.pk}, format="json")
    bad = client_for(admin_user).post(RULES, rule, format="json")
    made = client_for(admin_user).post(RULES, {**rule, "target_team": team.pk}, format="json")

    assert refused.status_code == 403
    assert bad.status_code == 400 and "target_team" in bad.json()["errors"]
    assert made.status_code == 201 and made.json()["products"] == ["INET"]
    rule_id = made.json()["id"]
    assert client_for(admin_user).patch(f"{RULES}{rule_id}/", {"is_active": False}, format="json").status_code == 200
    assert client_for(dispatcher).delete(f"{RULES}{rule_id}/").status_code == 403
    assert client_for(admin_user).delete(f"{RULES}{rule_id}/").status_code == 204


def test_rule_dry_run_shows_the_trace_and_placement_and_writes_nothing(dispatcher, am, agent, customer):
    opp = captured(agent, customer, route=False)
    log = Transfer.objects.count()

    response = client_for(dispatcher).post(f"{RULES}test/", {"opportunity": opp.pk}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["user"] == am.pk and body["to_queue"] is False and body["channel"] == "account_manager"
    assert body["rule"] == RoutingRule.objects.get(priority=10).pk
    assert body["trace"][0]["matched"] is True
    assert Transfer.objects.count() == log
    assert Opportunity.objects.get(pk=opp.pk).routing_status == RoutingStatus.PENDING
    missing = client_for(dispatcher).post(f"{RULES}test/", {"opportunity": 99999999}, format="json")
    assert missing.status_code == 400 and "opportunity" in missing.json()["errors"]


# --- notifications -----------------------------------------------------------------------------------------


def test_notifications_list_only_mine_and_mark_read(am, teammate):
    from channels.notifications import notify

    first, second = notify([am], kind="opportunity", title="一"), notify([am], kind="opportunity", title="二")
    notify([teammate], kind="opportunity", title="别人的")
    client = client_for(am)

    listed = client.get("/api/v1/notifications/").json()["results"]
    marked = client.post("/api/v1/notifications/read/", {"ids": [first[0].pk]}, format="json")
    unread = client.get("/api/v1/notifications/", {"unread": "true"}).json()["results"]
    all_read = client.post("/api/v1/notifications/read/", {}, format="json")

    assert [n["title"] for n in listed] == ["二", "一"]
    assert marked.json() == {"marked": 1}
    assert [n["id"] for n in unread] == [second[0].pk]
    assert all_read.json() == {"marked": 1}
    foreign = Notification.objects.get(recipient=teammate)
    assert client.get(f"/api/v1/notifications/{foreign.pk}/").status_code == 404
    assert client.post("/api/v1/notifications/read/", {"ids": [foreign.pk]}, format="json").json() == {"marked": 0}
    assert Notification.objects.get(pk=foreign.pk).read_at is None
