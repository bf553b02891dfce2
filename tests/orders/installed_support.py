"""Order rows for the installed-base tests, written directly: order entry and provisioning are other parts;
these tests drive `orders.services.installed` the way provisioning calls it."""

from decimal import Decimal

from orders.models import Order, OrderLine, Product


def make_line(customer, by, *, code="INET", kind="new", subscription=None, values=None, **line_fields) -> OrderLine:
    order = Order.objects.create(customer=customer, kind=kind, status=Order.Status.IN_PROGRESS, created_by=by)
    fields = {"quantity": 1, "unit_price": Decimal("3000.00"), "discount": Decimal("10")} | line_fields
    return OrderLine.objects.create(
        order=order,
        product=Product.objects.get(code=code),
        subscription=subscription,
        values={"bandwidth": 100} if values is None else values,
        **fields,
    )
