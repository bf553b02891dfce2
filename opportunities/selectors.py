"""Read operations on opportunities: scoped querysets for the dispatch board, the contact channel's
"what I passed on" list and the people a dispatcher may pick. Every list row carries what its page shows
(select_related and one subquery), so pages stay at a fixed number of queries whatever the rows."""

import datetime

from django.core.cache import cache
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from channels import roles
from channels.models import Role, User
from kam.validators import parse_id
from opportunities.models import Opportunity, RoutingStatus, Transfer

# A pending row younger than this is simply waiting for its Celery task; older, the router missed it.
UNROUTED_AFTER = datetime.timedelta(minutes=2)

BUCKET_UNROUTED = "unrouted"
BUCKET_UNCLAIMED = "unclaimed"
BUCKET_OVERDUE = "overdue"
BUCKET_RETURNED = "returned"
BUCKETS = (BUCKET_UNROUTED, BUCKET_UNCLAIMED, BUCKET_OVERDUE, BUCKET_RETURNED)

# The dispatcher's person picker: bounded, and cached for a few minutes (staff change rarely).
PEOPLE_LIMIT = 200
PEOPLE_CACHE_KEY = "opportunities:dispatch-people"
PEOPLE_CACHE_SECONDS = 300


def bucket_q(bucket: str, *, now: datetime.datetime) -> Q:
    """The rows of one dispatch-board tab:
    - unrouted: in the operations-center queue, or still pending routing two minutes after capture;
    - unclaimed: sent to a receiver whose claim deadline has not passed;
    - overdue: escalated, or sent and past the claim deadline (the timer task has not run yet);
    - returned: sent back by the receiver."""
    if bucket == BUCKET_UNROUTED:
        return Q(routing_status=RoutingStatus.QUEUED) | Q(
            routing_status=RoutingStatus.PENDING, created_at__lt=now - UNROUTED_AFTER
        )
    if bucket == BUCKET_UNCLAIMED:
        return Q(routing_status=RoutingStatus.DISPATCHED) & (Q(claim_due_at__isnull=True) | Q(claim_due_at__gte=now))
    if bucket == BUCKET_OVERDUE:
        return Q(routing_status=RoutingStatus.ESCALATED) | Q(
            routing_status=RoutingStatus.DISPATCHED, claim_due_at__lt=now
        )
    if bucket == BUCKET_RETURNED:
        return Q(routing_status=RoutingStatus.RETURNED)
    raise ValueError(bucket)


def _last_transfer_reason():
    return Subquery(Transfer.objects.filter(opportunity=OuterRef("pk")).order_by("-at", "-id").values("reason")[:1])


def board_rows(*, user: User, bucket: str, now: datetime.datetime | None = None) -> QuerySet[Opportunity]:
    """One tab of the dispatch board, oldest first (the longest wait on top), with the customer, the
    receiver and the reason of the last transfer on the row."""
    now = now or timezone.now()
    return (
        Opportunity.objects.visible_to(user)
        .filter(bucket_q(bucket, now=now))
        .select_related(
            "customer__region",
            "customer__industry",
            "contact_channel",
            "captured_by",
            "assigned_to",
            "assigned_partner",
            "assigned_team",
            "assigned_channel",
        )  # fmt: skip
        .annotate(last_reason=_last_transfer_reason())
        .order_by("created_at", "id")
    )


def board_counts(*, user: User, cap: int, now: datetime.datetime | None = None) -> dict[str, int]:
    """Rows per tab, each counted up to cap + 1 (the page shows "cap+")."""
    now = now or timezone.now()
    rows = Opportunity.objects.visible_to(user).order_by()
    return {bucket: rows.filter(bucket_q(bucket, now=now))[: cap + 1].count() for bucket in BUCKETS}


def passed_on(*, user: User, status: str = "") -> QuerySet[Opportunity]:
    """What `user` captured (the contact channel, 接触渠道), newest first, with where each stands."""
    rows = Opportunity.objects.filter(captured_by=user)
    if status in RoutingStatus.values:
        rows = rows.filter(routing_status=status)
    return rows.select_related(
        "customer", "assigned_to", "assigned_partner", "assigned_team", "assigned_channel", "claimed_by",
        "close_reason",
    ).order_by("-created_at", "-id")  # fmt: skip


def dispatch_people() -> list[tuple[int, str]]:
    """(id, label) of the active serving staff a dispatcher may send an opportunity to, bounded and
    cached: the board renders this list in every row's form. The cache holds no translated text."""
    people = cache.get(PEOPLE_CACHE_KEY)
    if people is None:
        rows = (
            User.objects.filter(is_active=True, role__in=roles.SERVING)
            .select_related("team", "partner")
            .order_by("role", "team__name", "display_name", "username")[:PEOPLE_LIMIT]
        )
        people = [(u.pk, str(u), u.role, str(u.partner or u.team or "")) for u in rows]
        cache.set(PEOPLE_CACHE_KEY, people, PEOPLE_CACHE_SECONDS)
    return [(pk, " · ".join(filter(None, (name, str(Role(role).label), where)))) for pk, name, role, where in people]


def find_opportunity(*, user: User, ref: str) -> Opportunity | None:
    """An opportunity the user may see, by id or number (OP00000042)."""
    ref = (ref or "").strip()
    rows = Opportunity.objects.visible_to(user).select_related("customer")
    if (pk := parse_id(ref)) is not None:
        return rows.filter(pk=pk).first()
    if ref:
        return rows.filter(code__iexact=ref).first()
    return None
