"""Agreement pages: the list (mine, by status, expiring within 90 days), the detail with the state buttons the
user may press and the version history, create (template defaults, items) and edit (a reason once effective),
and the customer 360 panel.

Every agreement comes through Agreement.objects.visible_to(user) (another customer's is a 404); every change
through orders.services.agreements, whose ValidationErrors become form errors and whose refusals a message."""

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.models import Customer
from kam.form_helpers import add_service_errors
from kam.pagination import page_of
from kam.validators import parse_id
from orders import policy
from orders.forms_agreements import ActivateForm, AgreementForm, ItemFormSet, ReasonForm, SignForm, items_of
from orders.models import Agreement, AgreementItem, AgreementTemplate
from orders.selectors import agreements as selectors
from orders.services import agreements as services

PAGE_SIZE = 25
PANEL_ROWS = 5
EXPIRING_DAYS = 90
TERM_FIELDS = services.TERM_FIELDS


def _require_access(user) -> None:
    if not policy.may_see_agreements(user):
        raise PermissionDenied(_("Your role has no agreements page."))


def _get_visible(user, pk: int) -> Agreement:
    try:
        return selectors.agreement_detail(user).get(pk=pk)
    except Agreement.DoesNotExist:
        raise Http404 from None


# --- list ----------------------------------------------------------------------------------------------


@require_GET
def agreement_list(request):
    user = request.user
    _require_access(user)
    status = request.GET.get("status", "")
    expiring = request.GET.get("expiring") == "1"
    rows = selectors.my_agreements(user, status=status, expiring_days=EXPIRING_DAYS if expiring else None)
    paginator, page, page_error = page_of(request, rows, PAGE_SIZE)
    return render(request, "orders/agreements/list.html", {
        "page": page, "paginator": paginator, "page_error": page_error, "status": status, "expiring": expiring,
        "statuses": Agreement.Status.choices, "may_draft": policy.may_draft_agreement(user),
        "expiring_days": EXPIRING_DAYS,
    })  # fmt: skip


# --- detail and the life cycle ---------------------------------------------------------------------------


def _buttons(user, agreement: Agreement) -> dict:
    """Which state buttons `user` may press (the services decide again on POST)."""
    status, S = agreement.status, Agreement.Status
    editor_ids = {u.pk for u in agreement.editors.all()}
    handles = policy.may_handle_agreement(user, agreement)
    approver = status == S.IN_APPROVAL and policy.may_approve_agreement(user, agreement)
    return {
        "may_edit": policy.may_edit_draft(user, agreement) or (status == S.EFFECTIVE and user.pk in editor_ids),
        "may_submit": status == S.DRAFT and policy.may_edit_draft(user, agreement),
        "may_approve": approver and not agreement.approved_by_id,
        "may_reject": approver,
        "may_sign": status == S.IN_APPROVAL and bool(agreement.approved_by_id) and handles,
        "may_activate": status == S.SIGNED and handles,
        "may_terminate": status == S.EFFECTIVE and (handles or user.pk in editor_ids),
    }


def _label(field: str) -> str:
    """A diff key as the page names it: the field's label, or "Item INET"."""
    if field.startswith("item:"):
        return _("Item %(product)s") % {"product": field.removeprefix("item:")}
    try:
        return str(Agreement._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field


def _shown(value) -> str | None:
    """A before/after value for the page; an item as "unit price: 3000.00, discount (%): 5.00"."""
    if isinstance(value, dict):
        return ", ".join(f"{AgreementItem._meta.get_field(k).verbose_name}: {v}" for k, v in value.items()
                         if v not in (None, ""))  # fmt: skip
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _versions(agreement: Agreement) -> list:
    """The history with each change as rows (field, before, after) for the page."""
    rows = list(selectors.versions_of(agreement)[:100])
    for version in rows:
        version.diff = [
            (_label(field), _shown(before), _shown(after)) for field, (before, after) in sorted(version.changes.items())
        ]
    return rows


@require_GET
def agreement_detail(request, pk: int):
    agreement = _get_visible(request.user, pk)
    return render(request, "orders/agreements/detail.html", {
        "agreement": agreement, "items": list(agreement.items.all()), "editors": list(agreement.editors.all()),
        "versions": _versions(agreement), "reason_form": ReasonForm(), "sign_form": SignForm(),
        "activate_form": ActivateForm(), **_buttons(request.user, agreement),
    })  # fmt: skip


ACTIONS = {
    "submit": (None, lambda a, user, data: services.agreement_submit(a, by=user)),
    "approve": (None, lambda a, user, data: services.agreement_approve(a, by=user)),
    "reject": (ReasonForm, lambda a, user, data: services.agreement_reject(a, by=user, reason=data["reason"])),
    "sign": (SignForm, lambda a, user, data: services.agreement_sign(a, by=user, signed_on=data.get("signed_on"))),
    "activate": (ActivateForm,
                 lambda a, user, data: services.agreement_activate(a, by=user, starts_on=data.get("starts_on"))),
    "terminate": (ReasonForm, lambda a, user, data: services.agreement_terminate(a, by=user, reason=data["reason"])),
}  # fmt: skip


@require_POST
def agreement_action(request, pk: int, action: str):
    """One state button. A refusal or an invalid input comes back as a message on the detail page."""
    if action not in ACTIONS:
        raise Http404
    agreement = _get_visible(request.user, pk)
    form_class, run = ACTIONS[action]
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("orders:agreement-detail", pk=pk)
    try:
        run(agreement, request.user, form.cleaned_data if form else {})
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You may not do this."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Done."))
    return redirect("orders:agreement-detail", pk=pk)


# --- create and edit -------------------------------------------------------------------------------------


def _initial_items(template: AgreementTemplate | None) -> list[dict]:
    if template is None:
        return []
    return [{"product": p, "unit_price": p.list_price_min, "discount": 0} for p in template.products.all()]


@require_http_methods(["GET", "POST"])
def agreement_create(request):
    user = request.user
    _require_access(user)
    if not policy.may_draft_agreement(user):
        raise PermissionDenied(_("Your role may not draft agreements."))
    source = request.POST if request.method == "POST" else request.GET
    customer = None
    if (customer_id := parse_id(source.get("customer", ""))) is not None:
        customer = Customer.objects.visible_to(user).live().filter(pk=customer_id).first()
        if customer is None:
            raise Http404
    template = None
    if (template_id := parse_id(request.GET.get("template", ""))) is not None:
        template = AgreementTemplate.objects.filter(pk=template_id, is_active=True).first()
    if request.method == "POST":
        form = AgreementForm(request.POST, user=user, customer=customer)
        formset = ItemFormSet(request.POST, prefix="items")
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                agreement = services.agreement_create(
                    data["customer"], by=user, template=data.get("template"), title=data["title"],
                    items=items_of(formset), editors=data.get("editors") or (),
                    **{f: data.get(f) for f in TERM_FIELDS if f != "title"},
                )  # fmt: skip
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Agreement drafted."))
                return redirect("orders:agreement-detail", pk=agreement.pk)
        status = 400
    else:
        initial = {"template": template.pk if template else None, **services.template_defaults(template)}
        form = AgreementForm(initial=initial, user=user, customer=customer)
        formset = ItemFormSet(prefix="items", initial=_initial_items(template))
        status = 200
    return render(request, "orders/agreements/form.html", {
        "form": form, "formset": formset, "customer": customer, "agreement": None,
        "templates": AgreementTemplate.objects.filter(is_active=True),
    }, status=status)  # fmt: skip


@require_http_methods(["GET", "POST"])
def agreement_edit(request, pk: int):
    user = request.user
    agreement = _get_visible(user, pk)
    if not (policy.may_edit_draft(user, agreement) or policy.may_edit_effective(user, agreement)):
        raise PermissionDenied(_("You may not change this agreement."))
    if request.method == "POST":
        form = AgreementForm(request.POST, user=user, agreement=agreement)
        formset = ItemFormSet(request.POST, prefix="items")
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                services.agreement_update(
                    agreement, by=user, reason=data.get("reason", ""), items=items_of(formset),
                    editors=data.get("editors") or [], **{f: data.get(f) for f in TERM_FIELDS},
                )  # fmt: skip
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Agreement changed."))
                return redirect("orders:agreement-detail", pk=pk)
        status = 400
    else:
        initial = {f: getattr(agreement, f) for f in TERM_FIELDS}
        initial["editors"] = [u.pk for u in agreement.editors.all()]
        form = AgreementForm(initial=initial, user=user, agreement=agreement)
        formset = ItemFormSet(prefix="items", initial=[
            {"product": i.product, "unit_price": i.unit_price, "discount": i.discount, "max_quantity": i.max_quantity}
            for i in agreement.items.all()
        ])  # fmt: skip
        status = 200
    return render(request, "orders/agreements/form.html", {
        "form": form, "formset": formset, "customer": agreement.customer, "agreement": agreement,
    }, status=status)  # fmt: skip


# --- the 360 panel ---------------------------------------------------------------------------------------


def customer_panel_context(request, customer) -> dict:
    """Two queries: the count and the newest effective or in-flight agreements of the customer."""
    rows = selectors.customer_agreements(request.user, customer)
    return {
        "agreement_count": rows.count(),
        "agreement_rows": list(rows[:PANEL_ROWS]),
        "may_draft": policy.may_draft_agreement(request.user) and customer.status != Customer.Status.MERGED,
    }
