"""Segment reads (selectors): the segments a user may see, their members, a definition's preview, and the
monthly movement report. Every member list goes through Customer.objects.visible_to(user).live(): a shared
segment shows each reader only the customers that reader may see, in pages, exports and the API alike."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import models
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext

from channels.models import User
from customers.models import Customer, Segment, SegmentMember, SegmentSnapshot
from customers.segments.criteria import apply_definition
from customers.selectors import month_starts


def segment_list(*, user: User) -> QuerySet[Segment]:
    return Segment.objects.visible_to(user).select_related("owner").order_by("name", "pk")


def segment_detail(*, user: User, pk: int) -> Segment:
    """A segment the user may see; Segment.DoesNotExist otherwise (a 404: others' private segments)."""
    return Segment.objects.visible_to(user).select_related("owner").get(pk=pk)


def segment_members(segment: Segment, *, user: User) -> QuerySet[Customer]:
    """The members the user may see: the definition's live matches, or a frozen segment's list, always
    intersected with the user's visible live customers."""
    if not (segment.owner_id == user.pk or segment.is_shared):
        return Customer.objects.none()
    visible = Customer.objects.visible_to(user).live()
    if segment.is_frozen:
        return visible.filter(pk__in=SegmentMember.objects.filter(segment=segment).values("customer_id"))
    return apply_definition(visible, segment.definition)


def preview_members(definition: dict, *, user: User) -> QuerySet[Customer]:
    """The customers a definition (already cleaned) would hold for the user, before it is saved."""
    return apply_definition(Customer.objects.visible_to(user).live(), definition)


def member_rows(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """What a member row shows, without per-row queries; newest first (the API's keyset order)."""
    return queryset.select_related("account_manager", "industry", "region").order_by("-pk")


def previous_month(today: date | None = None) -> date:
    today = today or timezone.localdate()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class MonthMovement:
    month: date
    size: int
    entered: int | None  # None: no snapshot of the month before, so no baseline to compare with
    left: int | None


MOVEMENT_KINDS = ("members", "entered", "left")


def _snapshots_seen_by(segment: Segment, user: User) -> QuerySet[SegmentSnapshot]:
    # Merged customers stay in the history, so visible_to without live().
    return SegmentSnapshot.objects.visible_to(user).filter(segment=segment)


def segment_movements(
    segment: Segment, *, user: User, months: int = 12, until: date | None = None
) -> list[MonthMovement]:
    """Per month, oldest first: members at the month's snapshot, how many entered since the month before and
    how many left, counting only customers the user may see; from the first recorded month on. Four queries
    whatever the segment's size: the latest month, which months have a snapshot, sizes with entries, and
    departures."""
    until = (
        until
        or SegmentSnapshot.objects.filter(segment=segment).order_by("-month").values_list("month", flat=True).first()
    )
    if until is None:
        return []
    window = month_starts(months + 1, until=until)  # one extra month: the baseline of the first
    axis, pairs = window[1:], list(zip(window, window[1:], strict=False))
    flags = {f"m{i}": Exists(SegmentSnapshot.objects.filter(segment=segment, month=m)) for i, m in enumerate(window)}
    present_flags = Segment.objects.filter(pk=segment.pk).values(**flags).get()
    present = {m for i, m in enumerate(window) if present_flags[f"m{i}"]}
    rows = _snapshots_seen_by(segment, user)
    earlier = Case(*[When(month=cur, then=Value(prev)) for prev, cur in pairs], output_field=models.DateField())
    later = Case(*[When(month=prev, then=Value(cur)) for prev, cur in pairs], output_field=models.DateField())
    same_customer = SegmentSnapshot.objects.filter(segment=segment, customer=OuterRef("customer"))
    sizes = {
        row["month"]: row
        for row in rows.filter(month__in=axis)
        .annotate(before=earlier)
        .annotate(stayed=Exists(same_customer.filter(month=OuterRef("before"))))
        .values("month")
        .annotate(size=Count("pk"), entered=Count("pk", filter=Q(stayed=False)))
        .order_by()
    }
    lefts = {
        row["after"]: row["left"]
        for row in rows.filter(month__in=window[:-1])
        .annotate(after=later)
        .annotate(stays=Exists(same_customer.filter(month=OuterRef("after"))))
        .values("after")
        .annotate(left=Count("pk", filter=Q(stays=False)))
        .order_by()
    }
    out = []
    for prev, month in pairs:
        if not out and month not in present:
            continue  # months before the first record are not part of the report
        row = sizes.get(month, {})
        baseline = prev in present and month in present
        out.append(
            MonthMovement(
                month=month,
                size=row.get("size", 0),
                entered=row.get("entered", 0) if baseline else None,
                left=lefts.get(month, 0) if baseline else None,
            )
        )
    return out


def movement_customers(segment: Segment, *, user: User, month: date, kind: str) -> QuerySet[Customer]:
    """The customers behind one number of the movement report (visible to the user)."""
    if kind not in MOVEMENT_KINDS:
        raise ValueError(kind)
    at = SegmentSnapshot.objects.filter(segment=segment, month=month).values("customer_id")
    before = SegmentSnapshot.objects.filter(segment=segment, month=previous_month(month)).values("customer_id")
    visible = Customer.objects.visible_to(user)
    if kind == "members":
        return visible.filter(pk__in=at)
    if kind == "entered":
        return visible.filter(pk__in=at).exclude(pk__in=before)
    return visible.filter(pk__in=before).exclude(pk__in=at)


def movement_chart(movements: list[MonthMovement]) -> dict:
    """The chart's data for json_script (no inline script: CSP)."""
    return {
        "months": [m.month.strftime("%Y-%m") for m in movements],
        "size": [m.size for m in movements],
        "entered": [m.entered for m in movements],
        "left": [-m.left if m.left is not None else None for m in movements],
        "labels": {
            "size": gettext("Customers in the segment"),
            "entered": gettext("Entries"),
            "left": gettext("Departures"),
        },
    }
