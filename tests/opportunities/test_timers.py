"""Claim timers (escalate at the claim deadline, back to the queue at the return deadline) and stale alerts,
with frozen time."""

import datetime
import logging
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from channels.models import Notification
from opportunities import services, tasks
from opportunities.models import CloseReason, Kind, Opportunity, RoutingStatus, Stage, Transfer
from tests.channels.factories import PartnerFactory, PhoneManagerFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def eager(eager_celery):
    """Celery tasks run in-process when the capture commits."""


def sent_to(am, *, tier="A1", kind=Kind.LEAD) -> Opportunity:
    fields = {"description": "专线"} if kind == Kind.OPPORTUNITY else {}
    opp = services.opportunity_capture(
        by=am, kind=kind, title="园区专线", customer=CustomerFactory(account_manager=am, tier=tier), **fields
    )
    services.opportunity_route(opp.pk)
    opp.refresh_from_db()
    assert opp.assigned_to == am
    return opp


def state(opp):
    opp.refresh_from_db()
    return opp.routing_status


# --- claim timers -----------------------------------------------------------------------------------------


def test_nothing_happens_before_the_claim_deadline(am, frozen):
    opp = sent_to(am, tier="A1")
    frozen.shift(24 * HOUR - datetime.timedelta(minutes=1))
    assert services.claim_timers_enforce() == {"escalated": 0, "returned": 0}
    assert state(opp) == RoutingStatus.DISPATCHED


def test_unclaimed_at_the_claim_deadline_escalates_to_receiver_supervisor_and_dispatchers(
    am, supervisor, dispatcher, frozen, eager, caplog, django_capture_on_commit_callbacks
):
    for user, mobile in ((am, "13800000001"), (supervisor, "13800000002")):
        user.mobile, user.email = mobile, f"{user.username}@kam.example"
        user.save()
    opp = sent_to(am, tier="A1")
    mail.outbox.clear()
    Notification.objects.all().delete()
    frozen.shift(24 * HOUR + datetime.timedelta(minutes=1))

    with caplog.at_level(logging.INFO, logger="kam.sms"), django_capture_on_commit_callbacks(execute=True):
        assert services.claim_timers_enforce() == {"escalated": 1, "returned": 0}

    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.ESCALATED
    assert opp.escalated_at == NOW + 24 * HOUR + datetime.timedelta(minutes=1)
    assert opp.assigned_to == am  # still the receiver's to claim
    entry = opp.transfers.get(action=Transfer.Action.ESCALATED)
    assert (entry.to_user, entry.by) == (am, None)
    notes = Notification.objects.filter(kind="claim_overdue")
    assert set(notes.values_list("recipient", flat=True)) == {am.pk, supervisor.pk, dispatcher.pk}
    assert all(n.urgent and n.sent_at for n in notes)
    sms = [r.getMessage() for r in caplog.records if r.name == "kam.sms"]
    assert sorted(m.split(":")[0] for m in sms) == ["SMS to 13800000001", "SMS to 13800000002"]
    assert all(opp.title in m for m in sms)
    assert sorted(m.to[0] for m in mail.outbox) == ["am@kam.example", "sup@kam.example"]
    # still claimable, but late
    assert services.opportunity_claim(pk=opp.pk, by=am).claimed_on_time is False


def test_the_customer_class_decides_the_deadline(am, frozen):
    a_class, c_class = sent_to(am, tier="A1"), sent_to(am, tier="C")
    frozen.shift(30 * HOUR)
    services.claim_timers_enforce()
    assert (state(a_class), state(c_class)) == (RoutingStatus.ESCALATED, RoutingStatus.DISPATCHED)
    frozen.shift(20 * HOUR)
    services.claim_timers_enforce()
    assert state(c_class) == RoutingStatus.ESCALATED


def test_unclaimed_at_the_return_deadline_goes_back_to_the_queue(am, dispatcher, frozen):
    opp = sent_to(am, tier="A1")  # claim 24 h, back to the queue at 48 h
    frozen.shift(25 * HOUR)
    services.claim_timers_enforce()
    frozen.shift(24 * HOUR)

    assert services.claim_timers_enforce() == {"escalated": 0, "returned": 1}
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.QUEUED
    assert (opp.assigned_to, opp.claim_due_at, opp.return_due_at) == (None, None, None)
    assert opp.assigned_channel.code == "operations_center"
    entry = opp.transfers.get(action=Transfer.Action.AUTO_RETURNED)
    assert (entry.from_user, entry.to_channel.code, entry.by) == (am, "operations_center", None)
    assert Notification.objects.filter(recipient=dispatcher, title__startswith="Back in the queue").count() == 1
    with pytest.raises(services.Conflict):
        services.opportunity_claim(pk=opp.pk, by=am)


def test_a_run_that_missed_the_claim_deadline_escalates_and_returns_at_once(am, frozen):
    opp = sent_to(am, tier="A1")
    frozen.shift(49 * HOUR)
    assert services.claim_timers_enforce() == {"escalated": 1, "returned": 1}
    assert state(opp) == RoutingStatus.QUEUED
    assert list(opp.transfers.values_list("action", flat=True)) == ["captured", "routed", "escalated", "auto_returned"]


def test_a_claimed_opportunity_is_untouched_by_the_timers(am, frozen):
    opp = sent_to(am, tier="A1")
    services.opportunity_claim(pk=opp.pk, by=am)
    frozen.shift(100 * HOUR)
    assert services.claim_timers_enforce() == {"escalated": 0, "returned": 0}
    assert state(opp) == RoutingStatus.CLAIMED
    assert not opp.transfers.filter(action__in=["escalated", "auto_returned"]).exists()


def test_running_the_timers_twice_changes_nothing_the_second_time(am, dispatcher, frozen):
    sent_to(am, tier="A1")
    frozen.shift(25 * HOUR)
    assert services.claim_timers_enforce() == {"escalated": 1, "returned": 0}
    counts = Transfer.objects.count(), Notification.objects.count()
    assert services.claim_timers_enforce() == {"escalated": 0, "returned": 0}
    assert (Transfer.objects.count(), Notification.objects.count()) == counts

    frozen.shift(24 * HOUR)
    assert services.claim_timers_enforce() == {"escalated": 0, "returned": 1}
    counts = Transfer.objects.count(), Notification.objects.count()
    assert tasks.enforce_claim_timers() == {"escalated": 0, "returned": 0}  # the beat task, too
    assert (Transfer.objects.count(), Notification.objects.count()) == counts


def test_an_escalated_partner_placement_tells_partner_staff_and_second_cover(hotline_capture, dispatcher, frozen):
    opp, staff, phone = hotline_capture
    frozen.shift(49 * HOUR)  # prospect / no tier: claim within 48 h
    Notification.objects.all().delete()
    assert services.claim_timers_enforce()["escalated"] == 1
    recipients = set(Notification.objects.filter(kind="claim_overdue").values_list("recipient", flat=True))
    assert recipients == {staff.pk, phone.pk, dispatcher.pk}
    assert state(opp) == RoutingStatus.ESCALATED


@pytest.fixture
def hotline_capture(agent):
    from channels.models import Role
    from tests.channels.factories import UserFactory

    phone = PhoneManagerFactory()
    partner = PartnerFactory()
    staff = UserFactory(role=Role.PARTNER, partner=partner)
    opp = services.opportunity_capture(by=agent, kind=Kind.LEAD, title="专线", customer=CustomerFactory(tier=""))
    services.opportunity_route(opp.pk)
    opp.refresh_from_db()
    assert (opp.assigned_partner, opp.second_cover) == (partner, phone)
    return opp, staff, phone


# --- stale alerts -----------------------------------------------------------------------------------------


def claimed_opportunity(am):
    opp = sent_to(am, kind=Kind.OPPORTUNITY)
    return services.opportunity_claim(pk=opp.pk, by=am)


def test_an_opportunity_identified_longer_than_14_days_gets_exactly_one_stale_alert(am, frozen):
    opp = claimed_opportunity(am)
    frozen.shift(14 * DAY - HOUR)
    assert services.stale_alerts_send() == 0

    frozen.shift(2 * HOUR)
    assert services.stale_alerts_send() == 1
    assert services.stale_alerts_send() == 0
    frozen.shift(DAY)
    assert tasks.stale_alerts() == 0
    alert = Notification.objects.get(kind="stale")
    assert (alert.recipient, alert.link) == (am, f"/opportunities/{opp.pk}/")
    assert "14 days" in alert.title


def test_the_next_stage_move_clears_the_stale_alert(am, frozen):
    opp = claimed_opportunity(am)
    frozen.shift(15 * DAY)
    assert services.stale_alerts_send() == 1
    opp.refresh_from_db()
    assert opp.stale_alerted_at == NOW + 15 * DAY

    services.opportunity_move_stage(pk=opp.pk, by=am, stage=Stage.CLARIFYING)
    opp.refresh_from_db()
    assert opp.stale_alerted_at is None
    frozen.shift(29 * DAY)  # clarifying goes stale after 30 days
    assert services.stale_alerts_send() == 0
    frozen.shift(2 * DAY)
    assert services.stale_alerts_send() == 1
    assert Notification.objects.filter(kind="stale").count() == 2


def test_closed_and_unclaimed_opportunities_get_no_stale_alert(am, frozen):
    closed = claimed_opportunity(am)
    services.opportunity_close(pk=closed.pk, by=am, result=Stage.LOST, reason=CloseReason.objects.get(code="price"))
    sent_to(am, kind=Kind.OPPORTUNITY)  # never claimed: the claim timers deal with it
    frozen.shift(60 * DAY)
    assert services.stale_alerts_send() == 0


def test_a_lead_not_qualified_in_time_gets_one_alert(am, frozen):
    lead = sent_to(am, tier="A1")  # A tiers: qualify or close within 7 days
    services.opportunity_claim(pk=lead.pk, by=am)
    frozen.shift(6 * DAY)
    assert services.stale_alerts_send() == 0
    frozen.shift(2 * DAY)
    assert services.stale_alerts_send() == 1
    assert services.stale_alerts_send() == 0
    assert Notification.objects.get(kind="stale").title.startswith("Qualify or close this lead")


def _overdue_partner_leads(count: int, hotline) -> None:
    """`count` leads sent to partner pools (staff notified as a group) with a phone AM as second cover."""
    for _n in range(count):
        opp = services.opportunity_capture(by=hotline, kind=Kind.LEAD, title="宽带", customer=CustomerFactory())
        services.opportunity_route(opp.pk)


def test_timers_cost_the_same_queries_for_few_or_many_overdue_rows(
    dispatcher, frozen, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from channels.models import Role
    from tests.channels.factories import UserFactory

    hotline = UserFactory(role=Role.AGENT)
    partner = PartnerFactory()
    PhoneManagerFactory()
    for _n in range(2):
        UserFactory(role=Role.PARTNER, partner=partner)

    def run_with(count):
        Opportunity.objects.all().delete()
        Notification.objects.all().delete()
        _overdue_partner_leads(count, hotline)
        frozen.shift(49 * HOUR)  # past the claim deadline of a C customer (48 h): escalate all
        with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(15) as captured:
            assert services.claim_timers_enforce()["escalated"] == count
        # every overdue lead told its partner's two staff, the second cover and the dispatcher
        assert Notification.objects.filter(kind="claim_overdue").count() == count * 4
        return len(captured)

    run_with(1)  # warms the router's memo of channel types
    assert run_with(2) == run_with(8)
