"""Tickets and their SLA clocks: the policy that applies (kind × tier × circuit class), working-hours clocks
over a weekend and a holiday, pauses, fulfilment, first-contact ownership and the account manager's notice."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from channels.models import CalendarDay, Notification, Role
from service.models import SlaClock, SlaEvent, Ticket, TicketCategory, TicketEvent
from service.services import tickets as svc
from tests.channels.factories import UserFactory
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.orders.factories import SubscriptionFactory, WorkstationFactory

pytestmark = pytest.mark.django_db

ZONE = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=ZONE)
Metric = SlaClock.Metric


def local(moment):
    return timezone.localtime(moment, ZONE).replace(tzinfo=None)


def customer_of(am, tier="C"):
    return CustomerFactory(account_manager=am, tier=tier, service_tier=tier)


def take(agent, customer, kind="complaint", now=MONDAY, **fields):
    return svc.ticket_create(by=agent, customer=customer, kind=kind, subject="网络中断", now=now, **fields)


@pytest.mark.parametrize(
    ("kind", "tier", "sla_class", "priority", "first_response"),
    [
        ("complaint", "A1", None, Ticket.Priority.HIGH, dt.datetime(2026, 12, 7, 11, 0)),  # 2 office hours
        ("complaint", "B2", None, Ticket.Priority.NORMAL, dt.datetime(2026, 12, 7, 13, 0)),  # 4 office hours
        ("complaint", "D", None, Ticket.Priority.NORMAL, dt.datetime(2026, 12, 8, 9, 0)),  # one working day
        ("fault", "C", "AAA", Ticket.Priority.URGENT, dt.datetime(2026, 12, 7, 9, 15)),  # 15 minutes, 7×24
        ("fault", "A1", "standard", Ticket.Priority.HIGH, dt.datetime(2026, 12, 7, 9, 30)),  # A customers' faults
        ("consultation", "A1", None, Ticket.Priority.LOW, dt.datetime(2026, 12, 8, 9, 0)),
    ],
)
def test_priority_and_targets_come_from_the_first_matching_policy(agent, am, kind, tier, sla_class, priority,
                                                                   first_response):  # fmt: skip
    customer = customer_of(am, tier)
    subscription = SubscriptionFactory(customer=customer, sla_class=sla_class) if sla_class else None
    ticket = take(agent, customer, kind, subscription=subscription)
    assert ticket.priority == priority and ticket.number == f"TK{ticket.pk:08d}"
    assert local(ticket.first_response_due) == first_response
    assert ticket.owner == agent and ticket.status == Ticket.Status.NEW
    assert list(ticket.events.values_list("action", flat=True)) == [TicketEvent.Action.CREATE]
    assert set(SlaEvent.objects.filter(clock__ticket=ticket).values_list("action", flat=True)) == {"start"}


def test_working_hours_clocks_skip_the_weekend_and_a_holiday(agent, am):
    CalendarDay.objects.update_or_create(date=dt.date(2026, 12, 14), defaults={"is_working_day": False, "name": "假"})
    friday = dt.datetime(2026, 12, 11, 16, 30, tzinfo=ZONE)
    ticket = take(agent, customer_of(am, "B1"), now=friday)
    # 4 office hours: one on Friday, Monday is a holiday, three on Tuesday from 08:30
    assert local(ticket.first_response_due) == dt.datetime(2026, 12, 15, 11, 30)


def test_waiting_for_the_customer_pauses_the_clocks_but_not_the_hard_cap(agent, am):
    ticket = take(agent, customer_of(am, "B1"))  # resolution: 3 working days = 27 office hours
    resolution = SlaClock.objects.get(ticket=ticket, metric=Metric.RESOLUTION)
    hard_cap = SlaClock.objects.get(ticket=ticket, metric=Metric.HARD_CAP)
    svc.message_customer(ticket, by=agent, text="已收到，正在核查", now=MONDAY + dt.timedelta(minutes=20))
    svc.wait_for_customer(ticket, by=agent, note="等客户提供账单", now=MONDAY + dt.timedelta(hours=1))
    resolution.refresh_from_db()
    assert resolution.paused_at is not None and resolution.remaining_minutes == 26 * 60
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.WAITING

    wednesday = dt.datetime(2026, 12, 9, 10, 0, tzinfo=ZONE)
    svc.customer_wrote(ticket, by=agent, text="账单已发送", now=wednesday)
    resolution.refresh_from_db()
    # 26 office hours from Wednesday 10:00: 7.5 on Wednesday, 9 Thursday, 9 Friday, 0.5 on Monday
    assert local(resolution.due_at) == dt.datetime(2026, 12, 14, 9, 0) and resolution.paused_at is None
    assert SlaClock.objects.get(pk=hard_cap.pk).due_at == hard_cap.due_at  # never paused
    assert SlaClock.objects.filter(ticket=ticket, metric=Metric.NEXT_REPLY, fulfilled_at__isnull=True).exists()
    actions = list(SlaEvent.objects.filter(clock=resolution).values_list("action", flat=True))
    assert actions == ["start", "pause", "resume"]


def test_a_message_meets_the_first_response_and_a_fault_keeps_reporting_progress(agent, am):
    customer = customer_of(am)
    ticket = take(agent, customer, "fault", subscription=SubscriptionFactory(customer=customer, sla_class="AA"))
    svc.message_customer(ticket, by=agent, text="已派单抢修", now=MONDAY + dt.timedelta(minutes=10))
    first = SlaClock.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    assert first.state == "met"
    updates = SlaClock.objects.filter(ticket=ticket, metric=Metric.UPDATE).order_by("id")
    assert [u.fulfilled_at is not None for u in updates] == [True, False]  # the next report is due in 2 h
    assert updates[1].due_at == MONDAY + dt.timedelta(minutes=10, hours=2)

    svc.resolve(ticket, by=agent, resolution="光缆已熔接", now=MONDAY + dt.timedelta(hours=3))
    assert not SlaClock.objects.filter(ticket=ticket, fulfilled_at__isnull=True).exists()
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.RESOLVED
    with pytest.raises(svc.TicketConflict):
        svc.message_customer(ticket, by=agent, text="再次联系")


def test_complaints_reach_the_account_manager_and_a_repeat_is_flagged(agent, am):
    customer = customer_of(am)
    queue = WorkstationFactory()
    parent = TicketCategory.objects.create(name="计费争议", kind="complaint", queue=queue)
    child = TicketCategory.objects.create(name="套餐资费", kind="complaint", parent=parent)
    first = take(agent, customer, category=child)
    again = take(agent, customer, category=child, now=MONDAY + dt.timedelta(days=20))
    assert first.queue == queue and first.repeat_of is None and again.repeat_of == first
    assert Notification.objects.filter(recipient=am, kind="ticket").count() == 2


def test_bad_input_is_refused_all_at_once_and_outsiders_take_nothing(agent, am, outsider):
    customer = customer_of(am)
    other = SubscriptionFactory()
    with pytest.raises(ValidationError) as caught:
        svc.ticket_create(by=agent, customer=customer, kind="consultation", subject="", request_type="change",
                          regulator_appeal=True, subscription=other)  # fmt: skip
    assert set(caught.value.message_dict) == {"subject", "request_type", "regulator_appeal", "subscription"}
    assert not Ticket.objects.exists()
    with pytest.raises(PermissionDenied):
        take(outsider, customer)


# --- working the ticket ------------------------------------------------------------------------------------


def test_the_owner_stays_until_the_hand_over_is_accepted(agent, am):
    colleague = UserFactory(role=Role.AGENT)
    ticket = take(agent, customer_of(am))
    svc.offer_hand_over(ticket, by=agent, to=colleague, note="转技术坐席")
    assert Ticket.objects.get(pk=ticket.pk).owner == agent  # still the first contact's
    with pytest.raises(PermissionDenied):
        svc.accept_hand_over(ticket, by=UserFactory(role=Role.AGENT))
    svc.accept_hand_over(ticket, by=colleague)
    ticket.refresh_from_db()
    assert ticket.owner == colleague and ticket.handover_to is None
    assert list(ticket.events.order_by("id").values_list("action", flat=True)) == ["create", "hand_over", "accept"]
    assert Notification.objects.filter(recipient=agent, kind="ticket").exists()  # told it was taken over


def test_assignment_to_a_queue_and_a_person_and_who_may_do_it(agent, am, outsider):
    ticket = take(agent, customer_of(am))
    queue = WorkstationFactory()
    engineer = UserFactory(role=Role.WORKSTATION_EXECUTOR, workstation=queue)
    with pytest.raises(PermissionDenied):
        svc.assign(ticket, by=outsider, assignee=engineer)
    with pytest.raises(ValidationError):
        svc.assign(ticket, by=agent)
    svc.assign(ticket, by=agent, queue=queue, assignee=engineer, note="请现场排查")
    ticket.refresh_from_db()
    assert (ticket.queue, ticket.assignee, ticket.owner) == (queue, engineer, agent)
    assert Notification.objects.filter(recipient=engineer, kind="ticket").count() == 1
    svc.add_note(ticket, by=engineer, text="已联系客户机房")  # the queue works it now
    assert ticket.events.filter(action="note", actor=engineer).exists()


def test_a_stale_revision_is_a_conflict_and_changes_nothing(agent, am):
    ticket = take(agent, customer_of(am))
    seen = ticket.revision
    svc.message_customer(ticket, by=agent, text="您好", revision=seen)
    with pytest.raises(svc.TicketConflict):
        svc.resolve(Ticket.objects.get(pk=ticket.pk), by=agent, resolution="已处理", revision=seen)
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.IN_PROGRESS


def test_a_refusal_tells_the_customer_why_and_stops_the_clocks(agent, am, caplog, django_capture_on_commit_callbacks):
    customer = customer_of(am)
    contact = ContactFactory(customer=customer)
    ticket = take(agent, customer, "service_request", request_type="suspension", contact=contact)
    caplog.set_level("INFO", logger="kam.sms")
    with django_capture_on_commit_callbacks(execute=True):
        svc.refuse(ticket, by=agent, reason="欠费状态下不能办理停机保号")
    sms = [r.getMessage() for r in caplog.records if r.name == "kam.sms"]
    assert len(sms) == 1 and contact.mobile in sms[0] and "欠费状态下不能办理停机保号" in sms[0]
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.REFUSED
    assert not SlaClock.objects.filter(ticket=ticket, fulfilled_at__isnull=True).exists()


def test_an_unsatisfied_customer_reopens_once(agent, am):
    ticket = take(agent, customer_of(am, "B1"))
    svc.resolve(ticket, by=agent, resolution="已退费", now=MONDAY + dt.timedelta(hours=2))
    with pytest.raises(svc.TicketConflict):
        svc.message_customer(Ticket.objects.get(pk=ticket.pk), by=agent, text="还有问题吗")
    svc.close(ticket, by=agent)
    later = MONDAY + dt.timedelta(days=2)
    svc.reopen(ticket, by=agent, reason="退费金额不对", now=later)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.IN_PROGRESS and ticket.reopened == 1 and ticket.closed_at is None
    running = SlaClock.objects.get(ticket=ticket, metric=Metric.RESOLUTION, fulfilled_at__isnull=True)
    assert running.started_at == later and ticket.resolution_due == running.due_at
    svc.resolve(ticket, by=agent, resolution="已补退差额")
    with pytest.raises(ValidationError):
        svc.reopen(ticket, by=agent, reason="仍不满意")
