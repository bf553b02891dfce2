"""Order pages: the order list, the entry wizard (customer → kind, agreement and product → the product's
template fields → review → save the draft or submit), the order detail with its actions, a draft line's
editor, the pre-acceptance form and the operations center's queue.

Views stay thin: every order comes through Order.objects.visible_to(user) (another person's is a 404), every
change through orders.services.ordering, whose errors become form errors (400) or a conflict message (409).
The wizard keeps its state in the query string and hidden fields: nothing is written before "save"."""

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels import roles
from customers import selectors as customer_selectors
from customers.models import Customer, visible_ids_among
from kam.form_helpers import add_service_errors, run_service
from kam.pagination import page_of
from kam.validators import parse_id
from orders import order_fields, policy
from orders.forms_ordering import (
    ConvertForm,
    CustomerSearchForm,
    HeaderForm,
    LineForm,
    OrderFilterForm,
    PreAcceptanceForm,
    ReasonForm,
    StartForm,
)
from orders.models import Agreement, Order, OrderField, PreAcceptance, Subscription
from orders.selectors import ordering as selectors
from orders.services import ordering as services

PAGE_SIZE = 25
ORDER_NUMBER = re.compile(r"^[Oo][Rr]\d{8}$")
CUSTOMER_CHOICES = 20
STEPS_TEMPLATE = "orders/provisioning/_order_steps.html"


# --- helpers ---------------------------------------------------------------------------------------------


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _customer(user, value) -> Customer | None:
    pk = parse_id(value)
    if pk is None:
        return None
    return Customer.objects.visible_to(user).live().filter(pk=pk).first()


def _customer_choices(request, form) -> list[Customer]:
    term = " ".join((form.cleaned_data.get("q") or "").split()) if form.is_valid() else ""
    if len(term) < 2:
        return []
    found = customer_selectors.customer_search_ranked(customer_selectors.customer_list(user=request.user), term)
    return list(found[:CUSTOMER_CHOICES])


def _order(user, pk: int) -> Order:
    try:
        return selectors.order_detail(user, pk)
    except Order.DoesNotExist:
        raise Http404 from None


def _steps_template() -> str | None:
    """The provisioning part's steps on the order page, once that part ships its template."""
    try:
        get_template(STEPS_TEMPLATE)
    except TemplateDoesNotExist:
        return None
    return STEPS_TEMPLATE


def _labelled_values(lines) -> None:
    """Each line's values as (label, value) in template order (one query for every product on the page)."""
    specs: dict[int, list[OrderField]] = {}
    for spec in OrderField.objects.filter(product_id__in={line.product_id for line in lines}).order_by("sort_order"):
        specs.setdefault(spec.product_id, []).append(spec)
    for line in lines:
        known = specs.get(line.product_id, [])
        line.shown_values = [(spec.label, line.values.get(spec.key)) for spec in known if spec.key in line.values]
        line.missing = [spec.label for spec in known if spec.required and spec.key not in line.values]


# --- list ------------------------------------------------------------------------------------------------


@require_GET
def order_list(request):
    user = request.user
    _require(policy.may_enter_order(user) or policy.is_provisioning_staff(user) or user.role in roles.READ_ONLY)
    form = OrderFilterForm(request.GET)
    rows = selectors.order_rows(user)
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            rows = rows.filter(status=data["status"])
        if data["kind"]:
            rows = rows.filter(kind=data["kind"])
        term = data["q"].strip()
        if term:
            # An order number is matched exactly (its unique index); other words search the customer's name.
            rows = (
                rows.filter(number=term.upper())
                if ORDER_NUMBER.match(term)
                else rows.filter(customer__name__icontains=term)
            )
    paginator, page, page_error = page_of(request, rows.order_by("-created_at", "-id"), PAGE_SIZE)
    context = {"form": form, "page": page, "paginator": paginator, "page_error": page_error,
               "may_enter": policy.may_enter_order(user)}  # fmt: skip
    return render(request, "orders/ordering/order_list.html", context)


# --- the entry wizard ------------------------------------------------------------------------------------


def _start_choices(user, customer: Customer) -> dict:
    channel = services.intake_channel_of(user)
    return {
        "agreements": Agreement.objects.visible_to(user).filter(customer=customer).order_by("-status", "-id"),
        "products": services.acceptable_products(channel).distinct(),
        "subscriptions": Subscription.objects.visible_to(user)
        .filter(customer=customer, status__in=[Subscription.Status.ACTIVE, Subscription.Status.SUSPENDED])
        .select_related("product"),
    }


@require_GET
def order_new(request):
    """Step 1: the customer (search), then kind, agreement and product. A GET form: nothing is written."""
    user = request.user
    _require(policy.may_enter_order(user))
    customer = _customer(user, request.GET.get("customer"))
    if customer is None:
        search = CustomerSearchForm(request.GET)
        return render(request, "orders/ordering/wizard_customer.html",
                      {"search": search, "results": _customer_choices(request, search)})  # fmt: skip
    adding_to = _draft_of(user, request.GET.get("order"), customer)
    posted = request.GET.copy() if "kind" in request.GET else None
    if posted is not None and adding_to is not None:
        posted["kind"] = adding_to.kind  # a line added to a draft is of the draft's kind
    start = StartForm(posted, **_start_choices(user, customer))
    if start.is_bound and start.is_valid():
        data = start.cleaned_data
        product = data["subscription"].product if data["kind"] != Order.Kind.NEW else data["product"]
        query = {"customer": customer.pk, "kind": data["kind"], "product": product.pk}
        if data["agreement"]:
            query["agreement"] = data["agreement"].pk
        if data["kind"] != Order.Kind.NEW:
            query["subscription"] = data["subscription"].pk
        if adding_to is not None:
            query["order"] = adding_to.pk
        return redirect(reverse("orders:order-new-line") + "?" + "&".join(f"{k}={v}" for k, v in query.items()))
    context = {"customer": customer, "form": start, "adding_to": adding_to}
    return render(request, "orders/ordering/wizard_start.html", context)


def _draft_of(user, value, customer: Customer) -> Order | None:
    """The draft a line is added to (`?order=`): one the user may see, of this customer; else a 404."""
    if not value:
        return None
    order = (
        Order.objects.visible_to(user)
        .filter(pk=parse_id(value) or 0, customer=customer, status=Order.Status.DRAFT)
        .first()
    )
    if order is None:
        raise Http404
    return order


def _wizard_state(request) -> dict:
    """The choices of step 1, from the query string, re-checked against what the user may see and accept."""
    user = request.user
    customer = _customer(user, request.GET.get("customer"))
    if customer is None:
        raise Http404
    adding_to = _draft_of(user, request.GET.get("order"), customer)
    kind = adding_to.kind if adding_to is not None else request.GET.get("kind") or Order.Kind.NEW
    if kind not in Order.Kind.values:
        raise Http404
    choices = _start_choices(user, customer)
    product = choices["products"].filter(pk=parse_id(request.GET.get("product")) or 0).first()
    agreement = subscription = None
    if adding_to is not None:
        agreement = adding_to.agreement
    elif request.GET.get("agreement"):
        agreement = choices["agreements"].filter(pk=parse_id(request.GET.get("agreement")) or 0).first()
        if agreement is None:
            raise Http404
    if kind != Order.Kind.NEW:
        subscription = choices["subscriptions"].filter(pk=parse_id(request.GET.get("subscription")) or 0).first()
        if subscription is None:
            raise Http404
        product = subscription.product
    if product is None:
        raise Http404
    return {"customer": customer, "kind": kind, "kind_label": Order.Kind(kind).label, "product": product,
            "agreement": agreement, "subscription": subscription, "adding_to": adding_to}  # fmt: skip


@require_http_methods(["GET", "POST"])
def order_new_line(request):
    """Step 2 and 3: the product's template fields, then the review, then save as draft or submit."""
    user = request.user
    _require(policy.may_enter_order(user))
    state = _wizard_state(request)
    specs = order_fields.template_fields(state["product"])
    initial = {"unit_price": state["product"].list_price_min}
    line_form = LineForm(request.POST or None, specs=specs, initial=initial, prefix="line")
    header = HeaderForm(request.POST or None, prefix="order")
    context = {**state, "line_form": line_form, "header": header, "review": False, "status": 200}
    if request.method == "POST" and line_form.is_valid() and header.is_valid():
        step = request.POST.get("step")
        values = line_form.template_values()
        cleaned, errors = order_fields.validate_values(specs, values, partial=step == "draft", prefix="values.")
        if errors:
            line_form.add_value_errors(errors, "")
            context["status"] = 400
        elif step in ("draft", "submit"):
            return _save(request, state, line_form, header, values, submit=step == "submit", context=context)
        elif step == "review":
            context.update(review=True, review_values=[(s.label, cleaned.get(s.key)) for s in specs
                                                        if s.key in cleaned])  # fmt: skip
    elif request.method == "POST":
        line_form.add_template_errors(partial=request.POST.get("step") == "draft")
        context["status"] = 400
    return render(request, "orders/ordering/wizard_line.html", context, status=context["status"])


def _save(request, state, line_form, header, values, *, submit: bool, context):
    user, data, head = request.user, line_form.cleaned_data, header.cleaned_data
    line = {"product": state["product"], "subscription": state["subscription"], "quantity": data["quantity"],
            "unit_price": data["unit_price"], "discount": data.get("discount") or 0, "values": values}  # fmt: skip
    order = state["adding_to"]
    index = 0
    try:
        if order is None:
            order = services.order_create(
                state["customer"], by=user, kind=state["kind"], agreement=state["agreement"], lines=[line],
                requested_on=head.get("requested_on"), needs_construction=head.get("needs_construction", False),
                note=head.get("note") or "",
            )  # fmt: skip
        else:
            rows = [{"product": other.product, "subscription": other.subscription, "quantity": other.quantity,
                     "unit_price": other.unit_price, "discount": other.discount, "values": other.values}
                    for other in order.lines.select_related("product", "subscription").order_by("id")]  # fmt: skip
            index = len(rows)
            order = services.order_update(order, by=user, lines=[*rows, line])
    except services.Conflict as exc:
        messages.error(request, str(exc))
        return redirect("orders:order-detail", state["adding_to"].pk)
    except ValidationError as exc:
        mine = f"lines[{index}]."
        line_form.add_value_errors({k: v for k, v in exc.message_dict.items() if k.startswith(mine)}, mine)
        others = {k: v for k, v in exc.message_dict.items() if not k.startswith(mine)}
        if others:
            add_service_errors(header, ValidationError(others))
        return render(request, "orders/ordering/wizard_line.html", {**context, "review": False}, status=400)
    if not submit:
        messages.success(request, _("Draft order %(number)s saved.") % {"number": order.number})
        return redirect("orders:order-detail", order.pk)
    return _submit_and_report(request, order)


def _submit_and_report(request, order: Order):
    try:
        order = services.order_submit(order, by=request.user)
    except ValidationError as exc:
        messages.error(request, _("Saved as a draft, not submitted: %(errors)s") % {"errors": " ".join(exc.messages)})
    except services.Conflict as exc:
        messages.error(request, str(exc))
    else:
        if order.status == Order.Status.IN_APPROVAL:
            messages.warning(request, _("The order goes beyond its agreement: it waits for approval."))
        else:
            messages.success(request, _("Order %(number)s submitted; committed for %(date)s.") % {
                "number": order.number, "date": order.committed_on})  # fmt: skip
    return redirect("orders:order-detail", order.pk)


# --- detail and actions ----------------------------------------------------------------------------------


def _detail_context(request, order: Order, bound: dict | None = None) -> dict:
    user = request.user
    bound = bound or {}
    lines = list(order.lines.all())
    _labelled_values(lines)
    enters = policy.may_enter_order(user)
    context = {
        "order": order,
        "lines": lines,
        "customer_linkable": bool(visible_ids_among(user, [order.customer_id])),
        "may_edit": enters and order.status == Order.Status.DRAFT,
        "may_approve": order.status == Order.Status.IN_APPROVAL and policy.may_approve_order(user, order),
        "may_cancel": enters and order.status in services.CANCELLABLE,
        "steps_template": _steps_template(),
    }
    if context["may_approve"]:
        context["reject_form"] = bound.get("reject") or ReasonForm(prefix="reject")
    if context["may_cancel"]:
        context["cancel_form"] = bound.get("cancel") or ReasonForm(prefix="cancel")
    return context


@require_GET
def order_detail(request, pk: int):
    order = _order(request.user, pk)
    return render(request, "orders/ordering/order_detail.html", _detail_context(request, order))


def _act(request, pk: int, call, *, form=None, form_key: str = "", success: str = ""):
    order = _order(request.user, pk)
    status = run_service(
        request, lambda: call(order, form.cleaned_data if form is not None else {}), form=form,
        conflicts=(services.Conflict,),
    )  # fmt: skip
    if status is None:
        if success:
            messages.success(request, success)
        return redirect("orders:order-detail", pk)
    order = _order(request.user, pk)
    bound = {form_key: form} if form is not None else {}
    return render(request, "orders/ordering/order_detail.html", _detail_context(request, order, bound), status=status)


@require_POST
def order_submit(request, pk: int):
    order = _order(request.user, pk)
    _require(policy.may_enter_order(request.user))
    return _submit_and_report(request, order)


@require_POST
def order_approve(request, pk: int):
    return _act(request, pk, lambda order, data: services.order_approve(order, by=request.user),
                success=_("Approved: the order is submitted."))  # fmt: skip


@require_POST
def order_reject(request, pk: int):
    form = ReasonForm(request.POST, prefix="reject")
    return _act(request, pk, lambda order, data: services.order_reject(order, by=request.user, reason=data["reason"]),
                form=form, form_key="reject", success=_("Rejected: the order is back in draft."))  # fmt: skip


@require_POST
def order_cancel(request, pk: int):
    form = ReasonForm(request.POST, prefix="cancel")
    return _act(request, pk, lambda order, data: services.order_cancel(order, by=request.user, reason=data["reason"]),
                form=form, form_key="cancel", success=_("Order cancelled."))  # fmt: skip


@require_http_methods(["GET", "POST"])
def order_line_edit(request, pk: int, line_pk: int):
    """A draft's line: quantity, price, discount and the template fields (a won opportunity's draft comes
    with them empty). Saves the whole set of lines through order_update."""
    user = request.user
    order = _order(user, pk)
    _require(policy.may_enter_order(user))
    lines = list(order.lines.all())
    line = next((candidate for candidate in lines if candidate.pk == line_pk), None)
    if line is None or order.status != Order.Status.DRAFT:
        raise Http404
    specs = order_fields.template_fields(line.product)
    initial = {"quantity": line.quantity, "unit_price": line.unit_price, "discount": line.discount,
               **{f"v_{key}": value for key, value in line.values.items()}}  # fmt: skip
    form = LineForm(request.POST or None, specs=specs, initial=initial, prefix="line")
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            index = lines.index(line)
            rows = [{"product": other.product, "subscription": other.subscription, "quantity": other.quantity,
                     "unit_price": other.unit_price, "discount": other.discount, "values": other.values}
                    for other in lines]  # fmt: skip
            data = form.cleaned_data
            rows[index].update(quantity=data["quantity"], unit_price=data["unit_price"],
                               discount=data.get("discount") or 0, values=form.template_values())  # fmt: skip
            try:
                services.order_update(order, by=user, lines=rows)
            except services.Conflict as exc:
                messages.error(request, str(exc))
                return redirect("orders:order-detail", pk)
            except ValidationError as exc:
                mine = {k: v for k, v in exc.message_dict.items() if k.startswith(f"lines[{index}].")}
                form.add_value_errors(mine, f"lines[{index}].")
                others = [m for k, v in exc.message_dict.items() if k not in mine for m in v]
                if others:
                    form.add_error(None, others)
            else:
                messages.success(request, _("Line saved."))
                return redirect("orders:order-detail", pk)
    return render(request, "orders/ordering/line_edit.html", {"order": order, "line": line, "form": form},
                  status=status)  # fmt: skip


# --- pre-acceptance forms --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def pre_acceptance_new(request):
    """A contact channel's form: the customer (search), the product (those the channel may accept), then what
    the customer asks for, the contact and the template fields known so far."""
    user = request.user
    _require(policy.may_submit_pre_acceptance(user))
    customer = _customer(user, request.GET.get("customer"))
    if customer is None:
        search = CustomerSearchForm(request.GET)
        return render(request, "orders/ordering/wizard_customer.html", {
            "search": search, "results": _customer_choices(request, search), "pre_acceptance": True})  # fmt: skip
    channel = services.intake_channel_of(user)
    products = services.acceptable_products(channel).distinct()
    product = products.filter(pk=parse_id(request.GET.get("product")) or 0).first()
    if product is None:
        return render(request, "orders/ordering/pre_acceptance_form.html",
                      {"customer": customer, "products": products, "channel": channel})  # fmt: skip
    form = PreAcceptanceForm(request.POST or None, specs=order_fields.template_fields(product))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.pre_acceptance_submit(
                    customer, by=user, product=product, channel=channel, details=data["details"],
                    values=form.template_values(), contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                )  # fmt: skip
            except ValidationError as exc:
                errors = {}
                for key, value in exc.message_dict.items():
                    errors.setdefault(f"v_{key.removeprefix('values.')}" if key.startswith("values.") else key,
                                      []).extend(value)  # fmt: skip
                add_service_errors(form, ValidationError(errors))
            else:
                messages.success(request, _("Sent to the operations center."))
                return redirect("home")
        else:
            form.add_template_errors(partial=True)
    context = {"customer": customer, "product": product, "channel": channel, "form": form}
    return render(request, "orders/ordering/pre_acceptance_form.html", context, status=status)


@require_GET
def pre_acceptance_queue(request):
    user = request.user
    _require(policy.may_handle_pre_acceptance(user))
    paginator, page, page_error = page_of(request, selectors.pre_acceptance_queue(user), PAGE_SIZE)
    context = {"page": page, "paginator": paginator, "page_error": page_error, "refuse_form": ReasonForm(),
               "convert_form": ConvertForm()}  # fmt: skip
    return render(request, "orders/ordering/pre_acceptance_queue.html", context)


def _form(user, pk: int) -> PreAcceptance:
    form = selectors.pre_acceptance_rows(user).filter(pk=pk).first()
    if form is None:
        raise Http404
    return form


@require_POST
def pre_acceptance_convert(request, pk: int):
    user = request.user
    form_row = _form(user, pk)
    _require(policy.may_handle_pre_acceptance(user))
    form = ConvertForm(request.POST)
    quantity = form.cleaned_data["quantity"] if form.is_valid() else 1
    try:
        order = services.pre_acceptance_convert(form_row, by=user, quantity=quantity)
    except (services.Conflict, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("orders:pre-acceptance-queue")
    messages.success(request, _("Draft order %(number)s made: complete it and submit.") % {"number": order.number})
    return redirect("orders:order-detail", order.pk)


@require_POST
def pre_acceptance_refuse(request, pk: int):
    user = request.user
    form_row = _form(user, pk)
    _require(policy.may_handle_pre_acceptance(user))
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why you refuse it."))
        return redirect("orders:pre-acceptance-queue")
    try:
        services.pre_acceptance_refuse(form_row, by=user, reason=form.cleaned_data["reason"])
    except services.Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Refused; the sender is told why."))
    return redirect("orders:pre-acceptance-queue")
