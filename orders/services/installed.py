"""The installed base (seed 000 I.3 item 21): resources reserved at the resource check, subscriptions made and
changed by completed order lines, resources released when a subscription ends.

Called by provisioning (`reserve_resources` at the resource-check step, `release_reservations` when a line is
cancelled, `apply_line` when a line completes). A resource changes hands only through a compare-and-set on its
status, so two lines never take one row and a row is in use by one subscription at most (the database's check
constraint holds the second half)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from customers.models import Region
from kam.db import numbered_code
from orders.models import Order, OrderLine, ProductResourceNeed, Resource, SlaClass, Subscription

SERVICE_ID_PREFIX = "SV"
CAS_ATTEMPTS = 5  # SQLite has no row locks: a lost compare-and-set tries the next free row


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _region_chain(region_id: str | None) -> list[str]:
    """The customer's region and its ancestors (district → city → province): a pool kept at city or province
    level serves the districts below it."""
    chain: list[str] = []
    while region_id and len(chain) < 4:
        chain.append(region_id)
        region_id = Region.objects.filter(pk=region_id).values_list("parent_id", flat=True).first()
    return chain


def _region_label(region_id: str | None) -> str:
    region = Region.objects.filter(pk=region_id).first() if region_id else None
    return region.name if region else gettext("(no region)")


def _take_free(kind: str, regions: list[str] | None, line: OrderLine, now: datetime) -> Resource | None:
    """Reserve one free row of `kind` for `line`: lock a free candidate (PostgreSQL skips rows another
    transaction holds), then compare-and-set free → reserved; a lost CAS moves on to the next row."""
    free = Resource.objects.filter(kind=kind, status=Resource.Status.FREE)
    if regions is not None:
        free = free.filter(region_code__in=regions)
    free = free.order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        free = free.select_for_update(skip_locked=True)
    for _attempt in range(CAS_ATTEMPTS):
        candidate = free.values_list("pk", flat=True).first()
        if candidate is None:
            return None
        taken = Resource.objects.filter(pk=candidate, status=Resource.Status.FREE).update(
            status=Resource.Status.RESERVED, reserved_for=line, reserved_at=now
        )
        if taken:
            return Resource.objects.get(pk=candidate)
    return None


def reserve_resources(line: OrderLine, *, at: datetime | None = None) -> list[Resource]:
    """At the resource check: reserve one row of each kind the line's product needs (`ProductResourceNeed`),
    from the customer's region where that matters. All or nothing: if one kind has no free row, nothing stays
    reserved and a ValidationError names the kind and the region (the caller blocks the step with it).
    Calling it again returns what is already reserved for the line and reserves only what is missing."""
    now = _now(at)
    needs = list(ProductResourceNeed.objects.filter(product_id=line.product_id).order_by("kind"))
    if not needs:
        return []
    customer_region = Order.objects.filter(pk=line.order_id).values_list("customer__region_id", flat=True).first()
    with transaction.atomic():
        held = list(Resource.objects.filter(reserved_for=line, status=Resource.Status.RESERVED).order_by("kind", "id"))
        if line.subscription_id:
            held += list(Resource.objects.filter(subscription_id=line.subscription_id).order_by("kind", "id"))
        have = {resource.kind for resource in held}
        reserved = [resource for resource in held if resource.reserved_for_id == line.pk]
        chain = None
        for need in needs:
            if need.kind in have:
                continue
            regions = None
            if need.region_matters and customer_region:
                chain = chain if chain is not None else _region_chain(customer_region)
                regions = chain
            resource = _take_free(need.kind, regions, line, now)
            if resource is None:
                kind_label = Resource.Kind(need.kind).label
                if regions is None:
                    message = gettext("No free %(kind)s left.") % {"kind": kind_label}
                else:
                    message = gettext("No free %(kind)s in region %(region)s.") % {
                        "kind": kind_label,
                        "region": _region_label(customer_region),
                    }
                raise ValidationError({"resources": [message]})
            reserved.append(resource)
    return reserved


def release_reservations(line: OrderLine, *, at: datetime | None = None) -> int:
    """A cancelled line gives back what it reserved (rows already in use stay with their subscription)."""
    return Resource.objects.filter(reserved_for=line, status=Resource.Status.RESERVED).update(
        status=Resource.Status.FREE, reserved_for=None, reserved_at=None, released_at=_now(at)
    )


def _release_held(subscription: Subscription, now: datetime) -> int:
    return Resource.objects.filter(subscription=subscription, status=Resource.Status.IN_USE).update(
        status=Resource.Status.FREE, subscription=None, reserved_for=None, reserved_at=None, released_at=now
    )


def _put_in_use(line: OrderLine, subscription: Subscription, now: datetime) -> int:
    """The line's reserved rows go to its subscription: the CAS (reserved, for this line) refuses a row that
    meanwhile went back to the pool or to someone else."""
    return Resource.objects.filter(reserved_for=line, status=Resource.Status.RESERVED).update(
        status=Resource.Status.IN_USE, subscription=subscription, in_use_since=now
    )


def _int_value(values: dict, key: str) -> int | None:
    value = values.get(key)
    if value in (None, "") or isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if 0 <= number <= 2_147_483_647 else None


def _sla_class(line: OrderLine, order: Order) -> str:
    """The line's own value, else the agreement's level, else the product's default, else standard."""
    valid = set(SlaClass.values)
    for candidate in (
        line.values.get("sla_class"),
        order.agreement.sla_class if order.agreement_id else None,
        line.product.sla_class_default,
    ):
        if candidate in valid:
            return candidate
    return SlaClass.STANDARD


def _history(subscription: Subscription, line: OrderLine, kind: str, by, now: datetime, **changes) -> None:
    entries = subscription.attributes.setdefault("history", [])
    entries.append({"line": line.pk, "kind": kind, "at": now.isoformat(), "by": getattr(by, "pk", None), **changes})


def _applied(subscription: Subscription, line: OrderLine) -> bool:
    return any(entry.get("line") == line.pk for entry in subscription.attributes.get("history", []))


def _create_subscription(line: OrderLine, order: Order, *, by, now: datetime) -> Subscription:
    circuit = (
        Resource.objects.filter(reserved_for=line, status=Resource.Status.RESERVED, kind=Resource.Kind.CIRCUIT)
        .order_by("id")
        .values_list("identifier", flat=True)
        .first()
    )
    if circuit and Subscription.objects.filter(service_id=circuit).exists():
        circuit = None  # a released circuit id reused: the ended subscription keeps its service id
    subscription = Subscription(
        customer_id=order.customer_id,
        product_id=line.product_id,
        agreement_id=order.agreement_id,
        service_id=circuit or f"~{line.pk}",  # numbered just after the insert when there is no circuit id
        quantity=line.quantity,
        bandwidth_mbps=_int_value(line.values, "bandwidth"),
        members=_int_value(line.values, "members"),
        monthly_price=line.net_price,
        sla_class=_sla_class(line, order),
        started_on=timezone.localdate(now),
        attributes={},
    )
    _history(subscription, line, Order.Kind.NEW, by, now)
    subscription.save()
    if not circuit:
        Subscription.objects.filter(pk=subscription.pk).update(service_id=numbered_code(SERVICE_ID_PREFIX))
        subscription.refresh_from_db(fields=["service_id"])
    return subscription


def apply_line(line: OrderLine, *, by, at: datetime | None = None) -> Subscription:
    """A completed line changes the installed base by its order's kind: new → a subscription (billing starts
    on the acceptance date, the reserved rows go in use on it); change → bandwidth, quantity and price, the
    before/after in the subscription's history; suspend/resume → status; terminate → ended, its rows released
    to the pool. Sets `line.subscription`. Idempotent: a line already applied returns the subscription as is.
    The caller marks the line and the order completed."""
    now = _now(at)
    subscription = _apply(line, by=by, now=now)
    line.subscription = subscription
    return subscription


def _apply(line: OrderLine, *, by, now: datetime) -> Subscription:
    with transaction.atomic():
        line = (
            OrderLine.objects.select_for_update(of=("self",))
            .select_related("order__agreement", "product")
            .get(pk=line.pk)
        )
        order = line.order
        if order.kind == Order.Kind.NEW:
            if line.subscription_id:
                return Subscription.objects.get(pk=line.subscription_id)
            subscription = _create_subscription(line, order, by=by, now=now)
            _put_in_use(line, subscription, now)
            OrderLine.objects.filter(pk=line.pk).update(subscription=subscription)
            return subscription

        if not line.subscription_id:
            raise ValidationError({"subscription": [gettext("This order line names no subscription to act on.")]})
        subscription = Subscription.objects.select_for_update().get(pk=line.subscription_id)
        if subscription.customer_id != order.customer_id:
            raise ValidationError({"subscription": [gettext("The subscription belongs to another customer.")]})
        if _applied(subscription, line):
            return subscription
        if subscription.status == Subscription.Status.TERMINATED:
            raise ValidationError({"subscription": [gettext("The subscription has already ended.")]})

        fields = ["attributes"]
        if order.kind == Order.Kind.CHANGE:
            before = {
                "bandwidth_mbps": subscription.bandwidth_mbps,
                "quantity": subscription.quantity,
                "monthly_price": str(subscription.monthly_price),
            }
            bandwidth = _int_value(line.values, "bandwidth")
            if bandwidth is not None:
                subscription.bandwidth_mbps = bandwidth
            members = _int_value(line.values, "members")
            if members is not None:
                subscription.members = members
            subscription.quantity = line.quantity
            subscription.monthly_price = line.net_price
            after = {
                "bandwidth_mbps": subscription.bandwidth_mbps,
                "quantity": subscription.quantity,
                "monthly_price": str(subscription.monthly_price),
            }
            _history(subscription, line, order.kind, by, now, before=before, after=after)
            fields += ["bandwidth_mbps", "members", "quantity", "monthly_price"]
            _put_in_use(line, subscription, now)
        elif order.kind == Order.Kind.SUSPEND:
            subscription.status = Subscription.Status.SUSPENDED
            _history(subscription, line, order.kind, by, now)
            fields.append("status")
        elif order.kind == Order.Kind.RESUME:
            subscription.status = Subscription.Status.ACTIVE
            _history(subscription, line, order.kind, by, now)
            fields.append("status")
        elif order.kind == Order.Kind.TERMINATE:
            subscription.status = Subscription.Status.TERMINATED
            subscription.ended_on = max(timezone.localdate(now), subscription.started_on)
            released = _release_held(subscription, now) + release_reservations(line, at=now)
            _history(subscription, line, order.kind, by, now, released=released)
            fields += ["status", "ended_on"]
        subscription.save(update_fields=fields)
        OrderLine.objects.filter(pk=line.pk).update(subscription=subscription)
        return subscription
