"""The ticket page (header, SLA clocks, timeline, the actions the user may take), its POST actions, "my queue"
and the 360 panel. Thin: reads through service.selectors (another's ticket is a 404), writes through
service.services.tickets, whose errors become form errors (400), a conflict (409) or 403."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from channels import roles
from channels.models import User
from kam.form_helpers import run_service
from kam.pagination import page_of
from service import policy, selectors
from service.forms import FaultReportForm, OpportunityFromTicketForm, TicketActionForm
from service.models import Ticket
from service.services import requests as request_services
from service.services import tickets as services

ACTIONS = ("message", "customer", "note", "wait", "assign", "offer", "accept", "resolve", "refuse", "close", "reopen")
PANEL_ROWS = 10


def _people():
    staff = [*policy.TAKE_TICKETS, *roles.WORKSTATIONS]
    return User.objects.filter(is_active=True, role__in=staff).order_by("display_name", "username")


def _ticket(user, pk: int) -> Ticket:
    try:
        return selectors.ticket_detail(user, pk)
    except Ticket.DoesNotExist:
        raise Http404 from None


def _context(request, ticket: Ticket, form: TicketActionForm | None = None, failed: str = "",
             **extra_forms) -> dict:  # fmt: skip
    user = request.user
    works = policy.may_work_ticket(user, ticket)
    return {
        "ticket": ticket,
        "events": selectors.timeline(ticket),
        "clocks": selectors.clocks(ticket),
        "now": timezone.now(),
        "works": works,
        "may_accept": ticket.handover_to_id == user.pk,
        "form": form or TicketActionForm(initial={"revision": ticket.revision}, people=_people()),
        "failed": failed,
        "suggestions": selectors.kb_suggestions(user, ticket.category_id) if works else [],
        "opportunity_form": extra_forms.get("opportunity") or OpportunityFromTicketForm(),
        "report_form": extra_forms.get("report") or FaultReportForm(),
        "fault_report": getattr(ticket, "fault_report", None) if ticket.kind == Ticket.Kind.FAULT else None,
        "needs_report": services.needs_fault_report(ticket),
        "may_apply": ticket.request_applied_at is None and request_services.may_apply(user, ticket),
    }


@require_GET
def ticket_detail(request, pk: int):
    ticket = _ticket(request.user, pk)
    return render(request, "service/ticket_detail.html", _context(request, ticket))


@require_POST
def ticket_action(request, pk: int, action: str):
    user = request.user
    ticket = _ticket(user, pk)
    if action not in ACTIONS:
        raise Http404
    form = TicketActionForm(request.POST, people=_people())

    def act():
        data = form.cleaned_data
        text, revision = data["text"] or "", data["revision"]
        if action == "message":
            services.message_customer(ticket, by=user, text=text, revision=revision)
        elif action == "customer":
            services.customer_wrote(ticket, by=user, text=text)
        elif action == "note":
            services.add_note(ticket, by=user, text=text)
        elif action == "wait":
            services.wait_for_customer(ticket, by=user, note=text, revision=revision)
        elif action == "assign":
            services.assign(ticket, by=user, queue=data["queue"], assignee=data["to_user"], note=text,
                            revision=revision)  # fmt: skip
        elif action == "offer":
            if data["to_user"] is None:
                raise ValidationError({"to_user": [_("Choose a colleague.")]})
            services.offer_hand_over(ticket, by=user, to=data["to_user"], note=text)
        elif action == "accept":
            services.accept_hand_over(ticket, by=user)
        elif action == "resolve":
            services.resolve(ticket, by=user, resolution=text, revision=revision)
        elif action == "refuse":
            services.refuse(ticket, by=user, reason=text, revision=revision)
        elif action == "close":
            services.close(ticket, by=user)
        else:
            services.reopen(ticket, by=user, reason=text)

    status = run_service(request, act, form=form, conflicts=(services.TicketConflict,))
    if status is None:
        return redirect("service:ticket-detail", pk=ticket.pk)
    ticket = _ticket(user, pk)
    return render(request, "service/ticket_detail.html", _context(request, ticket, form, action), status=status)


@require_GET
def my_queue(request):
    paginator, page, message = page_of(request, selectors.my_queue(request.user), 50)
    context = {"page": page or paginator.page(1), "page_error": message, "now": timezone.now()}
    return render(request, "service/my_queue.html", context)


def customer_panel_context(request, customer) -> dict:
    """The 360 "tickets" panel: how many are open, the latest ten (two queries)."""
    open_count, latest = selectors.customer_tickets(request.user, customer, limit=PANEL_ROWS)
    return {"open_count": open_count, "tickets": latest}


@require_POST
def ticket_opportunity(request, pk: int):
    """Pass an opportunity found during service to sales (routed as any capture); the ticket links to it."""
    user = request.user
    ticket = _ticket(user, pk)
    form = OpportunityFromTicketForm(request.POST)

    def act():
        data = form.cleaned_data
        services.capture_opportunity(ticket, by=user, kind=data["kind"], title=data["title"],
                                     description=data["description"])  # fmt: skip

    status = run_service(request, act, form=form)
    if status is None:
        return redirect("service:ticket-detail", pk=ticket.pk)
    ticket = _ticket(user, pk)
    return render(request, "service/ticket_detail.html", _context(request, ticket, opportunity=form), status=status)


@require_POST
def ticket_fault_report(request, pk: int):
    """The written fault report of a fault: kept on the ticket and sent to the customer's contact."""
    user = request.user
    ticket = _ticket(user, pk)
    form = FaultReportForm(request.POST)

    def act():
        services.fault_report_write(ticket, by=user, **form.cleaned_data)

    status = run_service(request, act, form=form)
    if status is None:
        return redirect("service:ticket-detail", pk=ticket.pk)
    ticket = _ticket(user, pk)
    return render(request, "service/ticket_detail.html", _context(request, ticket, report=form), status=status)


@require_POST
def ticket_apply(request, pk: int):
    """Apply a member or group-information change request through the customers services, once."""
    user = request.user
    ticket = _ticket(user, pk)
    status = run_service(request, lambda: request_services.apply(ticket, by=user))
    if status is None:
        return redirect("service:ticket-detail", pk=ticket.pk)
    ticket = _ticket(user, pk)
    return render(request, "service/ticket_detail.html", _context(request, ticket), status=status)
