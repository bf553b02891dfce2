"""Reads of the service desk: a ticket with its timeline and clocks, the queues, the 360 panel. Every read goes
through `Ticket.objects.visible_to(user)`."""

from django.db.models import Q, QuerySet

from service.models import OPEN_TICKET_STATES, SlaClock, Ticket, TicketEvent


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
