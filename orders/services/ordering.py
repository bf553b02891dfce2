"""Order entry (订单, seed 003): drafts, submission against the product templates and the customer's agreement,
approval of orders beyond the agreement, cancellation; drafts from won opportunities and from pre-acceptance
forms (预受理单, seed 004) that the operations center completes.

A bad template value fails the submission (400, every error at once). A term of the agreement that the order
goes beyond does not: the order waits for approval with the sentences that name each term, and the approver
is told. State changes are compare-and-set on the status the caller saw, inside a transaction with the order
row locked, so a double click or two people at once change it once."""

import datetime
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from channels import calendar, roles
from channels.models import ChannelType, User
from channels.notifications import notify
from customers.models import Customer
from kam.celery import enqueue_on_commit
from kam.db import LONG_TEXT, numbered_code
from orders import order_fields, policy
from orders.models import (
    Agreement,
    AgreementItem,
    Order,
    OrderField,
    OrderLine,
    PreAcceptance,
    Product,
    Subscription,
)

CODE_PREFIX = "OR"
MAX_LINES = 50
MAX_QUANTITY = 1_000_000
MAX_PRICE = Decimal("9999999999.99")
REASON_MAX = 300
# The subscription state each kind of order acts on.
SUBSCRIPTION_STATE = {
    Order.Kind.CHANGE: Subscription.Status.ACTIVE,
    Order.Kind.SUSPEND: Subscription.Status.ACTIVE,
    Order.Kind.TERMINATE: Subscription.Status.ACTIVE,
    Order.Kind.RESUME: Subscription.Status.SUSPENDED,
}
# The channel a login without one serves in (the role's own channel).
ROLE_CHANNEL = {
    roles.Role.ACCOUNT_MANAGER: "account_manager",
    roles.Role.SUPERVISOR: "account_manager",
    roles.Role.PHONE_ACCOUNT_MANAGER: "phone_account_manager",
    roles.Role.AGENT: "group_hotline",
    roles.Role.DISPATCHER: "operations_center",
    roles.Role.ADMIN: "operations_center",  # an admin entering an order acts as the operations center
}


class Conflict(Exception):
    """The order is not in the state the action needs (already submitted, cancelled meanwhile): HTTP 409."""


def detail_link(order: Order) -> str:
    return reverse("orders:order-detail", args=[order.pk])


def intake_channel_of(user: User) -> ChannelType | None:
    """The channel an order or form is taken through: the person's own, their partner's, else their role's
    (None for a role that takes no orders)."""
    if user.channel_type_id:
        return user.channel_type
    if user.partner_id:
        return user.partner.channel_type
    code = ROLE_CHANNEL.get(roles.Role.ADMIN if user.is_superuser else user.role)
    return ChannelType.objects.filter(code=code).first() if code else None


def channel_accepts(product: Product, channel: ChannelType | None, accepting_ids: set[int] | None = None) -> bool:
    """A product that lists its accepting channels takes orders only through them (seed 004); one that lists
    none takes them through every channel. `accepting_ids` saves the query when the caller loaded them."""
    if accepting_ids is None:
        accepting_ids = {c.pk for c in product.accepting_channels.all()}
    if not accepting_ids:
        return True
    return channel is not None and channel.pk in accepting_ids


def acceptable_products(channel: ChannelType | None):
    """Offered products the channel may accept (the wizard's product choice)."""
    products = Product.objects.offered()
    if channel is None:
        return products
    return products.filter(
        pk__in=Product.objects.filter(accepting_channels__isnull=True).values("pk")
    ) | products.filter(accepting_channels=channel)


# --- input checks ---------------------------------------------------------------------------------------


def _decimal(value, default: Decimal) -> Decimal | None:
    if value is None or value == "":
        return default
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _template_specs(product_ids) -> dict[int, list[OrderField]]:
    specs: dict[int, list[OrderField]] = defaultdict(list)
    for spec in OrderField.objects.filter(product_id__in=set(product_ids)).order_by("sort_order", "key"):
        specs[spec.product_id].append(spec)
    return specs


def _clean_lines(lines, *, customer: Customer, kind: str, partial: bool) -> tuple[list[dict], dict]:
    """The lines as rows to write, and every error keyed "lines[i].<field>" (values: "lines[i].values.<key>")."""
    errors: dict[str, list[str]] = {}
    if len(lines) > MAX_LINES:
        return [], {"lines": [_("An order has at most %(max)s lines.") % {"max": MAX_LINES}]}
    specs = _template_specs(line.get("product").pk for line in lines if line.get("product") is not None)
    cleaned = []
    for index, line in enumerate(lines):
        key = f"lines[{index}]."
        product, subscription = line.get("product"), line.get("subscription")
        if product is None:
            errors[f"{key}product"] = [_("Choose the product.")]
            continue
        quantity = line.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            errors[f"{key}quantity"] = [_("The quantity is a whole number from 1 to %(max)s.") % {"max": MAX_QUANTITY}]
        price = _decimal(line.get("unit_price"), product.list_price_min or Decimal("0"))
        if price is None or not Decimal("0") <= price <= MAX_PRICE:
            errors[f"{key}unit_price"] = [_("The unit price is an amount in RMB, not negative.")]
        discount = _decimal(line.get("discount"), Decimal("0"))
        if discount is None or not Decimal("0") <= discount <= Decimal("100"):
            errors[f"{key}discount"] = [_("The discount is a percentage from 0 to 100.")]
        if kind == Order.Kind.NEW:
            if subscription is not None:
                errors[f"{key}subscription"] = [_("A new order makes its subscription: name none.")]
            if not product.is_active or product.legacy:
                errors[f"{key}product"] = [_("%(product)s is no longer offered.") % {"product": product}]
        else:
            state = SUBSCRIPTION_STATE[kind]
            if subscription is None:
                errors[f"{key}subscription"] = [
                    _("A %(kind)s order names the subscription it acts on.") % {"kind": Order.Kind(kind).label.lower()}
                ]
            elif subscription.customer_id != customer.pk:
                errors[f"{key}subscription"] = [_("This subscription belongs to another customer.")]
            elif subscription.status != state:
                errors[f"{key}subscription"] = [
                    _("Subscription %(service)s is %(status)s; a %(kind)s order needs it %(state)s.") % {
                        "service": subscription.service_id, "status": subscription.get_status_display().lower(),
                        "kind": Order.Kind(kind).label.lower(), "state": Subscription.Status(state).label.lower(),
                    }
                ]  # fmt: skip
            elif subscription.product_id != product.pk:
                errors[f"{key}product"] = [_("The product must be the subscription's product.")]
        values, value_errors = order_fields.validate_values(
            specs.get(product.pk, []), line.get("values") or {}, partial=partial, prefix=f"{key}values."
        )
        if "values" in line and not isinstance(line.get("values"), dict):
            value_errors = {f"{key}values": [_("The template values must be an object of field: value.")]}
        errors.update(value_errors)
        cleaned.append({
            "product": product, "subscription": subscription, "quantity": quantity, "unit_price": price,
            "discount": discount, "values": values, "provisioning_type": product.provisioning_type,
        })  # fmt: skip
    return cleaned, errors


def _header_errors(*, by: User, customer, kind, agreement, requested_on, note, check_date: bool) -> dict:
    errors: dict[str, list[str]] = {}
    if customer is None or not Customer.objects.visible_to(by).live().filter(pk=customer.pk).exists():
        errors["customer"] = [_("No such customer.")]
    if kind not in Order.Kind.values:
        errors["kind"] = [_("Choose new, change, suspension, resumption or termination.")]
    if agreement is not None and customer is not None and agreement.customer_id != customer.pk:
        errors["agreement"] = [_("This agreement belongs to another customer.")]
    if check_date and requested_on is not None and requested_on < timezone.localdate():
        errors["requested_on"] = [_("The requested date is in the past.")]
    if len(note or "") > LONG_TEXT:
        errors["note"] = [_("At most %(max)s characters.") % {"max": LONG_TEXT}]
    return errors


def _write_lines(order: Order, lines: list[dict]) -> None:
    OrderLine.objects.bulk_create(OrderLine(order=order, **line) for line in lines)


# --- create, update -------------------------------------------------------------------------------------


def order_create(
    customer: Customer,
    *,
    by: User,
    kind: str = Order.Kind.NEW,
    agreement: Agreement | None = None,
    intake_channel: ChannelType | None = None,
    lines=(),
    requested_on: datetime.date | None = None,
    needs_construction: bool = False,
    note: str = "",
    source: str = Order.Source.MANUAL,
) -> Order:
    """A draft order. Template values given must be right already; the required ones may wait for submit."""
    if not policy.may_enter_order(by):
        raise PermissionDenied(_("Your role may not enter orders."))
    lines = list(lines)
    errors = _header_errors(by=by, customer=customer, kind=kind, agreement=agreement, requested_on=requested_on,
                            note=note, check_date=True)  # fmt: skip
    cleaned, line_errors = ([], {}) if "customer" in errors or "kind" in errors else _clean_lines(
        lines, customer=customer, kind=kind, partial=True
    )  # fmt: skip
    errors.update(line_errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        order = Order.objects.create(
            customer=customer, kind=kind, agreement=agreement, source=source, created_by=by,
            intake_channel=intake_channel if intake_channel is not None else intake_channel_of(by),
            requested_on=requested_on, needs_construction=bool(needs_construction), note=(note or "").strip(),
        )  # fmt: skip
        Order.objects.filter(pk=order.pk).update(number=numbered_code(CODE_PREFIX))
        order.refresh_from_db(fields=["number"])
        _write_lines(order, cleaned)
    return order


UPDATABLE = {"agreement", "intake_channel", "requested_on", "needs_construction", "note", "lines"}


def order_update(order: Order, *, by: User, **changes) -> Order:
    """Change a draft: its header fields and, when `lines` is given, all its lines (replaced)."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    if not policy.may_enter_order(by):
        raise PermissionDenied(_("Your role may not enter orders."))
    with transaction.atomic():
        current = _locked(order)
        if current.status != Order.Status.DRAFT:
            raise Conflict(_("Only a draft can be changed (this order is %(status)s).") % {
                "status": current.get_status_display().lower()})  # fmt: skip
        merged = {name: changes.get(name, getattr(current, name)) for name in UPDATABLE - {"lines"}}
        errors = _header_errors(
            by=by, customer=current.customer, kind=current.kind, agreement=merged["agreement"],
            requested_on=merged["requested_on"], note=merged["note"],
            check_date="requested_on" in changes and merged["requested_on"] != current.requested_on,
        )  # fmt: skip
        cleaned = None
        if "lines" in changes:
            cleaned, line_errors = _clean_lines(list(changes["lines"]), customer=current.customer,
                                                kind=current.kind, partial=True)  # fmt: skip
            errors.update(line_errors)
        if errors:
            raise ValidationError(errors)
        merged["note"] = (merged["note"] or "").strip()
        merged["needs_construction"] = bool(merged["needs_construction"])
        Order.objects.filter(pk=current.pk, status=Order.Status.DRAFT).update(**merged)
        if cleaned is not None:
            current.lines.all().delete()
            _write_lines(current, cleaned)
    current.refresh_from_db()
    return current


def _locked(order: Order) -> Order:
    """The order row, locked until the transaction ends (PostgreSQL; SQLite serialises writers anyway)."""
    return Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)


# --- submit: the template, the channel, the agreement ---------------------------------------------------


def _line_label(product: Product) -> str:
    return f"{product.code} {product.label}"


def agreement_reasons(order: Order, lines: list[OrderLine], *, today: datetime.date | None = None) -> list[str]:
    """Every term of the agreement the order goes beyond, as a sentence that names the term (empty: within it).
    Suspensions, resumptions and terminations change no price: only their agreement's running dates count."""
    reasons: list[str] = []
    agreement = order.agreement
    day = order.requested_on or today or timezone.localdate()
    priced = order.kind in (Order.Kind.NEW, Order.Kind.CHANGE)
    if agreement is None:
        for line in lines:
            product = line.product
            if product.needs_contract and order.kind == Order.Kind.NEW:
                reasons.append(_("%(product)s needs a contract: no agreement is named.") % {
                    "product": _line_label(product)})  # fmt: skip
            if priced and line.discount > 0:
                reasons.append(_("%(product)s: a discount of %(discount)s%% needs an agreement that grants it.") % {
                    "product": _line_label(product), "discount": _pct(line.discount)})  # fmt: skip
        return reasons
    name = agreement.number or agreement.title
    if agreement.status != Agreement.Status.EFFECTIVE:
        reasons.append(_("Agreement %(agreement)s is not effective (it is %(status)s).") % {
            "agreement": name, "status": agreement.get_status_display().lower()})  # fmt: skip
    if (agreement.starts_on and day < agreement.starts_on) or (agreement.ends_on and day > agreement.ends_on):
        reasons.append(_("Agreement %(agreement)s runs from %(start)s to %(end)s: the requested date %(day)s is "
                         "outside its term.") % {
            "agreement": name, "start": agreement.starts_on or "…", "end": agreement.ends_on or "…", "day": day,
        })  # fmt: skip
    items = {item.product_id: item for item in AgreementItem.objects.filter(agreement=agreement)}
    for line in lines:
        product, item = line.product, items.get(line.product_id)
        label = _line_label(product)
        if item is None:
            reasons.append(_("%(product)s is not covered by agreement %(agreement)s.") % {
                "product": label, "agreement": name})  # fmt: skip
            continue
        if not priced:
            continue
        if line.discount > item.discount:
            reasons.append(_("%(product)s: the discount of %(discount)s%% is above the %(allowed)s%% agreed for "
                             "this product.") % {
                "product": label, "discount": _pct(line.discount), "allowed": _pct(item.discount)})  # fmt: skip
        if line.discount > agreement.discount_cap:
            reasons.append(_("%(product)s: the discount of %(discount)s%% is above the agreement's discount cap of "
                             "%(cap)s%%.") % {
                "product": label, "discount": _pct(line.discount), "cap": _pct(agreement.discount_cap)})  # fmt: skip
        if line.unit_price < item.unit_price:
            reasons.append(_("%(product)s: the unit price of %(price)s RMB is below the agreed price of %(agreed)s "
                             "RMB.") % {
                "product": label, "price": line.unit_price, "agreed": item.unit_price})  # fmt: skip
        if item.max_quantity is not None and line.quantity > item.max_quantity:
            reasons.append(_("%(product)s: the quantity of %(quantity)s is above the agreement's maximum of "
                             "%(max)s.") % {
                "product": label, "quantity": line.quantity, "max": item.max_quantity})  # fmt: skip
    return reasons


def _pct(value: Decimal) -> str:
    return format(value.normalize(), "f")


def committed_date(order: Order, lines: list[OrderLine], *, today: datetime.date | None = None) -> datetime.date:
    """Today plus the lead time of the slowest line, in working days (with construction where it is needed);
    never before the requested date."""
    days = 0
    for line in lines:
        product = line.product
        lead = product.lead_time_days
        if order.needs_construction and product.construction_lead_time_days:
            lead = max(lead, product.construction_lead_time_days)
        days = max(days, lead)
    committed = calendar.add_working_days(today or timezone.localdate(), days)
    if order.requested_on and order.requested_on > committed:
        return order.requested_on
    return committed


def _submit_errors(order: Order, lines: list[OrderLine]) -> dict:
    if not lines:
        return {"lines": [_("An order needs at least one line.")]}
    raw = [
        {"product": line.product, "subscription": line.subscription, "quantity": line.quantity,
         "unit_price": line.unit_price, "discount": line.discount, "values": line.values}
        for line in lines
    ]  # fmt: skip
    _cleaned, errors = _clean_lines(raw, customer=order.customer, kind=order.kind, partial=False)
    accepting: dict[int, set[int]] = defaultdict(set)
    through = Product.accepting_channels.through
    for product_id, channel_id in through.objects.filter(
        product_id__in={line.product_id for line in lines}
    ).values_list("product_id", "channeltype_id"):
        accepting[product_id].add(channel_id)
    for index, line in enumerate(lines):
        if not channel_accepts(line.product, order.intake_channel, accepting[line.product_id]):
            errors.setdefault(f"lines[{index}].product", []).append(
                _("%(product)s cannot be accepted through the %(channel)s channel: send a pre-acceptance form to "
                  "the operations center.") % {
                    "product": _line_label(line.product),
                    "channel": order.intake_channel.label if order.intake_channel else _("(none)"),
                }
            )  # fmt: skip
    return errors


def _order_lines(order: Order) -> list[OrderLine]:
    return list(order.lines.select_related("product", "subscription").order_by("id"))


def _start(order: Order, lines: list[OrderLine], *, now, extra: dict, expected: str) -> None:
    """A clean (or approved) order: committed date, the lines' provisioning type, provisioning after commit."""
    committed = committed_date(order, lines, today=timezone.localdate(now))
    changed = Order.objects.filter(pk=order.pk, status=expected).update(
        status=Order.Status.SUBMITTED, committed_on=committed, **extra
    )
    if not changed:
        raise Conflict(_("Someone changed this order meanwhile; reload and try again."))
    for line in lines:
        OrderLine.objects.filter(pk=line.pk).update(provisioning_type=line.product.provisioning_type)
    from orders.tasks import start_provisioning

    enqueue_on_commit(start_provisioning, order.pk)


def order_submit(order: Order, *, by: User) -> Order:
    """Check the draft and send it on: a bad template value or a channel that may not take the product is a
    400 with every error; terms beyond the agreement send it to approval; a clean order is submitted with its
    committed date and provisioning starts after commit."""
    if not policy.may_enter_order(by):
        raise PermissionDenied(_("Your role may not enter orders."))
    now = timezone.now()
    with transaction.atomic():
        current = _locked(order)
        if current.status != Order.Status.DRAFT:
            raise Conflict(_("Only a draft can be submitted (this order is %(status)s).") % {
                "status": current.get_status_display().lower()})  # fmt: skip
        current = Order.objects.select_related("customer__account_manager__team__supervisor", "agreement",
                                               "intake_channel").get(pk=current.pk)  # fmt: skip
        lines = _order_lines(current)
        errors = _submit_errors(current, lines)
        if errors:
            raise ValidationError(errors)
        reasons = agreement_reasons(current, lines, today=timezone.localdate(now))
        if reasons:
            changed = Order.objects.filter(pk=current.pk, status=Order.Status.DRAFT).update(
                status=Order.Status.IN_APPROVAL, approval_reasons=reasons, submitted_at=now, approved_by=None,
                approved_at=None,
            )  # fmt: skip
            if not changed:
                raise Conflict(_("Someone changed this order meanwhile; reload and try again."))
            notify(policy.order_approvers(current), kind="order",
                   title=_("Order %(number)s needs your approval") % {"number": current.number},
                   body=" ".join(reasons)[:1000], link=detail_link(current))  # fmt: skip
        else:
            _start(current, lines, now=now, extra={"submitted_at": now, "approval_reasons": []},
                   expected=Order.Status.DRAFT)  # fmt: skip
    current.refresh_from_db()
    return current


def order_approve(order: Order, *, by: User) -> Order:
    """The approver lets an order beyond its agreement through: submitted, provisioning starts."""
    now = timezone.now()
    with transaction.atomic():
        current = Order.objects.select_for_update(of=("self",)).select_related(
            "customer__account_manager__team"
        ).get(pk=order.pk)  # fmt: skip
        if not policy.may_approve_order(by, current):
            raise PermissionDenied(_("Only the supervisor of the customer's team (or an admin) approves this order."))
        if current.status != Order.Status.IN_APPROVAL:
            raise Conflict(_("This order is not waiting for approval."))
        _start(current, _order_lines(current), now=now, extra={"approved_by": by, "approved_at": now},
               expected=Order.Status.IN_APPROVAL)  # fmt: skip
        notify([current.created_by, current.customer.account_manager], kind="order",
               title=_("Order %(number)s approved") % {"number": current.number},
               link=detail_link(current))  # fmt: skip
    current.refresh_from_db()
    return current


def order_reject(order: Order, *, by: User, reason: str) -> Order:
    """The approver sends an order beyond its agreement back to draft with a reason; whoever entered it is
    told, corrects it (or names another agreement) and submits again. The reason stays on the order."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why you reject it.")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("At most %(max)s characters.") % {"max": REASON_MAX}]})
    with transaction.atomic():
        current = Order.objects.select_for_update(of=("self",)).select_related(
            "customer__account_manager__team"
        ).get(pk=order.pk)  # fmt: skip
        if not policy.may_approve_order(by, current):
            raise PermissionDenied(_("Only the supervisor of the customer's team (or an admin) rejects this order."))
        if current.status != Order.Status.IN_APPROVAL:
            raise Conflict(_("This order is not waiting for approval."))
        rejected = _("Rejected by %(who)s: %(reason)s") % {"who": by, "reason": reason}
        changed = Order.objects.filter(pk=current.pk, status=Order.Status.IN_APPROVAL).update(
            status=Order.Status.DRAFT, approval_reasons=[rejected, *current.approval_reasons], submitted_at=None
        )
        if not changed:
            raise Conflict(_("Someone changed this order meanwhile; reload and try again."))
        notify([current.created_by, current.customer.account_manager], kind="order",
               title=_("Order %(number)s rejected") % {"number": current.number}, body=reason,
               link=detail_link(current))  # fmt: skip
    current.refresh_from_db()
    return current


CANCELLABLE = (Order.Status.DRAFT, Order.Status.IN_APPROVAL, Order.Status.SUBMITTED, Order.Status.IN_PROGRESS)


def order_cancel(order: Order, *, by: User, reason: str) -> Order:
    """Cancel an order that is not completed, with a reason. One in provisioning is withdrawn from the
    workstations (`provisioning.withdraw_order`: work orders closed, reservations released)."""
    if not policy.may_enter_order(by):
        raise PermissionDenied(_("Your role may not cancel orders."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why you cancel it.")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("At most %(max)s characters.") % {"max": REASON_MAX}]})
    now = timezone.now()
    with transaction.atomic():
        current = _locked(order)
        if current.status not in CANCELLABLE:
            raise Conflict(_("This order can no longer be cancelled (it is %(status)s).") % {
                "status": current.get_status_display().lower()})  # fmt: skip
        changed = Order.objects.filter(pk=current.pk, status=current.status).update(
            status=Order.Status.CANCELLED, cancelled_at=now, cancel_reason=reason
        )
        if not changed:
            raise Conflict(_("Someone changed this order meanwhile; reload and try again."))
        if current.status == Order.Status.IN_PROGRESS:
            from orders.services import provisioning

            provisioning.withdraw_order(current, now=now)
        else:
            OrderLine.objects.filter(order=current, status=OrderLine.Status.PENDING).update(
                status=OrderLine.Status.CANCELLED
            )
    current.refresh_from_db()
    return current


# --- drafts from elsewhere ------------------------------------------------------------------------------


def order_from_opportunity(opp, *, by: User) -> Order:
    """The draft order of a won opportunity (called by opportunities when it closes as won): one line per
    product of interest at the product's lowest list price (or the expected value split evenly when the
    product has none), no discount, template values left for the account manager to complete.

    Written as the system on behalf of `by`: the closer may be a supervisor or partner staff; the order is
    entered in the name of the customer's account manager when there is one, else of the closer."""
    products = [p for p in opp.products.all() if p.is_active and not p.legacy]
    split = None
    if opp.expected_value and products:
        split = (Decimal(opp.expected_value) / len(products)).quantize(Decimal("0.01"))
    lines = [
        {"product": product, "quantity": 1, "discount": Decimal("0"), "values": {},
         "unit_price": product.list_price_min if product.list_price_min is not None else (split or Decimal("0"))}
        for product in products
    ]  # fmt: skip
    owner = opp.customer.account_manager if opp.customer.account_manager_id else by
    cleaned, _errors = _clean_lines(lines, customer=opp.customer, kind=Order.Kind.NEW, partial=True)
    with transaction.atomic():
        order = Order.objects.create(
            customer=opp.customer, kind=Order.Kind.NEW, source=Order.Source.OPPORTUNITY, created_by=owner,
            intake_channel=intake_channel_of(owner),
            note=_("From won opportunity %(code)s: %(title)s") % {"code": opp.code, "title": opp.title},
        )  # fmt: skip
        Order.objects.filter(pk=order.pk).update(number=numbered_code(CODE_PREFIX))
        order.refresh_from_db(fields=["number"])
        _write_lines(order, cleaned)
        notify([owner], kind="order", title=_("Draft order %(number)s from a won opportunity") % {
            "number": order.number}, body=_("Complete the template fields and submit it."),
            link=detail_link(order))  # fmt: skip
    return order


def pre_acceptance_submit(
    customer: Customer,
    *,
    by: User,
    product: Product,
    channel: ChannelType | None = None,
    details: str,
    values=None,
    contact_name: str = "",
    contact_phone: str = "",
) -> PreAcceptance:
    """A contact channel writes down what the customer wants (预受理单) for the operations center's queue. The
    channel must be one that may accept the product; template values given must be right (partial)."""
    if not policy.may_submit_pre_acceptance(by):
        raise PermissionDenied(_("Your role may not submit pre-acceptance forms."))
    channel = channel if channel is not None else intake_channel_of(by)
    errors: dict[str, list[str]] = {}
    if customer is None or not Customer.objects.visible_to(by).live().filter(pk=customer.pk).exists():
        errors["customer"] = [_("No such customer.")]
    if channel is None:
        errors["channel"] = [_("Name the contact channel.")]
    if product is None or not product.is_active or product.legacy:
        errors["product"] = [_("Choose a product that is offered.")]
    elif channel is not None and not channel_accepts(product, channel):
        errors["product"] = [_("%(product)s cannot be accepted through the %(channel)s channel.") % {
            "product": _line_label(product), "channel": channel.label}]  # fmt: skip
    details = (details or "").strip()
    if not details:
        errors["details"] = [_("Write what the customer asks for.")]
    elif len(details) > LONG_TEXT:
        errors["details"] = [_("At most %(max)s characters.") % {"max": LONG_TEXT}]
    cleaned = {}
    if product is not None:
        cleaned, value_errors = order_fields.validate_values(
            order_fields.template_fields(product), values or {}, partial=True
        )
        errors.update(value_errors)
    contact_name, contact_phone = (contact_name or "").strip(), (contact_phone or "").strip()
    if len(contact_name) > 50:
        errors["contact_name"] = [_("At most %(max)s characters.") % {"max": 50}]
    if contact_phone:
        try:
            order_fields.validate_phone(contact_phone)
        except ValidationError as exc:
            errors["contact_phone"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        form = PreAcceptance.objects.create(
            customer=customer, product=product, channel=channel, details=details, values=cleaned,
            contact_name=contact_name, contact_phone=contact_phone, submitted_by=by,
        )  # fmt: skip
        notify(_dispatchers(), kind="pre_acceptance",
               title=_("Pre-acceptance form: %(product)s for %(customer)s") % {
                   "product": product.label, "customer": customer.name},
               body=details[:500], link=reverse("orders:pre-acceptance-queue"))  # fmt: skip
    return form


def _dispatchers():
    return User.objects.filter(role=roles.Role.DISPATCHER, is_active=True)


def _handle(form: PreAcceptance, *, by: User) -> PreAcceptance:
    if not policy.may_handle_pre_acceptance(by):
        raise PermissionDenied(_("Only the operations center handles pre-acceptance forms."))
    current = PreAcceptance.objects.select_for_update(of=("self",)).select_related(
        "customer", "product", "channel", "submitted_by").get(pk=form.pk)  # fmt: skip
    if current.status != PreAcceptance.Status.QUEUED:
        raise Conflict(_("This form has already been handled (%(status)s).") % {
            "status": current.get_status_display().lower()})  # fmt: skip
    return current


def pre_acceptance_convert(
    form: PreAcceptance, *, by: User, quantity: int = 1, unit_price=None, requested_on=None, note: str = ""
) -> Order:
    """The operations center makes the form into a draft order (source: pre-acceptance) that it completes
    and submits; the order is taken through the form's contact channel."""
    with transaction.atomic():
        current = _handle(form, by=by)
        order = order_create(
            current.customer, by=by, kind=Order.Kind.NEW, intake_channel=current.channel,
            source=Order.Source.PRE_ACCEPTANCE, requested_on=requested_on,
            note=note or current.details[:LONG_TEXT],
            lines=[{"product": current.product, "quantity": quantity, "unit_price": unit_price,
                    "discount": Decimal("0"), "values": current.values}],
        )  # fmt: skip
        changed = PreAcceptance.objects.filter(pk=current.pk, status=PreAcceptance.Status.QUEUED).update(
            status=PreAcceptance.Status.CONVERTED, handled_by=by, handled_at=timezone.now(), order=order
        )
        if not changed:
            raise Conflict(_("Someone handled this form meanwhile."))
        notify([current.submitted_by], kind="pre_acceptance",
               title=_("Your pre-acceptance form became order %(number)s") % {"number": order.number})  # fmt: skip
    return order


def pre_acceptance_refuse(form: PreAcceptance, *, by: User, reason: str) -> PreAcceptance:
    """The operations center refuses the form with a reason; the submitter is told it (to tell the customer)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why you refuse it.")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("At most %(max)s characters.") % {"max": REASON_MAX}]})
    with transaction.atomic():
        current = _handle(form, by=by)
        PreAcceptance.objects.filter(pk=current.pk, status=PreAcceptance.Status.QUEUED).update(
            status=PreAcceptance.Status.REFUSED, handled_by=by, handled_at=timezone.now(), refusal_reason=reason
        )
        notify([current.submitted_by], kind="pre_acceptance",
               title=_("Pre-acceptance form refused: %(product)s for %(customer)s") % {
                   "product": current.product.label, "customer": current.customer.name},
               body=reason)  # fmt: skip
    current.refresh_from_db()
    return current
