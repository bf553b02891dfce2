"""Reads of the service desk: a ticket with its timeline and clocks, the queues, the 360 panel. Every read goes
through `Ticket.objects.visible_to(user)`."""

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from service.models import OPEN_TICKET_STATES, KbArticle, SlaClock, Ticket, TicketCategory, TicketEvent


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


def kb_search(user, *, q: str = "", kind: str = "", category: TicketCategory | None = None) -> QuerySet[KbArticle]:
    """Articles the user may see. A query of any length (two Chinese characters included) is found anywhere in
    the title or the text; title matches first. (The knowledge base is thousands of rows, not millions: a
    contains-scan of its text is a few milliseconds on both databases.)"""
    rows = KbArticle.objects.visible_to(user).select_related("category")
    q = q.strip()[:MAX_QUERY]
    if q:
        rows = rows.filter(Q(title__icontains=q) | Q(body__icontains=q) | Q(steps__question__icontains=q)
                           | Q(steps__answer__icontains=q)).distinct()  # fmt: skip
        rows = rows.annotate(
            in_title=Case(When(title__icontains=q, then=Value(0)), default=Value(1), output_field=IntegerField())
        ).order_by("in_title", "-useful", "-updated_at", "-id")
    if kind:
        rows = rows.filter(kind=kind)
    if category is not None:
        rows = rows.filter(category=category)
    return rows


def kb_suggestions(user, category_id: int | None, *, limit: int = 5) -> list[KbArticle]:
    """For a ticket of this category: the articles of the category and of the ones above it, scripts first."""
    if category_id is None:
        return []
    parents = dict(TicketCategory.objects.values_list("pk", "parent_id"))
    chain, current = [], category_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return list(
        KbArticle.objects.visible_to(user).filter(category_id__in=chain)
        .prefetch_related("steps")
        .order_by(Case(When(kind=KbArticle.Kind.SCRIPT, then=Value(0)), default=Value(1)), "-useful", "-id")[:limit]
    )  # fmt: skip
