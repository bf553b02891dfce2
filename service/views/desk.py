"""The call-center agent's screen (坐席工作台): a number typed or passed by the telephony (CTI: `?phone=`) fills the
screen with the caller's customer — tier and service-tier badges, VIP and blacklist flags, account manager, the
contact who calls, open tickets, orders in flight, subscriptions, recent visits — and the new-ticket form is
ready for the keyboard (static/js/service_desk.js: Alt+N new ticket, Alt+S the number, Ctrl+Enter submit).
An unknown caller is registered as a prospect through the customers' prospect path.

Reads through the selectors of customers, orders and service (everything `visible_to` the agent); writes through
service.services.tickets, customers.services (prospect, service flags)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from customers import identifiers
from customers import policy as customer_policy
from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.models import Contact, Customer
from kam.form_helpers import add_service_errors
from orders.selectors import installed as installed_selectors
from orders.selectors import provisioning as provisioning_selectors
from service import policy, selectors
from service.forms import ProspectForm, ServiceFlagsForm, TicketForm
from service.services import tickets as services

ROWS = 5


def _may_use(user) -> None:
    if not policy.may_take_tickets(user):
        raise Http404


def _desk_url(phone: str = "", customer: int | None = None) -> str:
    query = {k: v for k, v in (("phone", phone), ("customer", customer)) if v}
    return f"{reverse('service:desk')}?{urlencode(query)}" if query else reverse("service:desk")


def _customer_context(user, customer: Customer, match_contact=None, ticket_form=None) -> dict:
    """Everything the agent needs about the caller's customer: a fixed number of queries."""
    contacts = list(_current_contacts(user, customer).order_by("-is_key_person", "name")[:50])
    subscriptions = installed_selectors.subscriptions_panel(user, customer, limit=20)
    in_flight_count, in_flight = provisioning_selectors.orders_in_flight(user, customer, limit=ROWS)
    open_count, tickets = selectors.customer_tickets(user, customer, limit=ROWS)
    if ticket_form is None:
        ticket_form = TicketForm(
            initial={"customer": customer.pk, "contact": match_contact.pk if match_contact else None},
            contacts=contacts, subscriptions=subscriptions["live_rows"],
        )  # fmt: skip
    return {
        "customer": customer,
        "match_contact": match_contact,
        "contacts": contacts,
        "subscriptions": subscriptions,
        "in_flight_count": in_flight_count,
        "in_flight": in_flight,
        "open_count": open_count,
        "tickets": tickets,
        "visits": customer_selectors.visits_of(customer, limit=ROWS),
        "ticket_form": ticket_form,
        "may_flag": customer_policy.may_set_service_flags(user),
        "flags_form": ServiceFlagsForm(initial={"is_vip": customer.is_vip, "is_blacklisted": customer.is_blacklisted}),
    }


def _current_contacts(user, customer: Customer):
    """The customer's contacts who have not left."""
    return (
        Contact.objects.visible_to(user)
        .filter(customer=customer)
        .filter(Q(active_to__isnull=True) | Q(active_to__gte=timezone.localdate()))
    )


def _visible_customer(user, pk) -> Customer | None:
    try:
        return customer_selectors.customer_detail(user=user, pk=int(pk))
    except (Customer.DoesNotExist, TypeError, ValueError):
        return None


@require_GET
def desk(request):
    user = request.user
    _may_use(user)
    phone = request.GET.get("phone", "")[:30]
    matches = customer_selectors.caller_lookup(user=user, phone=phone) if phone else None
    chosen = match_contact = None
    if request.GET.get("customer"):
        chosen = _visible_customer(user, request.GET["customer"])
        if chosen is None:
            raise Http404
        match_contact = next((m.contact for m in matches or () if m.customer.pk == chosen.pk), None)
    elif matches and len(matches) == 1:
        chosen, match_contact = _visible_customer(user, matches[0].customer.pk), matches[0].contact
    context = {"phone": phone, "digits": identifiers.phone_digits(phone), "matches": matches}
    if chosen is not None:
        context.update(_customer_context(user, chosen, match_contact))
    elif matches == []:
        context["prospect_form"] = ProspectForm(initial={"phone": phone})
    return render(request, "service/desk.html", context)


@require_POST
def desk_ticket(request):
    """The new ticket from the desk: to the ticket's page, or the desk again with every error (400)."""
    user = request.user
    _may_use(user)
    customer = _visible_customer(user, request.POST.get("customer"))
    if customer is None:
        raise Http404
    contacts = list(_current_contacts(user, customer))
    subscriptions = installed_selectors.live_subscriptions(user, customer).select_related("product")
    form = TicketForm(request.POST, contacts=contacts, subscriptions=subscriptions)
    if form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_create(
                by=user, customer=customer, kind=data["kind"], subject=data["subject"],
                description=data["description"], channel=data["channel"], category=data["category"],
                contact=next((c for c in contacts if c.pk == data["contact"]), None),
                caller_phone=data["caller_phone"], request_type=data["request_type"],
                subscription=subscriptions.filter(pk=data["subscription"]).first() if data["subscription"] else None,
                symptom=data["symptom"], regulator_appeal=data["regulator_appeal"], request_data=form.request_data(),
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Ticket %(number)s taken.") % {"number": ticket.number})
            return redirect("service:ticket-detail", pk=ticket.pk)
    phone = request.POST.get("caller_phone", "")[:30]
    context = {"phone": phone, "digits": identifiers.phone_digits(phone), "matches": None}
    context.update(_customer_context(user, customer, ticket_form=form))
    return render(request, "service/desk.html", context, status=400)


@require_POST
def desk_prospect(request):
    """An unknown caller registered as a prospect (the customers' path: validation and the duplicate check)."""
    user = request.user
    _may_use(user)
    form = ProspectForm(request.POST)
    if form.is_valid():
        try:
            customer = customer_services.prospect_register(
                by=user, name=form.cleaned_data["name"], phone=form.cleaned_data["phone"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(_desk_url(form.cleaned_data["phone"], customer.pk))
    phone = request.POST.get("phone", "")[:30]
    context = {"phone": phone, "digits": identifiers.phone_digits(phone), "matches": [], "prospect_form": form}
    return render(request, "service/desk.html", context, status=400)


@require_POST
def desk_flags(request, pk: int):
    """VIP handling and the blacklist, with the reason (who may: customers.policy.may_set_service_flags)."""
    user = request.user
    _may_use(user)
    customer = _visible_customer(user, pk)
    if customer is None:
        raise Http404
    if not customer_policy.may_set_service_flags(user):
        raise PermissionDenied
    form = ServiceFlagsForm(request.POST)
    if form.is_valid():
        try:
            customer_services.service_flags_set(customer, by=user, vip=form.cleaned_data["is_vip"],
                                                blacklisted=form.cleaned_data["is_blacklisted"],
                                                reason=form.cleaned_data["reason"])  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(_desk_url(request.POST.get("phone", ""), customer.pk))
    context = {"phone": "", "digits": "", "matches": None}
    context.update(_customer_context(user, customer))
    context["flags_form"] = form
    return render(request, "service/desk.html", context, status=400)
