"""Reads of the service desk: a ticket with its timeline and clocks, the queues, the 360 panel. Every read goes
through `Ticket.objects.visible_to(user)`."""

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from service.models import (
    OPEN_TICKET_STATES,
    FollowUp,
    KbArticle,
    SlaClock,
    SlaEvent,
    Ticket,
    TicketCategory,
    TicketEvent,
)


def ticket_detail(user, pk: int) -> Ticket:
    """Raises Ticket.DoesNotExist for a ticket the user may not see (the view answers 404)."""
    return (
        Ticket.objects.visible_to(user)
        .select_related(
            "customer__account_manager",
            "contact",
            "category",
            "owner",
            "assignee",
            "queue",
            "handover_to",
            "subscription__product",
            "sla_policy",
            "repeat_of",
        )  # fmt: skip
        .get(pk=pk)
    )


def timeline(ticket: Ticket) -> list[TicketEvent]:
    return list(ticket.events.select_related("actor", "to_user", "to_queue").order_by("at", "id"))


def clocks(ticket: Ticket) -> list[SlaClock]:
    return list(SlaClock.objects.filter(ticket=ticket).order_by("started_at", "id"))


def my_queue(user) -> QuerySet[Ticket]:
    """Open tickets in the user's hands: owned, assigned, offered, or waiting in their workstation's queue —
    most urgent first (priority, then the nearest resolution deadline)."""
    mine = Q(owner=user) | Q(assignee=user) | Q(handover_to=user)
    if user.workstation_id:
        mine |= Q(queue_id=user.workstation_id, assignee__isnull=True)
    return (
        Ticket.objects.visible_to(user)
        .filter(mine, status__in=OPEN_TICKET_STATES)
        .select_related("customer", "owner", "assignee", "queue")
        .order_by("priority", "resolution_due", "id")
    )


def customer_tickets(user, customer, *, limit: int = 10) -> tuple[int, list[Ticket]]:
    """The 360 panel: open tickets first, then the latest closed ones (two queries)."""
    rows = Ticket.objects.visible_to(user).filter(customer=customer)
    open_count = rows.filter(status__in=OPEN_TICKET_STATES).count()
    latest = list(rows.select_related("owner").order_by("-created_at", "-id")[:limit])
    return open_count, latest


# --- knowledge base ----------------------------------------------------------------------------------------

MAX_QUERY = 100


def kb_text_match(rows: QuerySet[KbArticle], q: str) -> QuerySet[KbArticle]:
    """Articles whose title, text or a script step contains `q` (bounded), title matches first."""
    q = q.strip()[:MAX_QUERY]
    if not q:
        return rows
    rows = rows.filter(Q(title__icontains=q) | Q(body__icontains=q) | Q(steps__question__icontains=q)
                       | Q(steps__answer__icontains=q)).distinct()  # fmt: skip
    return rows.annotate(
        in_title=Case(When(title__icontains=q, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("in_title", "-useful", "-updated_at", "-id")


def kb_search(user, *, q: str = "", kind: str = "") -> QuerySet[KbArticle]:
    """Articles the user may see. A query of any length (two Chinese characters included) is found anywhere in
    the title or the text; title matches first. (The knowledge base is thousands of rows, not millions: a
    contains-scan of its text is a few milliseconds on both databases.)"""
    rows = kb_text_match(KbArticle.objects.visible_to(user).select_related("category"), q)
    return rows.filter(kind=kind) if kind else rows


def kb_suggestions(user, category_id: int | None, *, limit: int = 5) -> list[KbArticle]:
    """For a ticket of this category: the articles of the category and of the ones above it, scripts first."""
    chain = [pk for pk, _queue in TicketCategory.objects.chain(category_id)]
    if not chain:
        return []
    return list(
        KbArticle.objects.visible_to(user).filter(category_id__in=chain)
        .prefetch_related("steps")
        .order_by(Case(When(kind=KbArticle.Kind.SCRIPT, then=Value(0)), default=Value(1)), "-useful", "-id")[:limit]
    )  # fmt: skip


# --- the wall board and the ticket lists -------------------------------------------------------------------

STATE_BREACHED, STATE_AT_RISK, STATE_ON_TRACK = "breached", "at_risk", "on_track"


def _running_clocks(**conditions):
    return SlaClock.objects.filter(ticket=OuterRef("pk"), fulfilled_at__isnull=True, **conditions)


def with_sla_state(rows: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Each ticket's SLA state: breached (a running clock past due), at risk (warned), on track."""
    return rows.annotate(
        sla_breached=Exists(_running_clocks(breached_at__isnull=False)),
        sla_warned=Exists(_running_clocks(warned_at__isnull=False, breached_at__isnull=True)),
    )


def open_tickets(user) -> QuerySet[Ticket]:
    return Ticket.objects.visible_to(user).filter(status__in=OPEN_TICKET_STATES)


def ticket_list(user, *, state: str = "", queue_id: int | None = None, kind: str = "") -> QuerySet[Ticket]:
    """Open tickets the user may see, the longest waiting first; by SLA state, queue and kind."""
    rows = with_sla_state(open_tickets(user)).select_related("customer", "owner", "assignee", "queue")
    if state == STATE_BREACHED:
        rows = rows.filter(sla_breached=True)
    elif state == STATE_AT_RISK:
        rows = rows.filter(sla_warned=True, sla_breached=False)
    elif state == STATE_ON_TRACK:
        rows = rows.filter(sla_warned=False, sla_breached=False)
    if queue_id:
        rows = rows.filter(queue_id=queue_id)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("created_at", "id")


def wall_board(user, *, today_start) -> dict:
    """The supervisor's wall: open tickets by SLA state and by queue, the breaches since `today_start`, the
    longest waiting — five queries whatever the number of tickets."""
    rows = with_sla_state(open_tickets(user))
    states = rows.aggregate(
        total=Count("pk"),
        breached=Count("pk", filter=Q(sla_breached=True)),
        at_risk=Count("pk", filter=Q(sla_warned=True, sla_breached=False)),
    )
    by_queue = list(
        open_tickets(user).values("queue_id", "queue__name").annotate(n=Count("pk")).order_by("-n", "queue__name")[:12]
    )
    breaches_today = SlaEvent.objects.filter(
        action=SlaEvent.Action.BREACH, at__gte=today_start,
        clock__ticket__in=Ticket.objects.visible_to(user).values("pk"),
    ).count()  # fmt: skip
    longest = list(rows.select_related("customer", "queue", "owner").order_by("created_at", "id")[:10])
    return {"states": states, "by_queue": by_queue, "breaches_today": breaches_today, "longest": longest}


# --- satisfaction follow-up and SLA reports ----------------------------------------------------------------


def follow_up_calls(user, *, now) -> QuerySet:
    """The agents' call list: follow-ups due and unanswered (the SMS link went unanswered, or there was no
    mobile to send it to), oldest first, for the tickets the user may see."""
    return (
        FollowUp.objects.filter(
            answered_at__isnull=True, due_at__lte=now, ticket__in=Ticket.objects.visible_to(user).values("pk")
        )  # fmt: skip
        .select_related("ticket__customer", "ticket__contact")
        .order_by("due_at", "id")
    )


REPORT_DIMENSIONS = {
    "kind": ("ticket__kind", Ticket.Kind),
    "tier": ("ticket__customer__service_tier", None),
    "queue": ("ticket__queue__name", None),
}


def sla_report(user, *, start, end, metric: str, dimension: str) -> list[dict]:
    """Met and missed deadlines of one metric that came due between `start` and `end` (the stored clocks, not a
    guess), grouped by `dimension`: one aggregate query. A clock counts once it is fulfilled or breached."""
    field, _choices = REPORT_DIMENSIONS[dimension]
    rows = (
        SlaClock.objects.filter(
            metric=metric, due_at__gte=start, due_at__lt=end, ticket__in=Ticket.objects.visible_to(user).values("pk")
        )  # fmt: skip
        .filter(Q(fulfilled_at__isnull=False) | Q(breached_at__isnull=False))
        .values(field)
        .annotate(
            met=Count("pk", filter=Q(breached_at__isnull=True)), missed=Count("pk", filter=Q(breached_at__isnull=False))
        )
        .order_by(field)
    )
    out = []
    for row in rows:
        total = row["met"] + row["missed"]
        out.append({"key": row[field], "met": row["met"], "missed": row["missed"], "total": total,
                    "percent": round(100 * row["met"] / total, 1) if total else None})  # fmt: skip
    return out
