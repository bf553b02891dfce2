"""The SLA engine: which policy applies to a ticket, and its clocks — started, paused while the ticket waits
for the customer, resumed (never past the hard cap), fulfilled. Each change is an `SlaEvent` row. The sweep
(warnings, breaches, escalation) reads the clocks' partial indexes."""

import datetime as dt

from channels.calendar import add_clock_hours, clock_hours_between
from service.models import SlaClock, SlaEvent, SlaPolicy, Ticket, TicketCategory

Metric = SlaClock.Metric
Action = SlaEvent.Action


def policy_for(
    *, kind: str, category_id: int | None, service_tier: str, sla_class: str, channel: str
) -> SlaPolicy | None:
    """The first active policy, in sequence, whose conditions all match (two queries)."""
    chain = {pk for pk, _queue in TicketCategory.objects.chain(category_id)}
    for policy in SlaPolicy.objects.filter(is_active=True).order_by("sequence", "id"):
        if policy.matches(
            kind=kind, category_chain=chain, service_tier=service_tier, sla_class=sla_class, channel=channel
        ):
            return policy
    return None


def _due(start: dt.datetime, minutes: float, working_hours: bool) -> dt.datetime:
    return add_clock_hours(start, minutes / 60, working_hours=working_hours)


def _clock(ticket: Ticket, policy: SlaPolicy, metric: str, minutes: int, now: dt.datetime, hard_due=None):
    due = _due(now, minutes, policy.working_hours)
    if hard_due is not None:
        due = min(due, hard_due)
    return SlaClock(
        ticket=ticket, metric=metric, working_hours=policy.working_hours, target_minutes=minutes, started_at=now,
        due_at=due, warn_at=_due(now, minutes * policy.warn_percent / 100, policy.working_hours),
        hard_due_at=hard_due,
    )  # fmt: skip


def start_clocks(ticket: Ticket, policy: SlaPolicy | None, *, now: dt.datetime) -> list[SlaClock]:
    """The ticket's clocks from its policy: first response, resolution (never past the hard cap), the hard cap
    itself, and for faults the periodic progress update. Returns them (saved, with their START events)."""
    if policy is None:
        return []
    hard_due = _due(now, policy.hard_cap_minutes, policy.working_hours) if policy.hard_cap_minutes else None
    clocks = []
    if policy.first_response_minutes:
        clocks.append(_clock(ticket, policy, Metric.FIRST_RESPONSE, policy.first_response_minutes, now, hard_due))
    if policy.resolution_minutes:
        clocks.append(_clock(ticket, policy, Metric.RESOLUTION, policy.resolution_minutes, now, hard_due))
    if hard_due is not None:
        clocks.append(_clock(ticket, policy, Metric.HARD_CAP, policy.hard_cap_minutes, now))
    if policy.update_minutes and ticket.kind == Ticket.Kind.FAULT:
        clocks.append(_clock(ticket, policy, Metric.UPDATE, policy.update_minutes, now, hard_due))
    SlaClock.objects.bulk_create(clocks)
    SlaEvent.objects.bulk_create([SlaEvent(clock=clock, action=Action.START, at=now) for clock in clocks])
    return clocks


def restart_resolution(ticket: Ticket, *, now: dt.datetime) -> SlaClock | None:
    """A reopened ticket: a fresh resolution clock from its policy (the hard cap of the first round is over)."""
    policy = ticket.sla_policy
    if policy is None or not policy.resolution_minutes:
        return None
    clock = _clock(ticket, policy, Metric.RESOLUTION, policy.resolution_minutes, now)
    clock.save()
    SlaEvent.objects.create(clock=clock, action=Action.START, at=now)
    return clock


def _running(ticket: Ticket, metrics=None):
    rows = SlaClock.objects.filter(ticket=ticket, fulfilled_at__isnull=True)
    return rows.filter(metric__in=metrics) if metrics else rows


def fulfil(ticket: Ticket, metrics: list[str], *, now: dt.datetime, by=None) -> int:
    """Stop the running clocks of `metrics` as met (or late, when already breached). A fulfilled progress
    update starts the next one while the ticket stays open."""
    clocks = list(_running(ticket, metrics))
    if not clocks:
        return 0
    SlaClock.objects.filter(pk__in=[c.pk for c in clocks]).update(fulfilled_at=now, paused_at=None)
    SlaEvent.objects.bulk_create([SlaEvent(clock=c, action=Action.FULFIL, at=now, actor=by) for c in clocks])
    follow = [c for c in clocks if c.metric == Metric.UPDATE and ticket.is_open]
    if follow:
        policy = ticket.sla_policy
        restarted = [_clock(ticket, policy, Metric.UPDATE, c.target_minutes, now, c.hard_due_at) for c in follow]
        SlaClock.objects.bulk_create(restarted)
        SlaEvent.objects.bulk_create([SlaEvent(clock=c, action=Action.START, at=now) for c in restarted])
    return len(clocks)


def start_next_reply(ticket: Ticket, *, now: dt.datetime) -> SlaClock | None:
    """A new message of the customer: the next-reply clock starts (once: a second message before the reply
    keeps the first one's clock)."""
    policy = ticket.sla_policy
    if policy is None or not policy.next_reply_minutes or _running(ticket, [Metric.NEXT_REPLY]).exists():
        return None
    hard = _running(ticket, [Metric.HARD_CAP]).values_list("due_at", flat=True).first()
    clock = _clock(ticket, policy, Metric.NEXT_REPLY, policy.next_reply_minutes, now, hard)
    clock.save()
    SlaEvent.objects.create(clock=clock, action=Action.START, at=now)
    return clock


def pause(ticket: Ticket, *, now: dt.datetime, by=None) -> int:
    """Waiting for the customer: every running clock but the hard cap stops; the time left is kept."""
    clocks = list(_running(ticket).filter(paused_at__isnull=True).exclude(metric=Metric.HARD_CAP))
    for clock in clocks:
        left = clock_hours_between(now, clock.due_at, working_hours=clock.working_hours) * 60
        SlaClock.objects.filter(pk=clock.pk).update(paused_at=now, remaining_minutes=max(round(left), 0))
    SlaEvent.objects.bulk_create([SlaEvent(clock=c, action=Action.PAUSE, at=now, actor=by) for c in clocks])
    return len(clocks)


def resume(ticket: Ticket, *, now: dt.datetime, by=None) -> int:
    """The customer answered: paused clocks run again with the time they had left (never past the hard cap)."""
    clocks = list(_running(ticket).filter(paused_at__isnull=False))
    for clock in clocks:
        due = _due(now, clock.remaining_minutes or 0, clock.working_hours)
        if clock.hard_due_at is not None:
            due = min(due, clock.hard_due_at)
        used = clock.target_minutes - (clock.remaining_minutes or 0)
        warn_left = clock.target_minutes * (ticket.sla_policy.warn_percent if ticket.sla_policy else 75) / 100 - used
        SlaClock.objects.filter(pk=clock.pk).update(
            paused_at=None, remaining_minutes=None, due_at=due,
            warn_at=_due(now, max(warn_left, 0), clock.working_hours),
        )  # fmt: skip
    SlaEvent.objects.bulk_create([SlaEvent(clock=c, action=Action.RESUME, at=now, actor=by) for c in clocks])
    return len(clocks)
