"""Routing: the default rules of seed 004 六(二) (reference data), rules as editable data, and a router that
places each opportunity exactly once."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from channels.models import ChannelType, Notification, Role
from opportunities import routing, services
from opportunities.models import Kind, Opportunity, RoutingRule, RoutingStatus, Transfer
from orders.models import Product
from tests.channels.factories import PartnerFactory, PhoneManagerFactory, TeamFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def route(opp: Opportunity) -> Opportunity:
    services.opportunity_route(opp.pk)
    opp.refresh_from_db()
    return opp


def prospect(**kwargs):
    return CustomerFactory(status="prospect", tier="", **kwargs)


def last_rule_reason(placement: routing.Placement, rule: RoutingRule) -> tuple[bool, str]:
    for label, matched, why in placement.trace:
        if label == str(rule):
            return matched, why
    raise AssertionError(f"{rule} is not in the trace {placement.trace}")


# --- default rule 10: a customer with an account manager goes to that account manager --------------------


@pytest.mark.parametrize(("tier", "hours"), [("A1", 24), ("A2", 24), ("B1", 24), ("B2", 24), ("C", 48), ("D", 48)])
def test_customer_with_an_account_manager_goes_to_that_manager_with_the_tiers_claim_timer(am, tier, hours):
    opp = route(OpportunityFactory(customer=CustomerFactory(account_manager=am, tier=tier)))

    assert opp.routing_status == RoutingStatus.DISPATCHED
    assert opp.assigned_to == am
    assert opp.assigned_channel.code == "account_manager"
    assert opp.routed_by_rule.priority == 10
    assert opp.dispatched_at == NOW
    assert opp.claim_due_at == NOW + datetime.timedelta(hours=hours)
    assert opp.return_due_at > opp.claim_due_at
    entry = opp.transfers.get(action=Transfer.Action.ROUTED)
    assert (entry.to_user, entry.from_user, entry.rule_name) == (am, opp.captured_by, opp.routed_by_rule.name)
    assert Notification.objects.filter(recipient=am, kind="opportunity").count() == 1


def test_claim_timer_follows_the_editable_timer_rows(am):
    from opportunities.models import ClaimTimer

    ClaimTimer.objects.filter(tier="A1").update(claim_hours=4, return_hours=8)
    opp = route(OpportunityFactory(customer=CustomerFactory(account_manager=am, tier="A1")))
    assert opp.claim_due_at == NOW + datetime.timedelta(hours=4)
    assert opp.return_due_at == NOW + datetime.timedelta(hours=8)


def test_inactive_account_manager_falls_through_the_manager_rule(am, dispatcher):
    am.is_active = False
    am.save()
    opp = OpportunityFactory(customer=CustomerFactory(account_manager=am, tier="A1"))

    placement = routing.decide(opp)
    first = RoutingRule.objects.get(priority=10)
    assert last_rule_reason(placement, first) == (False, "the customer's account manager is not available")

    opp = route(opp)
    assert opp.assigned_to is None
    assert opp.routing_status == RoutingStatus.QUEUED


# --- default rule 20: unserved → least-loaded core partner of the region, phone AM as second cover -------


@pytest.mark.parametrize("customer_kind", ["no_manager", "prospect"])
def test_unserved_customer_goes_to_the_core_partner_of_its_city_with_a_phone_manager_as_second_cover(customer_kind):
    phone = PhoneManagerFactory()
    ningbo = PartnerFactory(region_code="330200")
    hangzhou = PartnerFactory(region_code="330100")
    customer = (
        CustomerFactory(region_id="330106", tier="C") if customer_kind == "no_manager" else prospect(region_id="330106")
    )

    opp = route(OpportunityFactory(customer=customer))

    assert opp.routing_status == RoutingStatus.DISPATCHED
    assert opp.assigned_partner == hangzhou != ningbo
    assert opp.assigned_to is None
    assert opp.second_cover == phone
    assert opp.assigned_channel.code == "social_channel"
    assert opp.routed_by_rule.priority == 20
    assert opp.claim_due_at == NOW + datetime.timedelta(hours=48)
    entry = opp.transfers.get(action=Transfer.Action.ROUTED)
    assert entry.to_partner == hangzhou


def test_partner_of_another_city_does_not_cover_the_customer():
    PartnerFactory(region_code="330200")
    phone = PhoneManagerFactory()
    opp = OpportunityFactory(customer=CustomerFactory(region_id="330106"))

    placement = routing.decide(opp)
    core = RoutingRule.objects.get(priority=20)
    matched, why = last_rule_reason(placement, core)
    assert not matched and "no core partner" in why

    opp = route(opp)
    assert opp.assigned_partner is None
    assert opp.assigned_to == phone  # rule 30, the phone pool


def test_partner_industries_limit_what_it_covers():
    PartnerFactory(region_code="330100", industries=["K"])
    finance = PartnerFactory(region_code="330100", industries=["J"])
    opp = route(OpportunityFactory(customer=CustomerFactory(region_id="330106", industry_id="J")))
    assert opp.assigned_partner == finance


def test_the_least_loaded_core_partner_gets_the_next_opportunity():
    busy, idle = PartnerFactory(), PartnerFactory()
    OpportunityFactory(assigned_partner=busy, routing_status=RoutingStatus.DISPATCHED)
    assert route(OpportunityFactory(customer=CustomerFactory())).assigned_partner == idle


def test_partner_staff_and_the_second_cover_hear_of_a_partner_placement():
    phone = PhoneManagerFactory()
    partner = PartnerFactory()
    staff = UserFactory(role=Role.PARTNER, partner=partner)
    opp = route(OpportunityFactory(customer=CustomerFactory()))
    assert opp.assigned_partner == partner
    assert set(Notification.objects.values_list("recipient", flat=True)) == {staff.pk, phone.pk}


# --- default rule 30: no core partner → phone pool round robin with a cap ---------------------------------


def test_phone_pool_round_robin_alternates_between_phone_managers(frozen):
    first, second = PhoneManagerFactory(), PhoneManagerFactory()
    receivers = []
    for _i in range(4):
        frozen.shift(datetime.timedelta(minutes=1))
        receivers.append(route(OpportunityFactory(customer=CustomerFactory())).assigned_to)
    assert receivers == [first, second, first, second]
    assert Opportunity.objects.filter(routed_by_rule__priority=30).count() == 4


def test_phone_pool_skips_a_manager_at_capacity_and_queues_when_all_are_full(dispatcher):
    RoutingRule.objects.filter(priority=30).update(capacity=1)
    full, free = PhoneManagerFactory(), PhoneManagerFactory()
    OpportunityFactory(assigned_to=full, routing_status=RoutingStatus.CLAIMED, claimed_by=full)

    assert route(OpportunityFactory(customer=CustomerFactory())).assigned_to == free

    opp = OpportunityFactory(customer=CustomerFactory())
    placement = routing.decide(opp)
    assert last_rule_reason(placement, RoutingRule.objects.get(priority=30)) == (
        False,
        "no phone account manager below capacity",
    )
    assert route(opp).routing_status == RoutingStatus.QUEUED


def test_closed_opportunities_do_not_count_against_the_cap():
    RoutingRule.objects.filter(priority=30).update(capacity=1)
    phone = PhoneManagerFactory()
    OpportunityFactory(
        kind=Kind.OPPORTUNITY, stage="won", assigned_to=phone, routing_status=RoutingStatus.CLAIMED, claimed_by=phone
    )
    assert route(OpportunityFactory(customer=CustomerFactory())).assigned_to == phone


def test_inactive_phone_manager_is_not_in_the_pool(dispatcher):
    PhoneManagerFactory(is_active=False)
    assert route(OpportunityFactory(customer=CustomerFactory())).routing_status == RoutingStatus.QUEUED


# --- nothing placeable → operations-center queue ----------------------------------------------------------


def test_nothing_placeable_is_queued_at_the_operations_center_and_dispatchers_are_told(dispatcher, am):
    opp = route(OpportunityFactory(customer=prospect()))

    assert opp.routing_status == RoutingStatus.QUEUED
    assert (opp.assigned_to, opp.assigned_partner, opp.claim_due_at) == (None, None, None)
    assert opp.assigned_channel.code == "operations_center"
    entry = opp.transfers.get()
    assert entry.action == Transfer.Action.QUEUED
    assert entry.to_channel.code == "operations_center"
    assert "No rule could place it" in entry.reason
    note = Notification.objects.get()
    assert note.recipient == dispatcher
    assert opp.title in note.title


# --- rules are data ---------------------------------------------------------------------------------------


def _channel(code):
    return ChannelType.objects.get(code=code)


def _product(code):
    return Product.objects.get(code=code)


CONDITIONS = [
    # rule conditions, customer/opportunity that matches, one that does not, why it does not
    ({"tiers": ["A1"]}, {"tier": "A1"}, {"tier": "C"}, "tier not in the rule"),
    ({"region_prefixes": ["3302"]}, {"region_id": "330203"}, {"region_id": "330106"}, "region not in the rule"),
    ({"industries": ["J"]}, {"industry_id": "J"}, {"industry_id": "I"}, "industry not in the rule"),
    ({"amount_min": Decimal("1000")}, {"expected_value": Decimal("1000")}, {"expected_value": Decimal("999")},
     "expected value below the rule's range"),
    ({"amount_max": Decimal("500")}, {"expected_value": Decimal("500")}, {"expected_value": Decimal("501")},
     "expected value above the rule's range"),
    ({"amount_min": Decimal("1")}, {"expected_value": Decimal("5")}, {"expected_value": None},
     "expected value below the rule's range"),
    ({"kind": "opportunity"}, {"kind": "opportunity"}, {"kind": "lead"}, "kind differs"),
    ({"customer_condition": "prospect"}, {"status": "prospect"}, {"status": "active"}, "not a prospect"),
    ({"products": ["VPMN"]}, {"products": ["VPMN", "GCRBT"]}, {"products": ["GCRBT"]}, "no product of the rule"),
    ({"contact_channels": ["web"]}, {"contact_channel": "web"}, {"contact_channel": "group_hotline"},
     "contact channel not in the rule"),
]  # fmt: skip
CUSTOMER_FIELDS = {"tier", "region_id", "industry_id", "status"}


def _make_rule(target_user, conditions, **extra):
    conditions = dict(conditions)
    products = conditions.pop("products", [])
    channels = conditions.pop("contact_channels", [])
    rule = RoutingRule.objects.create(
        name="大额专线 → 专人", priority=5, target="user", target_user=target_user, **conditions, **extra
    )
    rule.products.set([_product(c) for c in products])
    rule.contact_channels.set([_channel(c) for c in channels])
    return rule


def _make_opp(attrs):
    attrs = dict(attrs)
    customer = {k: attrs.pop(k) for k in list(attrs) if k in CUSTOMER_FIELDS}
    customer.setdefault("tier", "" if customer.get("status") == "prospect" else "C")
    products = attrs.pop("products", [])
    if "contact_channel" in attrs:
        attrs["contact_channel"] = _channel(attrs["contact_channel"])
    if attrs.get("kind") == Kind.OPPORTUNITY:
        attrs["stage"] = "identified"
    opp = OpportunityFactory(customer=CustomerFactory(**customer), **attrs)
    opp.products.set([_product(c) for c in products])
    return opp


@pytest.mark.parametrize(("conditions", "matching", "other", "why"), CONDITIONS)
def test_a_rule_with_conditions_wins_when_they_match_and_is_skipped_with_the_reason_when_not(
    conditions, matching, other, why
):
    specialist = UserFactory(role=Role.ACCOUNT_MANAGER)
    PhoneManagerFactory()  # the default rule 30 takes what the rule leaves
    rule = _make_rule(specialist, conditions)

    hit = _make_opp(matching)
    assert routing.decide(hit).rule == rule
    hit = route(hit)
    assert hit.assigned_to == specialist
    assert hit.routed_by_rule == rule
    assert hit.transfers.get(action="routed").rule == rule

    miss = _make_opp(other)
    placement = routing.decide(miss)
    assert last_rule_reason(placement, rule) == (False, why)
    assert placement.rule != rule
    assert route(miss).assigned_to != specialist


def test_rules_are_tried_in_priority_order():
    first, second = UserFactory(role=Role.ACCOUNT_MANAGER), UserFactory(role=Role.ACCOUNT_MANAGER)
    rule_a = RoutingRule.objects.create(name="a", priority=5, target="user", target_user=first)
    rule_b = RoutingRule.objects.create(name="b", priority=4, target="user", target_user=second)
    opp = OpportunityFactory(customer=CustomerFactory())

    assert routing.decide(opp).user == second
    rule_a.priority = 3
    rule_a.save()  # as the admin and the API save it: the router's memo is dropped at once
    placement = routing.decide(opp)
    assert placement.user == first
    assert [label for label, _m, _w in placement.trace] == [str(RoutingRule.objects.get(pk=rule_a.pk))]
    assert rule_b


def test_an_inactive_rule_is_ignored(am):
    specialist = UserFactory(role=Role.ACCOUNT_MANAGER)
    rule = RoutingRule.objects.create(name="off", priority=1, target="user", target_user=specialist, is_active=False)
    opp = OpportunityFactory(customer=CustomerFactory(account_manager=am))
    placement = routing.decide(opp)
    assert placement.user == am
    assert str(rule) not in [label for label, _m, _w in placement.trace]


def test_an_inactive_default_rule_is_ignored(am, dispatcher):
    RoutingRule.objects.filter(priority=10).update(is_active=False)
    assert route(OpportunityFactory(customer=CustomerFactory(account_manager=am))).routing_status == "queued"


def test_channel_matrix_rule_applies_only_to_classes_the_target_channel_serves():
    # The phone account manager channel serves class C only (reference matrix, seed 004 一).
    phone = PhoneManagerFactory()
    rule = RoutingRule.objects.create(name="phone first", priority=1, target="phone_pool", use_channel_matrix=True)

    c_class = route(OpportunityFactory(customer=CustomerFactory(tier="C")))
    assert c_class.routed_by_rule == rule
    assert c_class.assigned_to == phone

    a_class = OpportunityFactory(customer=CustomerFactory(tier="A1"))
    matched, why = last_rule_reason(routing.decide(a_class), rule)
    assert not matched and "channel matrix" in why
    assert route(a_class).routed_by_rule != rule


def test_without_the_channel_matrix_flag_the_same_rule_takes_any_class():
    phone = PhoneManagerFactory()
    rule = RoutingRule.objects.create(name="phone first", priority=1, target="phone_pool")
    a_class = route(OpportunityFactory(customer=CustomerFactory(tier="A1")))
    assert (a_class.routed_by_rule, a_class.assigned_to) == (rule, phone)


def test_team_pool_rule_sends_to_the_least_loaded_member():
    team = TeamFactory()
    busy = UserFactory(role=Role.ACCOUNT_MANAGER, team=team)
    free = UserFactory(role=Role.ACCOUNT_MANAGER, team=team)
    UserFactory(role=Role.AGENT, team=team)  # not a serving role
    rule = RoutingRule.objects.create(name="team", priority=1, target="team_pool", target_team=team)
    OpportunityFactory(assigned_to=busy, routing_status=RoutingStatus.DISPATCHED)
    opp = route(OpportunityFactory(customer=CustomerFactory()))
    assert (opp.routed_by_rule, opp.assigned_to, opp.assigned_team) == (rule, free, team)
    assert opp.assigned_channel.code == "account_manager"


def test_a_named_person_rule_records_the_persons_channel():
    person = PhoneManagerFactory()
    rule = RoutingRule.objects.create(name="person", priority=1, target="user", target_user=person)
    opp = route(OpportunityFactory(customer=CustomerFactory()))
    assert (opp.routed_by_rule, opp.assigned_to, opp.assigned_channel.code) == (rule, person, "phone_account_manager")


def test_operations_center_rule_queues_on_purpose(dispatcher, am):
    rule = RoutingRule.objects.create(name="tenders", priority=1, target="operations_center", tiers=["A1"])
    opp = route(OpportunityFactory(customer=CustomerFactory(account_manager=am, tier="A1")))
    assert opp.routing_status == RoutingStatus.QUEUED
    assert opp.transfers.get(action="queued").rule == rule


# --- once and only once -----------------------------------------------------------------------------------


def test_route_twice_places_once_and_notifies_once(am):
    opp = OpportunityFactory(customer=CustomerFactory(account_manager=am))
    first = services.opportunity_route(opp.pk)
    second = services.opportunity_route(opp.pk)

    assert first is not None and first.action == Transfer.Action.ROUTED
    assert second is None
    assert Transfer.objects.filter(opportunity=opp, action="routed").count() == 1
    assert Notification.objects.filter(recipient=am).count() == 1


@pytest.mark.parametrize("status", ["queued", "dispatched", "escalated", "claimed", "returned"])
def test_route_does_nothing_to_a_row_that_is_not_pending(am, status):
    opp = OpportunityFactory(customer=CustomerFactory(account_manager=am), routing_status=status,
                             assigned_to=am, claimed_by=am)  # fmt: skip
    assert services.opportunity_route(opp.pk) is None
    opp.refresh_from_db()
    assert opp.routing_status == status
    assert not Transfer.objects.exists()
    assert not Notification.objects.exists()


def test_route_of_an_unknown_id_does_nothing():
    assert services.opportunity_route(987654) is None


@pytest.mark.parametrize(("first", "second"), [("routed", "routed"), ("routed", "queued"), ("queued", "queued")])
def test_the_database_refuses_a_second_routing_log_row(first, second):
    opp = OpportunityFactory()
    Transfer.objects.create(opportunity=opp, action=first, at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(opportunity=opp, action=second, at=timezone.now())


def test_other_log_rows_may_repeat():
    opp = OpportunityFactory()
    for action in ("routed", "dispatched", "dispatched", "returned", "returned"):
        Transfer.objects.create(opportunity=opp, action=action, at=timezone.now())
    assert opp.transfers.count() == 5


def test_the_routing_task_routes_and_is_safe_to_run_twice(am):
    from opportunities.tasks import route_opportunity

    opp = OpportunityFactory(customer=CustomerFactory(account_manager=am))
    assert route_opportunity(opp.pk) == "routed"
    assert route_opportunity(opp.pk) is None
    assert Transfer.objects.filter(opportunity=opp).count() == 1
