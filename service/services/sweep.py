"""The ticket SLA sweep (Celery beat, every few minutes), set-based like the provisioning sweep: a constant number
of statements however many clocks are due.

- **Warning** before a breach (at the policy's warn percentage): the assignee, or the owner while nobody holds it.
- **Breach** when a clock's due time passes unfulfilled: level 1 — the queue's manager (or, without a queue, the
  owner's team supervisor), the owner, and for A/B customers their account manager.
- **Escalation** while it stays unfulfilled: one level up every further target's length — the team chain of the
  customer's account manager (its supervisor, then the parent team's, district → city → province), up to
  `MAX_LEVEL`.

A person with more than `DIGEST_AFTER` messages of one kind in a sweep gets one summary instead."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from channels.models import Team
from channels.notifications import notify_per_recipient
from service.models import SlaClock, SlaEvent

DIGEST_AFTER = 5
MAX_LEVEL = 4  # queue manager, team supervisor, two levels of parent teams
KEY_TIERS = ("A1", "A2", "B1", "B2")  # their account manager hears of every breach
Action = SlaEvent.Action

_FIELDS = (
    "pk", "metric", "due_at", "target_minutes", "escalation_level", "ticket_id", "ticket__number", "ticket__subject",
    "ticket__owner_id", "ticket__assignee_id", "ticket__queue__manager_id", "ticket__customer__name",
    "ticket__customer__service_tier", "ticket__customer__account_manager_id",
    "ticket__customer__account_manager__team_id", "ticket__owner__team_id",
)  # fmt: skip


@dataclass(frozen=True)
class SweepResult:
    warned: int = 0
    breached: int = 0
    escalated: int = 0


def sweep(*, now: dt.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    return SweepResult(warned=_warn(now), breached=_breach(now), escalated=_escalate(now))


def _due(condition: Q) -> list[dict]:
    """Running clocks (not paused, not fulfilled) meeting `condition`, locked; rows another sweep holds are
    skipped, so two sweeps at once never send a message twice."""
    return list(
        SlaClock.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(condition, fulfilled_at__isnull=True, paused_at__isnull=True)
        .order_by("due_at", "id")
        .values(*_FIELDS)
    )


def _link(clock: dict) -> str:
    return reverse("service:ticket-detail", args=[clock["ticket_id"]])


def _metric(clock: dict) -> str:
    return str(SlaClock.Metric(clock["metric"]).label)


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _send(clocks: list[dict], recipients_of, one, summary, *, kind: str, urgent: bool) -> None:
    notify_per_recipient(
        clocks, recipients_of, lambda clock, users: (*one(clock), _link(clock)),
        lambda theirs, user, users: (*summary(theirs), reverse("service:my-queue")),
        kind=kind, urgent=urgent, digest_after=DIGEST_AFTER,
    )  # fmt: skip


def _one(template: str):
    def one(clock):
        return (
            template % {"metric": _metric(clock), "number": clock["ticket__number"]},
            _("Due %(due)s: %(subject)s, customer %(customer)s.")
            % {"due": _when(clock["due_at"]), "subject": clock["ticket__subject"],
               "customer": clock["ticket__customer__name"]},
        )  # fmt: skip

    return one


def _summary(title):
    """`title(n)`: the summary's title for n deadlines (an ngettext call with literal strings, so it is extracted)."""

    def summary(theirs):
        first = theirs[0]
        return (
            title(len(theirs)),
            _("The first: %(metric)s of %(number)s, due %(due)s, customer %(customer)s.")
            % {"metric": _metric(first), "number": first["ticket__number"], "due": _when(first["due_at"]),
               "customer": first["ticket__customer__name"]},
        )  # fmt: skip

    return summary


def _stamp(clocks: list[dict], action: str, now: dt.datetime, **changes) -> None:
    SlaClock.objects.filter(pk__in=[c["pk"] for c in clocks]).update(**changes)
    SlaEvent.objects.bulk_create([SlaEvent(clock_id=c["pk"], action=action, at=now) for c in clocks])


def _warn(now: dt.datetime) -> int:
    with transaction.atomic():
        clocks = _due(Q(warned_at__isnull=True, breached_at__isnull=True, warn_at__lte=now, due_at__gt=now))
        if not clocks:
            return 0
        _stamp(clocks, Action.WARN, now, warned_at=now)
        _send(
            clocks, lambda c: [c["ticket__assignee_id"] or c["ticket__owner_id"]],
            _one(_("%(metric)s due soon: %(number)s")),
            _summary(lambda n: ngettext("%(count)d ticket deadline due soon", "%(count)d ticket deadlines due soon", n)
                     % {"count": n}),
            kind="ticket_sla_warning", urgent=False,
        )  # fmt: skip
    return len(clocks)


def _teams() -> dict[int, tuple[int | None, int | None]]:
    """Every team's parent and supervisor (one query: teams are few)."""
    return {pk: (parent, sup) for pk, parent, sup in Team.objects.values_list("pk", "parent_id", "supervisor_id")}


def _team_chain(team_id: int | None, teams: dict[int, tuple[int | None, int | None]]) -> list[int | None]:
    """Supervisors from `team_id` upwards (team → parent → …)."""
    chain, seen = [], set()
    while team_id is not None and team_id not in seen:
        seen.add(team_id)
        parent, supervisor = teams.get(team_id, (None, None))
        chain.append(supervisor)
        team_id = parent
    return chain


def _breach(now: dt.datetime) -> int:
    with transaction.atomic():
        clocks = _due(Q(breached_at__isnull=True, due_at__lte=now))
        if not clocks:
            return 0
        teams = _teams()
        # one statement per distinct target length (a handful of policies), not per clock
        by_target: dict[int, list[dict]] = {}
        for clock in clocks:
            by_target.setdefault(clock["target_minutes"], []).append(clock)
        for minutes, group in by_target.items():
            _stamp(group, Action.BREACH, now, breached_at=now, escalation_level=1,
                   escalate_at=now + dt.timedelta(minutes=minutes))  # fmt: skip

        def recipients(clock):
            first = clock["ticket__queue__manager_id"]
            if first is None:
                first = next(iter(_team_chain(clock["ticket__owner__team_id"], teams)), None)
            people = [first, clock["ticket__owner_id"], clock["ticket__assignee_id"]]
            if clock["ticket__customer__service_tier"] in KEY_TIERS:
                people.append(clock["ticket__customer__account_manager_id"])
            return people

        _send(
            clocks, recipients, _one(_("%(metric)s overdue: %(number)s")),
            _summary(lambda n: ngettext("%(count)d ticket deadline overdue", "%(count)d ticket deadlines overdue", n)
                     % {"count": n}),
            kind="ticket_sla_breach", urgent=True,
        )  # fmt: skip
    return len(clocks)


def _escalate(now: dt.datetime) -> int:
    with transaction.atomic():
        clocks = _due(Q(escalate_at__lte=now, escalation_level__lt=MAX_LEVEL))
        if not clocks:
            return 0
        teams = _teams()
        by_step: dict[tuple[int, int], list[dict]] = {}
        for clock in clocks:
            by_step.setdefault((clock["escalation_level"] + 1, clock["target_minutes"]), []).append(clock)
        for (level, minutes), group in by_step.items():
            _stamp(group, Action.ESCALATE, now, escalation_level=level,
                   escalate_at=now + dt.timedelta(minutes=minutes) if level < MAX_LEVEL else None)  # fmt: skip

        def recipients(clock):
            # The row holds the level before this step: reaching level 2 → the account manager's team supervisor
            # (the chain's first), level 3 → the parent team's supervisor, …
            chain = _team_chain(clock["ticket__customer__account_manager__team_id"], teams)
            index = clock["escalation_level"] - 1
            return [chain[index]] if index < len(chain) else []

        _send(
            clocks, recipients, _one(_("Escalated — %(metric)s overdue: %(number)s")),
            _summary(lambda n: ngettext("%(count)d ticket deadline escalated to you",
                                        "%(count)d ticket deadlines escalated to you", n) % {"count": n}),
            kind="ticket_sla_breach", urgent=True,
        )  # fmt: skip
    return len(clocks)
