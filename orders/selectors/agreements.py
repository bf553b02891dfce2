"""Read operations on agreements: the scoped lists of the pages, the API and the 360 panel. Every row carries
what its page shows (select_related), so lists stay at a fixed number of queries whatever the rows."""

import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from channels import roles
from channels.models import User
from orders.models import Agreement, AgreementItem, AgreementVersion

IN_FLIGHT = (Agreement.Status.DRAFT, Agreement.Status.IN_APPROVAL, Agreement.Status.SIGNED)
LIST_RELATED = ("customer", "created_by")


def expiring_q(days: int, *, today: datetime.date | None = None) -> Q:
    """Effective agreements that end within `days` days from today (today included)."""
    today = today or timezone.localdate()
    return Q(status=Agreement.Status.EFFECTIVE, ends_on__gte=today, ends_on__lte=today + datetime.timedelta(days=days))


def agreement_rows(user: User) -> QuerySet[Agreement]:
    """Every agreement `user` may see, with what a list row shows."""
    return Agreement.objects.visible_to(user).select_related(*LIST_RELATED)


def my_agreements(user: User, *, status: str = "", expiring_days: int | None = None) -> QuerySet[Agreement]:
    """The agreements page: an account manager's are those of their customers or drafted by them, a
    supervisor's those of their teams' customers (what they see); management sees all it may see."""
    rows = agreement_rows(user)
    if user.role in roles.ACCOUNT_MANAGERS:
        edits = Agreement.editors.through.objects.filter(user=user).values("agreement_id")
        rows = rows.filter(Q(customer__account_manager=user) | Q(created_by=user) | Q(pk__in=edits))
    if status in Agreement.Status.values:
        rows = rows.filter(status=status)
    if expiring_days is not None:
        return rows.filter(expiring_q(expiring_days)).order_by("ends_on", "id")  # agr_effective_end_idx
    return rows.order_by("-id")  # newest first by the primary key's index (ids follow the drafting order)


def agreement_detail(user: User) -> QuerySet[Agreement]:
    """The detail page's and the API's rows: items with their products, the editors."""
    return (
        Agreement.objects.visible_to(user)
        .select_related("customer__account_manager", "created_by", "approved_by", "template")
        .prefetch_related(
            Prefetch("items", queryset=AgreementItem.objects.select_related("product")),
            Prefetch("editors", queryset=User.objects.order_by("display_name", "username")),
        )
    )


def versions_of(agreement: Agreement) -> QuerySet[AgreementVersion]:
    return agreement.versions.select_related("changed_by").order_by("-version")


def customer_agreements(user: User, customer) -> QuerySet[Agreement]:
    """The 360 panel: effective and in-flight agreements of the customer, newest first."""
    return (
        Agreement.objects.visible_to(user)
        .filter(customer=customer, status__in=(*IN_FLIGHT, Agreement.Status.EFFECTIVE))  # agr_customer_status_idx
        .order_by("-id")
    )
