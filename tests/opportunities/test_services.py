"""The opportunity lifecycle through opportunities.services: capture, claim, return, re-dispatch and stages."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from kombu.exceptions import OperationalError

from channels.models import ChannelType, Notification, Role
from customers.models import Customer
from customers.services import DuplicateWarning
from kam.celery import app
from opportunities import services
from opportunities.models import (
    CloseReason,
    Kind,
    Opportunity,
    RoutingStatus,
    Stage,
    StageChange,
    Transfer,
)
from opportunities.tasks import route_opportunity
from orders.models import Product
from tests.channels.factories import PartnerFactory, PhoneManagerFactory, UserFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HOUR = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def eager(eager_celery):
    """Celery tasks run in-process when the capture commits."""


@pytest.fixture
def hotline(agent):
    agent.channel_type = ChannelType.objects.get(code="group_hotline")
    agent.save()
    return agent


def product(code="VPMN"):
    return Product.objects.get(code=code)


def sent_to(am, *, kind=Kind.LEAD, tier="A1", by=None) -> Opportunity:
    """An opportunity of one of `am`'s customers, captured and routed to `am` (awaiting the claim)."""
    fields = {"description": "20 条专线"} if kind == Kind.OPPORTUNITY else {}
    opp = services.opportunity_capture(
        by=by or am, kind=kind, title="园区专线", customer=CustomerFactory(account_manager=am, tier=tier), **fields
    )
    services.opportunity_route(opp.pk)
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.DISPATCHED and opp.assigned_to == am
    return opp


def claimed(am, *, kind=Kind.OPPORTUNITY) -> Opportunity:
    opp = sent_to(am, kind=kind)
    return services.opportunity_claim(pk=opp.pk, by=am)


def reason(code) -> CloseReason:
    return CloseReason.objects.get(code=code)


# --- capture ----------------------------------------------------------------------------------------------


def test_lead_without_products_is_captured_pending_with_a_number_and_a_captured_log_row(am):
    customer = CustomerFactory(account_manager=am)
    opp = services.opportunity_capture(by=am, kind=Kind.LEAD, title="  想了解云总机 ", customer=customer)

    opp.refresh_from_db()
    assert opp.title == "想了解云总机"
    assert opp.code == f"OP{opp.pk:08d}"
    assert opp.routing_status == RoutingStatus.PENDING
    assert opp.routing_requested_at == NOW
    assert opp.stage == "" and opp.probability is None
    entry = opp.transfers.get()
    assert (entry.action, entry.by, entry.from_user) == (Transfer.Action.CAPTURED, am, am)
    assert not StageChange.objects.exists()


def test_opportunity_capture_starts_at_identified_with_probability_10(hotline, am):
    opp = services.opportunity_capture(by=hotline, kind=Kind.OPPORTUNITY, title="专线", customer=CustomerFactory(),
                           products=[product()], expected_value=Decimal("3000"))  # fmt: skip

    assert (opp.stage, opp.probability) == (Stage.IDENTIFIED, 10)
    assert opp.contact_channel.code == "group_hotline"  # the capturer's channel by default
    assert list(opp.products.all()) == [product()]
    change = StageChange.objects.get(opportunity=opp)
    assert (change.from_stage, change.to_stage, change.by, change.at) == ("", Stage.IDENTIFIED, hotline, NOW)
    assert opp.transfers.get().from_channel.code == "group_hotline"


@pytest.mark.parametrize("description", ["", "   "])
def test_opportunity_without_product_or_description_is_refused_on_products(am, description):
    with pytest.raises(ValidationError) as exc:
        services.opportunity_capture(
            by=am, kind=Kind.OPPORTUNITY, title="专线", customer=CustomerFactory(account_manager=am),
            description=description,
        )  # fmt: skip
    assert "products" in exc.value.message_dict
    assert not Opportunity.objects.exists()


def test_opportunity_with_a_concrete_description_needs_no_product(am):
    opp = services.opportunity_capture(
        by=am, kind=Kind.OPPORTUNITY, title="专线", customer=CustomerFactory(account_manager=am),
        description="总部到 3 个分厂的 100M 专线",
    )  # fmt: skip
    assert opp.stage == Stage.IDENTIFIED


def test_capture_of_a_customer_the_capturer_may_not_see_is_refused(am, teammate):
    theirs = CustomerFactory(account_manager=teammate)
    with pytest.raises(ValidationError) as exc:
        services.opportunity_capture(by=am, kind=Kind.LEAD, title="专线", customer=theirs)
    assert "customer" in exc.value.message_dict
    assert not Opportunity.objects.exists()


def test_capture_needs_a_customer_or_a_prospect_and_a_title(am):
    with pytest.raises(ValidationError) as exc:
        services.opportunity_capture(by=am, kind="nonsense", title=" ")
    assert set(exc.value.message_dict) >= {"kind", "title", "customer"}


def test_read_only_roles_may_not_capture(analyst):
    with pytest.raises(PermissionDenied):
        services.opportunity_capture(by=analyst, kind=Kind.LEAD, title="专线", customer=CustomerFactory())


def test_prospect_that_may_exist_raises_a_duplicate_warning_and_confirming_creates_a_prospect(hotline):
    existing = CustomerFactory(name="中国工商银行股份有限公司北京市分行", region_id="110000")
    named = services.Prospect(name="北京工行", phone="")

    with pytest.raises(DuplicateWarning) as exc:
        services.opportunity_capture(by=hotline, kind=Kind.LEAD, title="网点专线", prospect=named)
    assert exc.value.candidates[0].customer == existing
    assert not Opportunity.objects.exists()
    assert not Customer.objects.filter(name="北京工行").exists()

    opp = services.opportunity_capture(
        by=hotline, kind=Kind.LEAD, title="网点专线", prospect=named, confirm_not_duplicate=True
    )
    assert opp.customer.name == "北京工行"
    assert opp.customer.status == Customer.Status.PROSPECT
    assert opp.customer.account_manager is None
    assert opp.routing_status == RoutingStatus.PENDING


def test_new_prospect_without_a_lookalike_is_created_at_once(hotline):
    opp = services.opportunity_capture(by=hotline, kind=Kind.LEAD, title="专线", prospect=services.Prospect(
        name="杭州云栖星辰数据有限公司", region_id="330106", industry_id="I"))  # fmt: skip
    assert (opp.customer.status, opp.customer.region_id) == (Customer.Status.PROSPECT, "330106")


def test_capture_enqueues_routing_after_commit_and_the_router_places_it(am, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        opp = services.opportunity_capture(
            by=am, kind=Kind.LEAD, title="专线", customer=CustomerFactory(account_manager=am)
        )
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.PENDING  # nothing routed inside the transaction
    assert callbacks

    for callback in callbacks:
        callback()
    opp.refresh_from_db()
    assert (opp.routing_status, opp.assigned_to) == (RoutingStatus.DISPATCHED, am)


def test_broker_down_at_commit_does_not_fail_the_capture_and_the_sweep_routes_it_later(
    am, eager, monkeypatch, frozen, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(route_opportunity, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        opp = services.opportunity_capture(
            by=am, kind=Kind.LEAD, title="专线", customer=CustomerFactory(account_manager=am)
        )
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.PENDING

    monkeypatch.undo()  # the broker is back
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.routing_sweep(older_than=datetime.timedelta(seconds=90)) == 0  # not stale yet
    frozen.shift(datetime.timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.routing_sweep(older_than=datetime.timedelta(seconds=90)) == 1
    opp.refresh_from_db()
    assert (opp.routing_status, opp.assigned_to, opp.routing_attempts) == (RoutingStatus.DISPATCHED, am, 1)
    assert opp.transfers.filter(action=Transfer.Action.ROUTED).count() == 1


# --- claim ------------------------------------------------------------------------------------------------


def test_receiver_claims_on_time_and_the_capturer_is_told(am, hotline):
    opp = sent_to(am, by=hotline, tier="C")
    # (an agent sees every customer, so it may capture for any of them)
    opp = services.opportunity_claim(pk=opp.pk, by=am)

    assert (opp.routing_status, opp.claimed_by, opp.assigned_to) == (RoutingStatus.CLAIMED, am, am)
    assert (opp.claimed_at, opp.claimed_on_time) == (NOW, True)
    entry = opp.transfers.get(action=Transfer.Action.CLAIMED)
    assert (entry.by, entry.to_user) == (am, am)
    assert Notification.objects.filter(recipient=hotline, title__startswith="Claimed").count() == 1


def test_claim_after_the_deadline_is_recorded_as_late(am, frozen):
    opp = sent_to(am, tier="A1")
    frozen.shift(24 * HOUR + datetime.timedelta(minutes=1))
    assert services.opportunity_claim(pk=opp.pk, by=am).claimed_on_time is False


def test_claim_exactly_at_the_deadline_is_on_time(am, frozen):
    opp = sent_to(am, tier="A1")
    frozen.shift(24 * HOUR)
    assert services.opportunity_claim(pk=opp.pk, by=am).claimed_on_time is True


def test_second_claim_gets_a_conflict_naming_the_winner(hotline):
    phone = PhoneManagerFactory(display_name="电话经理小王")
    partner = PartnerFactory()
    staff = UserFactory(role=Role.PARTNER, partner=partner, display_name="代理商小李")
    opp = services.opportunity_capture(by=hotline, kind=Kind.LEAD, title="专线", customer=CustomerFactory())
    services.opportunity_route(opp.pk)
    opp.refresh_from_db()
    assert (opp.assigned_partner, opp.second_cover) == (partner, phone)

    services.opportunity_claim(pk=opp.pk, by=staff)
    with pytest.raises(services.Conflict, match="Already claimed by 代理商小李"):
        services.opportunity_claim(pk=opp.pk, by=phone)
    opp.refresh_from_db()
    assert opp.claimed_by == staff
    assert opp.transfers.filter(action="claimed").count() == 1


def test_second_cover_may_claim(hotline):
    phone = PhoneManagerFactory()
    PartnerFactory()
    opp = services.opportunity_capture(by=hotline, kind=Kind.LEAD, title="专线", customer=CustomerFactory())
    services.opportunity_route(opp.pk)
    opp = services.opportunity_claim(pk=opp.pk, by=phone)
    assert (opp.claimed_by, opp.assigned_to) == (phone, phone)


def test_someone_who_sees_it_but_was_not_sent_it_may_not_claim(am, hotline, dispatcher):
    opp = sent_to(am, by=hotline)
    for user in (hotline, dispatcher):  # the capturer follows it; the operations center sees everything
        with pytest.raises(PermissionDenied):
            services.opportunity_claim(pk=opp.pk, by=user)
    assert Opportunity.objects.get(pk=opp.pk).routing_status == RoutingStatus.DISPATCHED


def test_an_outsider_cannot_even_find_it(am, outsider):
    opp = sent_to(am)
    with pytest.raises(Opportunity.DoesNotExist):
        services.opportunity_claim(pk=opp.pk, by=outsider)


def test_partner_staff_of_another_partner_may_not_claim(hotline):
    PhoneManagerFactory()
    mine, other = PartnerFactory(), PartnerFactory(region_code="330200")
    stranger = UserFactory(role=Role.PARTNER, partner=other)
    opp = services.opportunity_capture(by=hotline, kind=Kind.LEAD, title="专线", customer=CustomerFactory())
    services.opportunity_route(opp.pk)
    assert Opportunity.objects.get(pk=opp.pk).assigned_partner == mine
    with pytest.raises(Opportunity.DoesNotExist):
        services.opportunity_claim(pk=opp.pk, by=stranger)


def test_claim_of_a_queued_opportunity_is_a_conflict(hotline, dispatcher):
    opp = services.opportunity_capture(by=hotline, kind=Kind.LEAD, title="专线", customer=CustomerFactory())
    services.opportunity_route(opp.pk)  # no partner, no phone manager: queued
    assert Opportunity.objects.get(pk=opp.pk).routing_status == RoutingStatus.QUEUED
    with pytest.raises(services.Conflict, match="not waiting for a claim"):
        services.opportunity_claim(pk=opp.pk, by=hotline)


# --- return and re-dispatch -------------------------------------------------------------------------------


@pytest.mark.parametrize("why", ["", "   "])
def test_return_needs_a_reason(am, why):
    opp = sent_to(am)
    with pytest.raises(ValidationError) as exc:
        services.opportunity_return(pk=opp.pk, by=am, reason=why)
    assert "reason" in exc.value.message_dict
    assert Opportunity.objects.get(pk=opp.pk).routing_status == RoutingStatus.DISPATCHED


@pytest.mark.parametrize("after_claim", [False, True])
def test_return_goes_to_the_operations_center_and_dispatchers_are_told(am, dispatcher, after_claim):
    opp = claimed(am) if after_claim else sent_to(am)
    opp = services.opportunity_return(pk=opp.pk, by=am, reason="客户在外省，本地无法服务")

    assert opp.routing_status == RoutingStatus.RETURNED
    assert (opp.assigned_to, opp.claimed_by, opp.claim_due_at) == (None, None, None)
    assert opp.assigned_channel.code == "operations_center"
    entry = opp.transfers.get(action=Transfer.Action.RETURNED)
    assert (entry.by, entry.from_user, entry.to_channel.code) == (am, am, "operations_center")
    assert entry.from_channel.code == "account_manager"
    assert entry.reason == "客户在外省，本地无法服务"
    note = Notification.objects.get(recipient=dispatcher)
    assert note.body == "客户在外省，本地无法服务"


def test_only_the_receiver_may_return_it(am, hotline):
    opp = sent_to(am, by=hotline)
    with pytest.raises(PermissionDenied):
        services.opportunity_return(pk=opp.pk, by=hotline, reason="不是我的")


def test_the_second_cover_may_not_return_what_the_partner_claimed(hotline, dispatcher):
    phone = PhoneManagerFactory()
    partner = PartnerFactory()
    staff = UserFactory(role=Role.PARTNER, partner=partner)
    opp = services.opportunity_capture(by=hotline, kind=Kind.LEAD, title="专线", customer=CustomerFactory())
    services.opportunity_route(opp.pk)
    services.opportunity_claim(pk=opp.pk, by=staff)

    with pytest.raises(PermissionDenied):
        services.opportunity_return(pk=opp.pk, by=phone, reason="我来不了")
    assert Opportunity.objects.get(pk=opp.pk).claimed_by == staff
    assert services.opportunity_return(pk=opp.pk, by=staff, reason="客户不在服务区").routing_status == "returned"


def test_the_second_cover_may_return_before_anyone_claimed(hotline, dispatcher):
    phone = PhoneManagerFactory()
    PartnerFactory()
    opp = services.opportunity_capture(by=hotline, kind=Kind.LEAD, title="专线", customer=CustomerFactory())
    services.opportunity_route(opp.pk)
    opp = services.opportunity_return(pk=opp.pk, by=phone, reason="不是 C 类")
    assert (opp.routing_status, opp.assigned_partner, opp.second_cover) == ("returned", None, None)


def test_returning_twice_is_a_conflict(am, dispatcher):
    opp = sent_to(am)
    services.opportunity_return(pk=opp.pk, by=am, reason="无法服务")
    with pytest.raises(services.Conflict, match="already with the operations center"):
        services.opportunity_return(pk=opp.pk, by=am, reason="无法服务")
    assert Transfer.objects.filter(opportunity=opp, action="returned").count() == 1


def test_dispatcher_re_dispatches_to_a_person_with_fresh_timers(am, teammate, dispatcher, frozen):
    opp = sent_to(am, tier="A1")
    services.opportunity_return(pk=opp.pk, by=am, reason="休假两周")
    frozen.shift(3 * HOUR)

    opp = services.opportunity_dispatch(pk=opp.pk, by=dispatcher, to_user=teammate, reason="同组代为跟进")

    assert (opp.routing_status, opp.assigned_to) == (RoutingStatus.DISPATCHED, teammate)
    assert opp.assigned_channel.code == "account_manager"  # from the role: the login names no channel
    assert opp.dispatched_at == NOW + 3 * HOUR
    assert opp.claim_due_at == NOW + 27 * HOUR
    entry = opp.transfers.get(action=Transfer.Action.DISPATCHED)
    assert (entry.by, entry.to_user, entry.reason) == (dispatcher, teammate, "同组代为跟进")
    assert entry.from_channel.code == "operations_center"
    assert Notification.objects.filter(recipient=teammate, title__startswith="Dispatched to you").count() == 1
    assert services.opportunity_claim(pk=opp.pk, by=teammate).claimed_on_time is True


def test_dispatch_restarts_the_timers_of_an_escalated_opportunity(am, teammate, dispatcher, frozen):
    opp = sent_to(am, tier="A1")
    frozen.shift(25 * HOUR)
    services.claim_timers_enforce()
    assert Opportunity.objects.get(pk=opp.pk).routing_status == RoutingStatus.ESCALATED

    opp = services.opportunity_dispatch(pk=opp.pk, by=dispatcher, to_user=teammate)
    assert opp.routing_status == RoutingStatus.DISPATCHED
    assert opp.escalated_at is None
    assert opp.claim_due_at == NOW + 49 * HOUR
    frozen.shift(23 * HOUR)
    assert services.claim_timers_enforce() == {"escalated": 0, "returned": 0}


def test_dispatcher_re_dispatches_to_the_phone_channel(am, dispatcher):
    phone = PhoneManagerFactory()
    opp = sent_to(am)
    services.opportunity_return(pk=opp.pk, by=am, reason="C 类客户")

    opp = services.opportunity_dispatch(pk=opp.pk, by=dispatcher, to_channel="phone_account_manager")
    assert (opp.routing_status, opp.assigned_to) == (RoutingStatus.DISPATCHED, phone)
    assert opp.assigned_channel.code == "phone_account_manager"
    entry = opp.transfers.get(action="dispatched")
    assert (entry.by, entry.to_user, entry.to_channel.code) == (dispatcher, phone, "phone_account_manager")


def test_dispatcher_re_dispatches_to_the_social_channel_with_a_second_cover(am, dispatcher):
    phone = PhoneManagerFactory()
    partner = PartnerFactory()
    opp = sent_to(am)
    services.opportunity_return(pk=opp.pk, by=am, reason="需要代理商上门")

    opp = services.opportunity_dispatch(pk=opp.pk, by=dispatcher, to_channel="social_channel", reason="核心代理")
    assert (opp.assigned_partner, opp.second_cover, opp.assigned_to) == (partner, phone, None)
    assert opp.transfers.get(action="dispatched").to_partner == partner


def test_dispatch_to_a_channel_that_cannot_take_it_is_refused(am, dispatcher):
    opp = sent_to(am)
    services.opportunity_return(pk=opp.pk, by=am, reason="无法服务")
    with pytest.raises(ValidationError) as exc:
        services.opportunity_dispatch(
            pk=opp.pk, by=dispatcher, to_channel="phone_account_manager"
        )  # nobody in the pool
    assert "to_channel" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.opportunity_dispatch(pk=opp.pk, by=dispatcher, to_channel="nowhere")
    with pytest.raises(ValidationError):
        services.opportunity_dispatch(pk=opp.pk, by=dispatcher)


def test_dispatch_to_someone_who_cannot_take_opportunities_is_refused(am, dispatcher, analyst):
    opp = sent_to(am)
    with pytest.raises(ValidationError) as exc:
        services.opportunity_dispatch(pk=opp.pk, by=dispatcher, to_user=analyst)
    assert "to_user" in exc.value.message_dict


@pytest.mark.parametrize("who", ["am", "supervisor", "hotline"])
def test_only_the_operations_center_dispatches(request, am, teammate, who):
    opp = sent_to(am)
    with pytest.raises(PermissionDenied):
        services.opportunity_dispatch(pk=opp.pk, by=request.getfixturevalue(who), to_user=teammate)
    assert Opportunity.objects.get(pk=opp.pk).assigned_to == am


def test_the_transfer_log_tells_the_whole_story(hotline, am, teammate, dispatcher):
    opp = sent_to(am, by=hotline)
    services.opportunity_return(pk=opp.pk, by=am, reason="出差")
    services.opportunity_dispatch(pk=opp.pk, by=dispatcher, to_user=teammate, reason="同组跟进")
    services.opportunity_claim(pk=opp.pk, by=teammate)

    log = list(opp.transfers.values_list("action", "by__username", "from_user__username", "to_user__username"))
    assert log == [
        ("captured", hotline.username, hotline.username, None),
        ("routed", None, hotline.username, am.username),
        ("returned", am.username, am.username, None),
        ("dispatched", dispatcher.username, None, teammate.username),
        ("claimed", teammate.username, teammate.username, teammate.username),
    ]


# --- stages -----------------------------------------------------------------------------------------------


def test_stages_move_along_the_allowed_moves_with_their_probabilities(am):
    opp = claimed(am)
    opp = services.opportunity_move_stage(pk=opp.pk, by=am, stage=Stage.SOLUTION, note="跳过调研")
    assert (opp.stage, opp.probability) == (Stage.SOLUTION, 40)
    opp = services.opportunity_move_stage(pk=opp.pk, by=am, stage=Stage.CLARIFYING)
    assert (opp.stage, opp.probability) == (Stage.CLARIFYING, 25)
    assert list(opp.stage_changes.values_list("from_stage", "to_stage")) == [
        ("", "identified"), ("identified", "solution"), ("solution", "clarifying"),
    ]  # fmt: skip


@pytest.mark.parametrize("to", [Stage.BIDDING, Stage.NEGOTIATING, Stage.SIGNED])
def test_forbidden_moves_are_refused(am, to):
    opp = claimed(am)
    with pytest.raises(ValidationError) as exc:
        services.opportunity_move_stage(pk=opp.pk, by=am, stage=to)
    assert "stage" in exc.value.message_dict
    assert Opportunity.objects.get(pk=opp.pk).stage == Stage.IDENTIFIED


@pytest.mark.parametrize("to", [Stage.WON, Stage.LOST, Stage.SUSPENDED, "nonsense"])
def test_closing_stages_and_unknown_stages_are_not_moves(am, to):
    opp = claimed(am)
    with pytest.raises(ValidationError):
        services.opportunity_move_stage(pk=opp.pk, by=am, stage=to)


def test_an_unclaimed_opportunity_cannot_be_worked(am):
    opp = sent_to(am, kind=Kind.OPPORTUNITY)
    with pytest.raises(services.Conflict):
        services.opportunity_move_stage(pk=opp.pk, by=am, stage=Stage.CLARIFYING)


def test_only_the_owner_or_the_owners_supervisor_works_it(am, teammate, supervisor):
    opp = claimed(am)
    with pytest.raises(Opportunity.DoesNotExist):  # not theirs, not their customer: not found
        services.opportunity_move_stage(pk=opp.pk, by=teammate, stage=Stage.CLARIFYING)
    assert services.opportunity_move_stage(pk=opp.pk, by=supervisor, stage=Stage.CLARIFYING).stage == Stage.CLARIFYING


def test_a_lead_has_no_stage_until_it_is_qualified(am):
    lead = claimed(am, kind=Kind.LEAD)
    with pytest.raises(ValidationError) as exc:
        services.opportunity_move_stage(pk=lead.pk, by=am, stage=Stage.CLARIFYING)
    assert "stage" in exc.value.message_dict

    with pytest.raises(ValidationError):
        services.opportunity_qualify(pk=lead.pk, by=am)  # neither product nor need type
    opp = services.opportunity_qualify(pk=lead.pk, by=am, products=[product()], expected_value=Decimal("5000"))
    assert (opp.kind, opp.stage, opp.probability) == (Kind.OPPORTUNITY, Stage.IDENTIFIED, 10)
    assert opp.expected_value == Decimal("5000")
    assert opp.stage_changes.get().to_stage == Stage.IDENTIFIED
    with pytest.raises(services.Conflict):
        services.opportunity_qualify(pk=lead.pk, by=am, need_type="new")
    assert services.opportunity_move_stage(pk=lead.pk, by=am, stage=Stage.CLARIFYING).stage == Stage.CLARIFYING


def walk(opp, am, *stages):
    for stage in stages:
        opp = services.opportunity_move_stage(pk=opp.pk, by=am, stage=stage)
    return opp


@pytest.mark.parametrize(
    "path",
    [
        (Stage.CLARIFYING, Stage.BIDDING),
        (Stage.CLARIFYING, Stage.BIDDING, Stage.NEGOTIATING),
        (Stage.CLARIFYING, Stage.BIDDING, Stage.SIGNED),
    ],
)
def test_won_from_bidding_negotiating_or_signed(am, path):
    opp = walk(claimed(am), am, *path)
    opp = services.opportunity_close(pk=opp.pk, by=am, result=Stage.WON, reason=reason("solution_fit"))
    assert (opp.stage, opp.probability, opp.closed_at) == (Stage.WON, 100, NOW)
    assert opp.is_closed


@pytest.mark.parametrize("path", [(), (Stage.CLARIFYING,), (Stage.SOLUTION,)])
def test_won_before_the_bid_is_refused(am, path):
    opp = walk(claimed(am), am, *path)
    with pytest.raises(ValidationError) as exc:
        services.opportunity_close(pk=opp.pk, by=am, result=Stage.WON)
    assert "result" in exc.value.message_dict
    assert not Opportunity.objects.get(pk=opp.pk).is_closed


@pytest.mark.parametrize("result", [Stage.LOST, Stage.SUSPENDED])
def test_lost_and_suspended_need_a_reason(am, result):
    opp = claimed(am)
    with pytest.raises(ValidationError) as exc:
        services.opportunity_close(pk=opp.pk, by=am, result=result)
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.opportunity_close(pk=opp.pk, by=am, result=result, reason=reason("solution_fit"))  # a reason for wins
    assert "reason" in exc.value.message_dict
    opp = services.opportunity_close(pk=opp.pk, by=am, result=result, reason=reason("budget"))
    assert (opp.stage, opp.close_reason, opp.probability) == (result, reason("budget"), 0)


def test_loss_to_a_competitor_names_the_competitor(am, hotline):
    opp = claimed(am)
    with pytest.raises(ValidationError) as exc:
        services.opportunity_close(pk=opp.pk, by=am, result=Stage.LOST, reason=reason("competitor"), competitor="  ")
    assert "competitor" in exc.value.message_dict
    opp = services.opportunity_close(
        pk=opp.pk, by=am, result=Stage.LOST, reason=reason("competitor"), competitor="某电信运营商"
    )
    assert opp.competitor == "某电信运营商"
    assert opp.stage_changes.last().to_stage == Stage.LOST
    with pytest.raises(services.Conflict):
        services.opportunity_close(pk=opp.pk, by=am, result=Stage.SUSPENDED, reason=reason("budget"))


def test_a_lead_may_be_closed_as_lost(am):
    lead = claimed(am, kind=Kind.LEAD)
    lead = services.opportunity_close(pk=lead.pk, by=am, result=Stage.LOST, reason=reason("not_real"))
    assert (lead.kind, lead.stage) == (Kind.LEAD, Stage.LOST)


def test_a_suspended_opportunity_is_reopened_by_a_move(am):
    opp = walk(claimed(am), am, Stage.CLARIFYING, Stage.BIDDING)
    services.opportunity_close(pk=opp.pk, by=am, result=Stage.SUSPENDED, reason=reason("customer_delay"))

    opp = services.opportunity_move_stage(pk=opp.pk, by=am, stage=Stage.SOLUTION, note="客户重启项目")
    opp.refresh_from_db()
    assert (opp.stage, opp.probability, opp.closed_at, opp.close_reason) == (Stage.SOLUTION, 40, None, None)
    assert not opp.is_closed


def test_a_lost_opportunity_is_not_reopened(am):
    opp = claimed(am)
    services.opportunity_close(pk=opp.pk, by=am, result=Stage.LOST, reason=reason("price"))
    with pytest.raises(ValidationError):
        services.opportunity_move_stage(pk=opp.pk, by=am, stage=Stage.IDENTIFIED)


def test_a_closed_opportunity_is_neither_returned_nor_dispatched(am, teammate, dispatcher):
    opp = claimed(am)
    services.opportunity_close(pk=opp.pk, by=am, result=Stage.LOST, reason=reason("price"))
    with pytest.raises(services.Conflict):
        services.opportunity_return(pk=opp.pk, by=am, reason="晚了")
    with pytest.raises(services.Conflict):
        services.opportunity_dispatch(pk=opp.pk, by=dispatcher, to_user=teammate)


def test_days_in_stage_are_recorded_on_each_move(am, frozen):
    opp = claimed(am)
    frozen.shift(datetime.timedelta(days=3, hours=12))
    services.opportunity_move_stage(pk=opp.pk, by=am, stage=Stage.CLARIFYING)
    frozen.shift(datetime.timedelta(hours=6))
    services.opportunity_move_stage(pk=opp.pk, by=am, stage=Stage.SOLUTION)

    days = list(opp.stage_changes.values_list("to_stage", "days_in_stage"))
    assert days == [
        (Stage.IDENTIFIED, None),
        (Stage.CLARIFYING, Decimal("3.50")),
        (Stage.SOLUTION, Decimal("0.25")),
    ]


def test_activity_updates_last_activity_and_next_action(am, frozen):
    opp = claimed(am)
    frozen.shift(HOUR)
    services.activity_create(pk=opp.pk, by=am, kind="call", notes="约了下周上门", next_action="上门调研",
                          next_action_due=datetime.date(2026, 11, 9))  # fmt: skip
    opp.refresh_from_db()
    assert (opp.last_activity_at, opp.next_action) == (NOW + HOUR, "上门调研")
    with pytest.raises(ValidationError):
        services.activity_create(pk=opp.pk, by=am, kind="call", notes=" ")
    with pytest.raises(ValidationError):
        services.activity_create(pk=opp.pk, by=am, kind="call", notes="明天", at=NOW + 48 * HOUR)
