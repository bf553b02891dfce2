"""Tickets: taken (first-contact ownership), answered, waiting for the customer, resolved. Each write is one
transaction; the SLA clocks follow (service.services.sla) and every step is a `TicketEvent`."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.models import User
from channels.notifications import Message, notify_many
from customers.models import Customer
from kam.db import numbered_code
from service import policy
from service.models import OPEN_TICKET_STATES, Ticket, TicketCategory, TicketEvent
from service.services import sla

CODE_PREFIX = "TK"
REPEAT_WINDOW = dt.timedelta(days=30)  # a complaint in the same category within this window is a repeat (重复投诉)
Action = TicketEvent.Action
Metric = sla.Metric


def _queue_of(category_id: int | None) -> int | None:
    """The deepest category on the chain that names a queue."""
    if category_id is None:
        return None
    rows = {
        pk: (parent, queue) for pk, parent, queue in TicketCategory.objects.values_list("pk", "parent_id", "queue_id")
    }
    seen = set()
    while category_id is not None and category_id not in seen:
        seen.add(category_id)
        parent, queue = rows.get(category_id, (None, None))
        if queue is not None:
            return queue
        category_id = parent
    return None


def ticket_create(*, by: User, customer: Customer, kind: str, subject: str, description: str = "",
                  channel: str = Ticket.Channel.HOTLINE, category: TicketCategory | None = None, contact=None,
                  caller_phone: str = "", request_type: str = "", subscription=None, symptom: str = "",
                  impact: str = "", regulator_appeal: bool = False,
                  now: dt.datetime | None = None) -> Ticket:  # fmt: skip
    """Take a ticket: the taker owns it (首问负责制); priority and clocks from the first matching SLA policy; the
    category's queue; a complaint in the same category within 30 days is flagged as a repeat. The customer's
    account manager hears at once of every complaint and fault."""
    if not policy.may_take_tickets(by):
        raise PermissionDenied(_("You may not take tickets."))
    if not Customer.objects.visible_to(by).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("You may not see this customer."))
    now = now or timezone.now()
    ticket = Ticket(
        customer=customer, contact=contact, caller_phone=caller_phone, kind=kind, request_type=request_type,
        category=category, channel=channel, subject=subject, description=description, subscription=subscription,
        symptom=symptom, impact=impact, regulator_appeal=regulator_appeal, owner=by, created_by=by, created_at=now,
        queue_id=_queue_of(category.pk if category else None),
    )  # fmt: skip
    errors = {}
    if kind != Ticket.Kind.SERVICE_REQUEST and request_type:
        errors["request_type"] = _("Only a service request has a request type.")
    if kind == Ticket.Kind.SERVICE_REQUEST and not request_type:
        errors["request_type"] = _("Say what the customer asks for.")
    if regulator_appeal and kind != Ticket.Kind.COMPLAINT:
        errors["regulator_appeal"] = _("Only a complaint is appealed to the regulator.")
    if category is not None and category.kind and category.kind != kind:
        errors["category"] = _("This category is for another kind of ticket.")
    if subscription is not None and subscription.customer_id != customer.pk:
        errors["subscription"] = _("Choose a subscription of this customer.")
    try:
        ticket.full_clean(exclude=["owner", "created_by", "customer", "contact", "subscription", "category"])
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)

    chosen = sla.policy_for(
        kind=kind, category_id=ticket.category_id, service_tier=customer.service_tier or customer.tier,
        sla_class=subscription.sla_class if subscription is not None else "", channel=channel,
    )  # fmt: skip
    with transaction.atomic():
        if chosen is not None:
            ticket.sla_policy, ticket.priority = chosen, chosen.priority
        if kind == Ticket.Kind.COMPLAINT:
            ticket.repeat_of = (
                Ticket.objects.filter(customer=customer, kind=kind, category=category)
                .filter(created_at__gte=now - REPEAT_WINDOW).order_by("-created_at").first()
            )  # fmt: skip
        ticket.save()
        Ticket.objects.filter(pk=ticket.pk).update(number=numbered_code(CODE_PREFIX))
        ticket.refresh_from_db(fields=["number"])
        clocks = {c.metric: c for c in sla.start_clocks(ticket, chosen, now=now)}
        ticket.first_response_due = clocks[Metric.FIRST_RESPONSE].due_at if Metric.FIRST_RESPONSE in clocks else None
        ticket.resolution_due = clocks[Metric.RESOLUTION].due_at if Metric.RESOLUTION in clocks else None
        Ticket.objects.filter(pk=ticket.pk).update(
            first_response_due=ticket.first_response_due, resolution_due=ticket.resolution_due
        )
        TicketEvent.objects.create(ticket=ticket, action=Action.CREATE, at=now, actor=by, to_queue_id=ticket.queue_id)
        if kind in (Ticket.Kind.COMPLAINT, Ticket.Kind.FAULT) and customer.account_manager_id != by.pk:
            notify_many([
                Message([customer.account_manager], kind="ticket", urgent=kind == Ticket.Kind.FAULT,
                        title=_("%(kind)s from %(customer)s: %(subject)s")
                        % {"kind": ticket.get_kind_display(), "customer": customer, "subject": subject},
                        body=ticket.number or "")
            ])  # fmt: skip
    return ticket


def _open(ticket: Ticket) -> None:
    if ticket.status not in OPEN_TICKET_STATES:
        raise ValidationError(_("This ticket is no longer open."))


def message_customer(ticket: Ticket, *, by: User, text: str, now: dt.datetime | None = None) -> TicketEvent:
    """A message to the customer: the first response, the next reply and the progress update are met."""
    _open(ticket)
    now = now or timezone.now()
    with transaction.atomic():
        event = TicketEvent.objects.create(ticket=ticket, action=Action.MESSAGE, at=now, actor=by, note=text)
        sla.fulfil(ticket, [Metric.FIRST_RESPONSE, Metric.NEXT_REPLY, Metric.UPDATE], now=now, by=by)
        if ticket.first_response_at is None:
            Ticket.objects.filter(pk=ticket.pk).update(first_response_at=now)
            ticket.first_response_at = now
        if ticket.status == Ticket.Status.NEW:
            Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.IN_PROGRESS)
            ticket.status = Ticket.Status.IN_PROGRESS
    return event


def customer_wrote(ticket: Ticket, *, by: User, text: str, now: dt.datetime | None = None) -> TicketEvent:
    """The customer got in touch again: recorded, and the next-reply clock starts; a waiting ticket resumes."""
    _open(ticket)
    now = now or timezone.now()
    with transaction.atomic():
        event = TicketEvent.objects.create(ticket=ticket, action=Action.CUSTOMER, at=now, actor=by, note=text)
        if ticket.status == Ticket.Status.WAITING:
            _set_status(ticket, Ticket.Status.IN_PROGRESS)
            sla.resume(ticket, now=now, by=by)
        sla.start_next_reply(ticket, now=now)
    return event


def _set_status(ticket: Ticket, status: str) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(status=status)
    ticket.status = status


def wait_for_customer(ticket: Ticket, *, by: User, note: str, now: dt.datetime | None = None) -> None:
    """Pause the clocks (not the hard cap) until the customer answers."""
    _open(ticket)
    now = now or timezone.now()
    with transaction.atomic():
        _set_status(ticket, Ticket.Status.WAITING)
        sla.pause(ticket, now=now, by=by)
        TicketEvent.objects.create(ticket=ticket, action=Action.WAIT, at=now, actor=by, note=note)


def resolve(ticket: Ticket, *, by: User, resolution: str, now: dt.datetime | None = None) -> None:
    """Resolved with what the customer is told: every clock of the ticket stops."""
    _open(ticket)
    if not resolution.strip():
        raise ValidationError({"resolution": _("Say what the customer is told.")})
    now = now or timezone.now()
    with transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(
            status=Ticket.Status.RESOLVED, resolved_at=now, resolution=resolution
        )
        ticket.status, ticket.resolved_at, ticket.resolution = Ticket.Status.RESOLVED, now, resolution
        sla.fulfil(ticket, list(Metric.values), now=now, by=by)
        TicketEvent.objects.create(ticket=ticket, action=Action.RESOLVE, at=now, actor=by, note=resolution)
