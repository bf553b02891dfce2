"""`{% order_progress order as progress %}`: the lines of an order with their work orders and steps, for the
include templates/orders/provisioning/_order_steps.html (the order pages and the 360 panel)."""

from django import template
from django.utils import timezone

from orders.selectors import provisioning as selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def order_progress(context, order):
    request = context.get("request")
    if request is None or order is None:
        return []
    return selectors.order_progress(request.user, order)


@register.simple_tag
def provisioning_now():
    """The moment the page is drawn, to mark overdue steps."""
    return timezone.now()
