"""Server-rendered pages of the key-account database: the customer list, the 360 page, create and edit,
contacts and visits, duplicates and merge, handover and the caller lookup. Views stay thin: selectors read,
services write, the forms are customers.forms.customers, and every customer comes through
Customer.objects.visible_to(user) / editable_by(user), so another person's customer is a 404."""

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels import roles
from channels.models import Role, Team, User
from customers import duplicates, policy, selectors, services
from customers.filters import FINANCE_SORTS, CustomerFilterSet, customer_list_filterset
from customers.forms.customers import (
    ContactForm,
    CustomerForm,
    HandoverForm,
    LookupForm,
    MergeForm,
    VisitForm,
)
from customers.models import Contact, Customer, Region, visible_ids_among
from customers.panels import panel_for, render_panel, render_panels
from customers.policy import can_edit, hidden_contact_fields, hidden_customer_fields, may_see_spend
from kam.form_helpers import add_service_errors
from kam.pagination import page_of
from kam.validators import parse_id

PAGE_SIZE = 25
# Sortable columns of the list: column key -> OrderingFilter value.
SORTABLE = ("code", "name", "tier", "members_count", "value_score", "revenue")


def _visible_ids(user: User, customers) -> set[int]:
    """Which of these customers the user may open (no query): links are shown only for those."""
    return visible_ids_among(user, [c.pk for c in customers if c is not None])


def _editable_customer(request, pk: int) -> Customer:
    return get_object_or_404(Customer.objects.editable_by(request.user).live().select_related("parent"), pk=pk)


def _field_values(obj, names) -> list[tuple[str, object]]:
    """(label, display value) of the non-empty fields `names` of a model instance."""
    rows = []
    for name in names:
        field = obj._meta.get_field(name)
        value = getattr(obj, f"get_{name}_display")() if field.choices else getattr(obj, name)
        if value not in (None, ""):
            rows.append((capfirst(field.verbose_name), value))
    return rows


# --- list ---------------------------------------------------------------------------------------------


def _list_filterset(request) -> CustomerFilterSet:
    filterset = customer_list_filterset(request.GET, user=request.user, request=request)
    for name in ("tier", "status"):
        field = filterset.form.fields[name]
        field.widget = django_forms.CheckboxSelectMultiple(choices=field.choices)
    regions = Region.objects.filter(level__lte=Region.Level.CITY).select_related("parent")
    filterset.form.fields["region"].widget = django_forms.Select(
        choices=[("", "---------")] + [(r.code, r.full_name) for r in regions]
    )
    return filterset


@require_GET
def customer_list(request):
    filterset = _list_filterset(request)
    if filterset.ranking_term():
        queryset = filterset.ranked()  # a search without a chosen sort: the best matches first
    else:
        queryset = filterset.qs  # sorted by (key, id): stable pages when keys tie (customers.filters.sort_order)
    paginator, page, page_error = page_of(request, queryset, PAGE_SIZE)
    current = request.GET.get("ordering", "")
    show_finance = not (hidden_customer_fields(request.user) & set(FINANCE_SORTS.values()))
    sortable = [key for key in SORTABLE if show_finance or key not in FINANCE_SORTS]
    sort_links = {
        key: {
            "value": f"-{key}" if current == key else key,
            "state": "asc" if current == key else "desc" if current == f"-{key}" else "",
        }
        for key in sortable
    }
    context = {
        "filterset": filterset,
        "page": page,
        "paginator": paginator,
        "page_error": page_error,
        "sort_links": sort_links,
        "show_finance": show_finance,
        "may_create": policy.may_create_customers(request.user),
        # lazy: evaluated only when the cached option list is rendered again
        "team_options": Team.objects.order_by("name").only("pk", "name"),
        "chosen_team": filterset.form.cleaned_data.get("team") if filterset.form.is_valid() else None,
    }
    template = "customers/_customer_table.html" if request.htmx else "customers/customer_list.html"
    return render(request, template, context)


# --- the 360 page -------------------------------------------------------------------------------------


@require_GET
def customer_detail(request, pk: int):
    user = request.user
    try:
        customer = selectors.customer_detail(user=user, pk=pk)
    except Customer.DoesNotExist:
        raise Http404 from None
    hidden = hidden_customer_fields(user)
    hidden_contact = hidden_contact_fields(user)
    ancestors, children = selectors.hierarchy(customer)
    linkable = _visible_ids(user, [*ancestors, *children, customer.merged_into])
    contacts = sorted(selectors.contacts_of(customer)[:200], key=lambda c: not c.is_active)  # people who left go last
    contact_sensitive = [f for f in Contact.SENSITIVE_FIELDS if f not in hidden_contact]
    visits = selectors.visits_of(customer)
    due = selectors.next_visit_due(customer, last_visit=visits[0] if visits else None)
    charts = selectors.customer_charts(customer)
    context = {
        "customer": customer,
        "ancestors": ancestors,
        "children": children,
        "linkable": linkable,
        "profile": _field_values(customer, [f for f in Customer.SENSITIVE_FIELDS if f not in hidden]),
        "contacts": [(c, _field_values(c, contact_sensitive)) for c in contacts],
        "visits": visits,
        "next_visit_due": due,
        "visit_overdue": due is not None and due < timezone.localdate(),
        "charts": {
            "spend": charts["spend"] if may_see_spend(user) else None,
            "members": charts["members"],
        },
        "panels": render_panels(request, customer),
        "can_edit": customer.status != Customer.Status.MERGED and can_edit(user, customer),
        "is_steward": policy.is_data_steward(user),
        "shows_value": "value_score" not in hidden,
    }
    return render(request, "customers/customer_detail.html", context)


def history_panel_context(request, customer: Customer) -> dict:
    """The 360 page's "history" panel: who served the customer when, and the change history without the fields
    the user may not see."""
    user = request.user
    hidden = {Customer: hidden_customer_fields(user), Contact: hidden_contact_fields(user)}
    return {
        "assignments": selectors.assignment_history(customer),
        "changes": selectors.change_history(customer, hidden=hidden, user=user),
    }


@require_GET
def customer_panel(request, pk: int, key: str):
    """One panel of the 360 page (a lazy one, fetched by the page; any panel works): the same visibility check
    as the page, 404 for a customer the user may not see or a panel not theirs. Without htmx, a page of its own."""
    panel = panel_for(request.user, key)
    if panel is None:
        raise Http404
    try:
        customer = selectors.customer_detail(user=request.user, pk=pk)
    except Customer.DoesNotExist:
        raise Http404 from None
    html = render_panel(request, customer, panel)
    if request.htmx:
        return HttpResponse(html)
    return render(
        request, "customers/customer_panel.html", {"customer": customer, "title": str(panel.title), "html": html}
    )


# --- create and edit ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def customer_create(request):
    user = request.user
    if not policy.may_create_customers(user):
        raise Http404
    candidates = []
    form = CustomerForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        saved, candidates = _save(
            request, form, lambda: services.customer_create(
                by=user, confirm_not_duplicate=form.cleaned_data["confirm_not_duplicate"], **form.service_fields()
            ),
        )  # fmt: skip
        if saved is not None:
            messages.success(request, _("Customer %(name)s created.") % {"name": saved.name})
            return redirect(saved)
    return render(request, "customers/customer_form.html", {"form": form, "candidates": candidates})


def _save(request, form, write) -> tuple[Customer | None, list[dict]]:
    """Run a customer service for a valid form: (the customer, []) when it saved; (None, the likely duplicates
    to confirm) or (None, []) with its errors on the form when it did not. A refusal is a 404."""
    try:
        return write(), []
    except services.DuplicateWarning as warning:
        return None, selectors.duplicate_candidate_rows(user=request.user, candidates=warning.candidates)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None, []
    except PermissionDenied:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def customer_edit(request, pk: int):
    user = request.user
    customer = _editable_customer(request, pk)
    title = str(customer)
    candidates = []
    form = CustomerForm(request.POST or None, user=user, customer=customer)
    if request.method == "POST" and form.is_valid():
        saved, candidates = _save(
            request, form, lambda: services.customer_update(
                customer=customer, by=user, confirm_not_duplicate=form.cleaned_data["confirm_not_duplicate"],
                reason=form.cleaned_data.get("reason", ""), **form.service_fields(),
            ),
        )  # fmt: skip
        if saved is not None:
            messages.success(request, _("Changes saved."))
            return redirect(saved)
    context = {"form": form, "candidates": candidates, "customer": customer, "title": title}
    return render(request, "customers/customer_form.html", context)


@require_GET
def duplicate_check(request):
    """The "check as you type" hint under the name field: a fragment, and no change of state."""
    user = request.user
    if not policy.may_create_customers(user):
        raise Http404
    name = " ".join(request.GET.get("name", "").split())
    credit_code = request.GET.get("credit_code", "").strip().upper() or None
    phone = request.GET.get("phone", "").strip()
    candidates = []
    if len(name) >= 2 or credit_code or phone:
        exclude = None
        if exclude_id := parse_id(request.GET.get("exclude")):
            exclude = Customer.objects.visible_to(user).filter(pk=exclude_id).first()
        found = duplicates.find_duplicates(
            name=name, credit_code=credit_code, phone=phone, parent=None, exclude=exclude
        )
        candidates = selectors.duplicate_candidate_rows(user=user, candidates=found)
    return render(request, "customers/_duplicate_hint.html", {"candidates": candidates})


# --- contacts and visits ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def contact_form(request, pk: int, contact_pk: int | None = None):
    user = request.user
    customer = _editable_customer(request, pk)
    contact = get_object_or_404(Contact, pk=contact_pk, customer=customer) if contact_pk else None
    form = ContactForm(request.POST or None, user=user, contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            if contact is None:
                services.contact_create(customer=customer, by=user, **form.service_fields())
            else:
                services.contact_update(contact=contact, by=user, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("Contact saved."))
            return redirect(customer)
    return render(request, "customers/contact_form.html", {"form": form, "customer": customer, "contact": contact})


@require_POST
def contact_left(request, pk: int, contact_pk: int):
    """The person left the company: the contact is kept, with the date they left."""
    customer = _editable_customer(request, pk)
    contact = get_object_or_404(Contact, pk=contact_pk, customer=customer, active_to__isnull=True)
    try:
        services.contact_update(
            contact=contact, by=request.user, active_to=timezone.localdate(), reason=_("Left the company")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s is marked as having left the company.") % {"name": contact.name})
    return redirect(customer)


@require_http_methods(["GET", "POST"])
def visit_create(request, pk: int):
    customer = _editable_customer(request, pk)
    form = VisitForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        contacts = fields.pop("contacts")
        try:
            services.visit_create(customer=customer, by=request.user, contacts=contacts, **fields)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("Visit logged."))
            return redirect(customer)
    return render(request, "customers/visit_form.html", {"form": form, "customer": customer})


# --- data steward: duplicates and merge ---------------------------------------------------------------


@require_GET
def duplicate_groups(request):
    if not policy.is_data_steward(request.user):
        raise Http404
    groups = [
        {"members": group, "survivor": group[0], "reasons": duplicates.survivor_reasons(group[0], group[1:])}
        for group in duplicates.probable_duplicate_groups()
    ]
    return render(request, "customers/duplicates.html", {"groups": groups})


def _merge_side(user, value) -> Customer | None:
    if (pk := parse_id(value)) is None:
        return None
    return (
        Customer.objects.visible_to(user).live().select_related("account_manager", "region", "industry", "parent")
        .filter(pk=pk).first()
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def customer_merge(request):
    user = request.user
    if not policy.is_data_steward(user):
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    survivor, duplicate = _merge_side(user, data.get("survivor")), _merge_side(user, data.get("duplicate"))
    form = MergeForm(request.POST or None, initial={"survivor": getattr(survivor, "pk", None),
                                                    "duplicate": getattr(duplicate, "pk", None)})  # fmt: skip
    if request.method == "POST" and form.is_valid():
        if survivor is None or duplicate is None:
            form.add_error(None, _("Choose both the surviving record and the duplicate."))
        else:
            try:
                services.customer_merge(
                    survivor=survivor, duplicate=duplicate, by=user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                message = _("%(duplicate)s was merged into %(survivor)s.")
                messages.success(request, message % {"duplicate": duplicate, "survivor": survivor})
                return redirect(survivor)
    query = " ".join(request.GET.get("q", "").split())
    results = []
    if query:
        results = list(selectors.customer_search_ranked(selectors.customer_list(user=user), query)[:20])
    context = {
        "form": form,
        "survivor": survivor,
        "duplicate": duplicate,
        "sides": [(side, selectors.related_counts(side)) for side in (survivor, duplicate) if side is not None],
        "query": query,
        "results": results,
    }
    return render(request, "customers/merge.html", context)


# --- supervisor: handover -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def customer_handover(request):
    user = request.user
    if user.is_admin_role:
        givers = selectors.account_managers()
    elif user.role == Role.SUPERVISOR:
        givers = User.objects.filter(team__supervisor=user, is_active=True, role__in=roles.PORTFOLIO)
    else:
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    from_user = givers.filter(pk=from_id).first() if (from_id := parse_id(data.get("from_user"))) else None
    customers = (
        Customer.objects.visible_to(user).live().filter(account_manager=from_user).order_by("name")
        if from_user is not None
        else Customer.objects.none()
    )
    form = HandoverForm(request.POST or None, givers=givers.order_by("username"), customers=customers,
                        initial={"from_user": from_user})  # fmt: skip
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["customers"] if form.cleaned_data["scope"] == HandoverForm.SCOPE_SELECTED else None
        to_user = form.cleaned_data["to_user"]
        try:
            moved = services.customer_handover(
                from_user=form.cleaned_data["from_user"], to_user=to_user, by=user, reason=form.cleaned_data["reason"],
                customer_ids=[c.pk for c in chosen] if chosen is not None else None,
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("%(n)d customers handed over from %(from)s to %(to)s.")
                % {"n": moved, "from": form.cleaned_data["from_user"], "to": to_user},
            )
            return redirect("customers:handover")
    context = {"form": form, "from_user": from_user, "has_givers": givers.exists()}
    return render(request, "customers/handover.html", context)


# --- call center: caller lookup -----------------------------------------------------------------------


@require_GET
def caller_lookup(request):
    form = LookupForm(request.GET or None)
    matches = None
    if form.is_valid():
        matches = selectors.caller_lookup(user=request.user, phone=form.cleaned_data["phone"])
    return render(request, "customers/lookup.html", {"form": form, "matches": matches})
