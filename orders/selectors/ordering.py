"""Read operations of order entry: the order lists and detail, and the operations center's queue of
pre-acceptance forms. Every read starts from `visible_to(user)`; lists load what they show in constant queries."""

from django.db.models import Prefetch, QuerySet

from channels.models import User
from orders.models import Order, OrderLine, PreAcceptance

LIST_RELATED = ("customer", "intake_channel", "agreement", "created_by")


def order_rows(user: User) -> QuerySet[Order]:
    """The orders `user` may see, newest first, with what a list row shows."""
    return Order.objects.visible_to(user).select_related(*LIST_RELATED)


def order_rows_with_lines(user: User) -> QuerySet[Order]:
    """`order_rows` with each order's lines and their products (two more queries per page, whatever its size)."""
    lines = OrderLine.objects.select_related("product").order_by("id")
    return order_rows(user).prefetch_related(Prefetch("lines", queryset=lines))


def order_detail(user: User, pk: int) -> Order:
    """One order with its lines; Order.DoesNotExist when `user` may not see it."""
    lines = OrderLine.objects.select_related("product", "subscription").order_by("id")
    return (
        Order.objects.visible_to(user)
        .select_related(*LIST_RELATED, "customer__account_manager__team", "approved_by")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .get(pk=pk)
    )


def pre_acceptance_rows(user: User) -> QuerySet[PreAcceptance]:
    return PreAcceptance.objects.visible_to(user).select_related(
        "customer", "product", "channel", "submitted_by", "handled_by", "order"
    )


def pre_acceptance_queue(user: User) -> QuerySet[PreAcceptance]:
    """Forms waiting for the operations center, oldest first (served by the partial index preacc_queue_idx)."""
    return pre_acceptance_rows(user).filter(status=PreAcceptance.Status.QUEUED).order_by("submitted_at", "id")
