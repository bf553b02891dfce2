"""Tickets: taken (first-contact ownership), answered, waiting for the customer, resolved. Each write is one
transaction; the SLA clocks follow (service.services.sla) and every step is a `TicketEvent`."""

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.models import User
from channels.notifications import Message, notify, notify_many
from customers.models import Customer
from kam.db import numbered_code
from kam.sms import send_sms
from opportunities.services import opportunity_capture
from service import policy
from service.models import OPEN_TICKET_STATES, FaultReport, Ticket, TicketCategory, TicketEvent
from service.services import sla
from service.services.requests import clean_request_data

CODE_PREFIX = "TK"
logger = logging.getLogger("kam.service")


class TicketConflict(Exception):
    """The ticket changed under the caller (someone else acted first): HTTP 409."""


REPEAT_WINDOW = dt.timedelta(days=30)  # a complaint in the same category within this window is a repeat (重复投诉)
Action = TicketEvent.Action
Metric = sla.Metric


def _queue_of(category_id: int | None) -> int | None:
    """The deepest category on the chain that names a queue."""
    return next((queue for _pk, queue in TicketCategory.objects.chain(category_id) if queue is not None), None)


def ticket_rule_errors(*, kind: str, request_type: str = "", regulator_appeal: bool = False, category=None,
                       subscription=None, customer=None) -> dict[str, str]:  # fmt: skip
    """The ticket's own rules, by field: the service applies them, and forms call them too so a page answers
    every error at once."""
    errors = {}
    if kind != Ticket.Kind.SERVICE_REQUEST and request_type:
        errors["request_type"] = _("Only a service request has a request type.")
    if kind == Ticket.Kind.SERVICE_REQUEST and not request_type:
        errors["request_type"] = _("Say what the customer asks for.")
    if regulator_appeal and kind != Ticket.Kind.COMPLAINT:
        errors["regulator_appeal"] = _("Only a complaint is appealed to the regulator.")
    if category is not None and category.kind and category.kind != kind:
        errors["category"] = _("This category is for another kind of ticket.")
    if subscription is not None and customer is not None and subscription.customer_id != customer.pk:
        errors["subscription"] = _("Choose a subscription of this customer.")
    return errors


def ticket_create(*, by: User, customer: Customer, kind: str, subject: str, description: str = "",
                  channel: str = Ticket.Channel.HOTLINE, category: TicketCategory | None = None, contact=None,
                  caller_phone: str = "", request_type: str = "", subscription=None, symptom: str = "",
                  impact: str = "", regulator_appeal: bool = False, request_data: dict | None = None,
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
    errors = ticket_rule_errors(kind=kind, request_type=request_type, regulator_appeal=regulator_appeal,
                                category=category, subscription=subscription, customer=customer)  # fmt: skip
    ticket.request_data, request_errors = clean_request_data(request_type, request_data)
    errors = {**request_errors, **errors}
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


def _may_work(ticket: Ticket, by: User) -> None:
    if not policy.may_work_ticket(by, ticket):
        raise PermissionDenied(_("Only the ticket's owner, its assignee or its queue may work on it."))


def _write(ticket: Ticket, revision: int | None, states, **changes) -> None:
    """The one write of an action on the ticket: only if it is still in one of `states` and, when the caller
    names the revision it saw, nobody changed it since."""
    rows = Ticket.objects.filter(pk=ticket.pk, status__in=list(states))
    if revision is not None:
        rows = rows.filter(revision=revision)
    if not rows.update(revision=F("revision") + 1, **changes):
        current = Ticket.objects.filter(pk=ticket.pk).values_list("status", flat=True).first() or ticket.status
        raise TicketConflict(
            _("The ticket changed meanwhile (now %(status)s): reload it and try again.")
            % {"status": Ticket.Status(current).label}
        )
    for field, value in changes.items():
        setattr(ticket, field, value)
    ticket.revision = (revision if revision is not None else ticket.revision) + 1


def _event(ticket: Ticket, action: str, by: User | None, now: dt.datetime, **fields) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, action=action, at=now, actor=by, **fields)


def customer_mobile(ticket: Ticket) -> str:
    """Where a text to the customer goes: the ticket's contact's mobile, or the number that called."""
    return (ticket.contact.mobile if ticket.contact_id and ticket.contact.mobile else "") or ticket.caller_phone


def _tell_customer(ticket: Ticket, text: str) -> None:
    """An SMS to the ticket's contact (or the number that called) after commit; a gateway failure is logged."""
    mobile = customer_mobile(ticket)
    if not mobile:
        return

    def send():
        try:
            send_sms(mobile, f"[{ticket.number}] {text}")
        except Exception:  # noqa: BLE001 - any gateway error: logged, the message stays on the timeline
            logger.warning("SMS for ticket %s not delivered", ticket.number, exc_info=True)

    transaction.on_commit(send)


def message_customer(ticket: Ticket, *, by: User, text: str, revision: int | None = None,
                     now: dt.datetime | None = None) -> TicketEvent:  # fmt: skip
    """A message to the customer (SMS to the contact): the first response, the next reply and the progress
    update are met; a new ticket is in progress from here on."""
    _may_work(ticket, by)
    if not text.strip():
        raise ValidationError({"text": _("Write the message.")})
    now = now or timezone.now()
    with transaction.atomic():
        changes = {"status": Ticket.Status.IN_PROGRESS} if ticket.status == Ticket.Status.NEW else {}
        if ticket.first_response_at is None:
            changes["first_response_at"] = now
        _write(ticket, revision, OPEN_TICKET_STATES, **changes)
        event = _event(ticket, Action.MESSAGE, by, now, note=text)
        sla.fulfil(ticket, [Metric.FIRST_RESPONSE, Metric.NEXT_REPLY, Metric.UPDATE], now=now, by=by)
        _tell_customer(ticket, text)
    return event


def customer_wrote(ticket: Ticket, *, by: User, text: str, now: dt.datetime | None = None) -> TicketEvent:
    """The customer got in touch again: recorded, and the next-reply clock starts; a waiting ticket resumes."""
    now = now or timezone.now()
    with transaction.atomic():
        waiting = ticket.status == Ticket.Status.WAITING
        _write(ticket, None, OPEN_TICKET_STATES, **({"status": Ticket.Status.IN_PROGRESS} if waiting else {}))
        event = _event(ticket, Action.CUSTOMER, by, now, note=text)
        if waiting:
            sla.resume(ticket, now=now, by=by)
        sla.start_next_reply(ticket, now=now)
    return event


def add_note(ticket: Ticket, *, by: User, text: str, now: dt.datetime | None = None) -> TicketEvent:
    """An internal note: on the timeline, never sent to the customer."""
    _may_work(ticket, by)
    if not text.strip():
        raise ValidationError({"text": _("Write the note.")})
    return _event(ticket, Action.NOTE, by, now or timezone.now(), note=text)


def wait_for_customer(ticket: Ticket, *, by: User, note: str, revision: int | None = None,
                      now: dt.datetime | None = None) -> None:  # fmt: skip
    """Pause the clocks (not the hard cap) until the customer answers."""
    _may_work(ticket, by)
    now = now or timezone.now()
    with transaction.atomic():
        _write(ticket, revision, [Ticket.Status.NEW, Ticket.Status.IN_PROGRESS], status=Ticket.Status.WAITING)
        sla.pause(ticket, now=now, by=by)
        _event(ticket, Action.WAIT, by, now, note=note)


def assign(ticket: Ticket, *, by: User, queue=None, assignee: User | None = None, revision: int | None = None,
           note: str = "", now: dt.datetime | None = None) -> None:  # fmt: skip
    """Send the ticket to a queue, a person, or both (the owner stays: first-contact ownership)."""
    _may_work(ticket, by)
    if queue is None and assignee is None:
        raise ValidationError({"assignee": _("Choose a queue or a person.")})
    if assignee is not None and not assignee.is_active:
        raise ValidationError({"assignee": _("This person cannot take tickets.")})
    now = now or timezone.now()
    changes = {"assignee": assignee}
    if queue is not None:
        changes["queue"] = queue
    with transaction.atomic():
        _write(ticket, revision, OPEN_TICKET_STATES, **changes)
        _event(ticket, Action.ASSIGN, by, now, to_user=assignee, to_queue=queue, note=note)
        if assignee is not None and assignee.pk != by.pk:
            notify([assignee], kind="ticket", title=_("Ticket %(number)s assigned to you: %(subject)s")
                   % {"number": ticket.number, "subject": ticket.subject}, body=note)  # fmt: skip


def offer_hand_over(ticket: Ticket, *, by: User, to: User, note: str = "", now: dt.datetime | None = None) -> None:
    """The owner offers the ticket to somebody else; they stay the owner until it is accepted (首问负责制)."""
    if by.pk != ticket.owner_id and not policy.may_work_ticket(by, ticket):
        raise PermissionDenied(_("Only the ticket's owner hands it over."))
    if to.pk == ticket.owner_id or not policy.may_take_tickets(to):
        raise ValidationError({"to": _("Choose somebody else who takes tickets.")})
    now = now or timezone.now()
    with transaction.atomic():
        _write(ticket, None, OPEN_TICKET_STATES, handover_to=to)
        _event(ticket, Action.HAND_OVER, by, now, to_user=to, note=note)
        notify([to], kind="ticket", title=_("Ticket %(number)s offered to you: %(subject)s")
               % {"number": ticket.number, "subject": ticket.subject}, body=note)  # fmt: skip


def accept_hand_over(ticket: Ticket, *, by: User, now: dt.datetime | None = None) -> None:
    """The person offered the ticket takes over its ownership."""
    if ticket.handover_to_id != by.pk:
        raise PermissionDenied(_("This ticket was not offered to you."))
    now = now or timezone.now()
    with transaction.atomic():
        previous = ticket.owner
        _write(ticket, None, OPEN_TICKET_STATES, owner=by, handover_to=None)
        _event(ticket, Action.ACCEPT, by, now, to_user=by)
        notify([previous], kind="ticket", title=_("%(who)s took over ticket %(number)s")
               % {"who": by, "number": ticket.number})  # fmt: skip


def resolve(ticket: Ticket, *, by: User, resolution: str, revision: int | None = None,
            now: dt.datetime | None = None) -> None:  # fmt: skip
    """Resolved with what the customer is told (sent to them): every clock of the ticket stops."""
    _finish(ticket, by=by, text=resolution, status=Ticket.Status.RESOLVED, action=Action.RESOLVE,
            revision=revision, now=now)  # fmt: skip


def refuse(ticket: Ticket, *, by: User, reason: str, revision: int | None = None,
           now: dt.datetime | None = None) -> None:  # fmt: skip
    """A request that will not be done: the customer is told why (seed 003 C3), every clock stops."""
    _finish(ticket, by=by, text=reason, status=Ticket.Status.REFUSED, action=Action.REFUSE, revision=revision,
            now=now)  # fmt: skip


KEY_TIERS = ("A1", "A2", "B1", "B2")  # their faults need a written report (DOMAIN.md §5.2)


def needs_fault_report(ticket: Ticket) -> bool:
    return ticket.kind == Ticket.Kind.FAULT and (ticket.customer.service_tier or ticket.customer.tier) in KEY_TIERS


def _finish(ticket: Ticket, *, by: User, text: str, status: str, action: str, revision, now) -> None:
    _may_work(ticket, by)
    if not text.strip():
        raise ValidationError({"resolution": _("Say what the customer is told.")})
    if (status == Ticket.Status.RESOLVED and needs_fault_report(ticket)
            and not FaultReport.objects.filter(ticket=ticket).exists()):  # fmt: skip
        raise ValidationError({"resolution": _("An A or B customer's fault is resolved with its fault report: "
                                               "write it first.")})  # fmt: skip
    now = now or timezone.now()
    with transaction.atomic():
        _write(ticket, revision, OPEN_TICKET_STATES, status=status, resolved_at=now, resolution=text, handover_to=None)
        sla.fulfil(ticket, list(Metric.values), now=now, by=by)
        _event(ticket, action, by, now, note=text)
        _tell_customer(ticket, text)
        if status == Ticket.Status.RESOLVED:
            from service.services import follow_up

            follow_up.schedule(ticket, now=now)


def close(ticket: Ticket, *, by: User, now: dt.datetime | None = None) -> None:
    """Closed after resolution (the follow-up done, or nothing more to hear)."""
    _may_work(ticket, by)
    now = now or timezone.now()
    with transaction.atomic():
        _write(ticket, None, [Ticket.Status.RESOLVED], status=Ticket.Status.CLOSED, closed_at=now)
        _event(ticket, Action.CLOSE, by, now)


def close_after_follow_up(ticket: Ticket, *, now: dt.datetime) -> None:
    """A resolved ticket whose customer answered the follow-up (not unsatisfied): closed, on the timeline."""
    try:
        _write(ticket, None, [Ticket.Status.RESOLVED], status=Ticket.Status.CLOSED, closed_at=now)
    except TicketConflict:
        return  # closed meanwhile by an agent
    _event(ticket, Action.CLOSE, None, now, note=_("The customer answered the satisfaction follow-up."))


def reopen(ticket: Ticket, *, by: User, reason: str, now: dt.datetime | None = None) -> None:
    """The customer is not satisfied: a resolved or closed ticket opens again — once; the resolution clock
    starts afresh from the policy (a second complaint is a new ticket)."""
    if not (policy.may_work_ticket(by, ticket) or policy.may_take_tickets(by)):
        raise PermissionDenied(_("You may not reopen tickets."))
    reopen_for_customer(ticket, by=by, reason=reason, now=now)


def reopen_for_customer(ticket: Ticket, *, by: User | None, reason: str, now: dt.datetime | None = None) -> None:
    """The reopening itself: also the customer's own, from the satisfaction page (`by` None)."""
    if ticket.reopened >= 1:
        raise ValidationError(_("This ticket was reopened once already: take a new ticket."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the customer is not satisfied.")})
    now = now or timezone.now()
    with transaction.atomic():
        _write(ticket, None, [Ticket.Status.RESOLVED, Ticket.Status.CLOSED], status=Ticket.Status.IN_PROGRESS,
               reopened=F("reopened") + 1, resolved_at=None, closed_at=None)  # fmt: skip
        ticket.reopened = 1
        clock = sla.restart_resolution(ticket, now=now)
        if clock is not None:
            Ticket.objects.filter(pk=ticket.pk).update(resolution_due=clock.due_at)
            ticket.resolution_due = clock.due_at
        _event(ticket, Action.REOPEN, by, now, note=reason)
        if by is None:  # the customer: whoever owns it hears at once
            notify([ticket.assignee or ticket.owner], kind="ticket", urgent=True,
                   title=_("Ticket %(number)s reopened: the customer is not satisfied") % {"number": ticket.number},
                   body=reason)  # fmt: skip


def capture_opportunity(ticket: Ticket, *, by: User, kind: str, title: str, description: str = "",
                        now: dt.datetime | None = None):  # fmt: skip
    """An opportunity found during service (seed 004): captured through the opportunities services (routed as
    any capture) and linked from the ticket."""
    _may_work(ticket, by)
    if ticket.opportunity_id:
        raise ValidationError(_("This ticket already passed an opportunity to sales."))
    now = now or timezone.now()
    with transaction.atomic():
        opportunity = opportunity_capture(by=by, kind=kind, title=title, customer=ticket.customer,
                                          description=description, contact=ticket.contact)  # fmt: skip
        Ticket.objects.filter(pk=ticket.pk).update(opportunity=opportunity)
        ticket.opportunity = opportunity
        _event(ticket, Action.OPPORTUNITY, by, now, note=f"{opportunity.code} {title}")
    return opportunity


def fault_report_write(ticket: Ticket, *, by: User, cause: str, impact: str, started_at: dt.datetime,
                       restored_at: dt.datetime, fix: str, prevention: str,
                       now: dt.datetime | None = None) -> FaultReport:  # fmt: skip
    """The written fault report: kept on the ticket and sent to the customer's contact (e-mail, and an SMS that
    it was sent)."""
    _may_work(ticket, by)
    if ticket.kind != Ticket.Kind.FAULT:
        raise ValidationError(_("Only a fault has a fault report."))
    now = now or timezone.now()
    report = FaultReport(ticket=ticket, cause=cause, impact=impact, started_at=started_at, restored_at=restored_at,
                         fix=fix, prevention=prevention, written_by=by, written_at=now)  # fmt: skip
    errors = {}
    if started_at and restored_at and restored_at < started_at:
        errors["restored_at"] = _("The service cannot be restored before the outage began.")
    if restored_at and restored_at > now:
        errors["restored_at"] = _("Not in the future.")
    try:
        report.full_clean(exclude=["ticket", "written_by"])
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    email = ticket.contact.email if ticket.contact_id else ""
    report.sent_to = email
    with transaction.atomic():
        FaultReport.objects.filter(ticket=ticket).delete()  # a corrected report replaces the first
        report.save()
        _event(ticket, Action.FAULT_REPORT, by, now, note=email)
        body = "\n\n".join([
            _("Fault report for %(number)s (%(subject)s)") % {"number": ticket.number, "subject": ticket.subject},
            _("Outage: %(start)s – %(end)s") % {"start": timezone.localtime(started_at).strftime("%Y-%m-%d %H:%M"),
                                                "end": timezone.localtime(restored_at).strftime("%Y-%m-%d %H:%M")},
            _("Cause: %(text)s") % {"text": cause}, _("Impact: %(text)s") % {"text": impact},
            _("What was done: %(text)s") % {"text": fix}, _("Prevention: %(text)s") % {"text": prevention},
        ])  # fmt: skip

        def send():
            if email:
                try:
                    EmailMessage(_("Fault report %(number)s") % {"number": ticket.number}, body, to=[email]).send()
                except Exception:  # noqa: BLE001 - logged; the report stays on the ticket
                    logger.warning("Fault report of %s not e-mailed", ticket.number, exc_info=True)

        transaction.on_commit(send)
    _tell_customer(ticket, _("The fault report was sent to %(email)s.") % {"email": email} if email
                   else _("The fault report is ready; your account manager will bring it."))  # fmt: skip
    return report
