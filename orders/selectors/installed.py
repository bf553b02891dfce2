"""Reads of the installed base: a customer's live subscriptions (360 panel) and the release checklist of a
customer that leaves (seed 000 I.3 item 21). Every function takes rows already scoped by the caller or
scopes them itself through `visible_to`; each runs a fixed number of queries."""

from dataclasses import dataclass, field

from django.utils.dateparse import parse_datetime

from orders.models import Order, OrderLine, Resource, Subscription

PANEL_ROWS = 10
LIVE_STATES = (Subscription.Status.ACTIVE, Subscription.Status.SUSPENDED)


def live_subscriptions(user, customer):
    return Subscription.objects.visible_to(user).filter(customer=customer, status__in=LIVE_STATES)


def subscriptions_panel(user, customer, *, limit: int = PANEL_ROWS) -> dict:
    """Three queries: the count, the first rows with their product, whether the customer is leaving."""
    rows = live_subscriptions(user, customer)
    return {
        "live_count": rows.count(),
        "live_rows": list(rows.select_related("product").order_by("product__sort_order", "id")[:limit]),
        "leaving": is_leaving(customer),
    }


def termination_orders(customer):
    return Order.objects.filter(customer=customer, source=Order.Source.TERMINATION)


def is_leaving(customer) -> bool:
    return termination_orders(customer).exists()


@dataclass
class ChecklistItem:
    kind: str
    kind_label: str
    identifier: str
    released: bool
    released_at: object = None


@dataclass
class ChecklistRow:
    subscription: Subscription
    line: OrderLine
    items: list[ChecklistItem] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.subscription.status == Subscription.Status.TERMINATED and all(i.released for i in self.items)


def release_checklist(customer) -> list[ChecklistRow]:
    """Per subscription on the customer's termination orders: the resources it holds (to release) or gave
    back when its termination completed (released, from its history). Two queries whatever the size."""
    lines = list(
        OrderLine.objects.filter(order__in=termination_orders(customer), subscription__isnull=False)
        .exclude(status=OrderLine.Status.CANCELLED)
        .select_related("order", "subscription__product")
        .order_by("subscription_id", "-id")
    )
    rows: dict[int, ChecklistRow] = {}
    for line in lines:
        rows.setdefault(line.subscription_id, ChecklistRow(subscription=line.subscription, line=line))
    kinds = dict(Resource.Kind.choices)
    held = Resource.objects.filter(subscription_id__in=list(rows), status=Resource.Status.IN_USE).order_by(
        "kind", "identifier"
    )
    for row in rows.values():
        for entry in row.subscription.attributes.get("history", []):
            if entry.get("kind") == Order.Kind.TERMINATE:
                for item in entry.get("released", []):
                    row.items.append(
                        ChecklistItem(
                            kind=item.get("kind", ""),
                            kind_label=kinds.get(item.get("kind"), item.get("kind", "")),
                            identifier=item.get("identifier", ""),
                            released=True,
                            released_at=parse_datetime(entry.get("at") or ""),
                        )
                    )
    for resource in held:
        rows[resource.subscription_id].items.append(
            ChecklistItem(
                kind=resource.kind,
                kind_label=resource.get_kind_display(),
                identifier=resource.identifier,
                released=False,
            )
        )
    return sorted(rows.values(), key=lambda r: (r.subscription.product.sort_order, r.subscription.pk))
