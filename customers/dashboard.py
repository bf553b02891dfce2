"""Reads for the dashboard and the tier-change list behind its numbers, scoped to what the user may
see. Each selector is a fixed number of grouped queries, whatever the number of customers."""

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from channels.models import User
from customers import coverage, tiering
from customers.models import TIER_RANK, Tier, TierChange

DIRECTION_UP = "up"
DIRECTION_DOWN = "down"


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first instant of `month` and of the next month, in the site's time zone."""
    start = date(month.year, month.month, 1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    tz = timezone.get_current_timezone()
    return datetime(start.year, start.month, 1, tzinfo=tz), datetime(end.year, end.month, 1, tzinfo=tz)


def tier_change_list(
    *,
    user: User,
    month: date | None = None,
    direction: str = "",
    customer: int | None = None,
    from_tier: str | None = None,
    to_tier: str | None = None,
) -> QuerySet[TierChange]:
    """Tier moves of customers the user may see, newest first, filtered by month, direction
    (up/down), customer and the from/to tiers (None: any; "": untiered)."""
    changes = tiering.tier_changes(user=user)
    if month is not None:
        start, end = month_bounds(month)
        changes = changes.filter(changed_at__gte=start, changed_at__lt=end)
    if direction == DIRECTION_UP:
        changes = changes.filter(is_upgrade=True)
    elif direction == DIRECTION_DOWN:
        changes = changes.filter(is_upgrade=False)
    if customer is not None:
        changes = changes.filter(customer_id=customer)
    if from_tier is not None:
        changes = changes.filter(from_tier=from_tier)
    if to_tier is not None:
        changes = changes.filter(to_tier=to_tier)
    return changes.select_related("customer", "evaluation").order_by("-changed_at", "-id")


@dataclass
class Moves:
    month: date
    upgrades: int
    downgrades: int
    tiers: list[str]  # row and column order of the matrix ("" = untiered)
    matrix: list[tuple[str, list[tuple[str, int]]]]  # (from tier, [(to tier, count), ...])

    @property
    def total(self) -> int:
        return self.upgrades + self.downgrades


def moves_this_month(*, user: User) -> Moves:
    """This month's upgrades, downgrades and from → to matrix (tiering.tier_moves_by_month, one query)."""
    entry = tiering.tier_moves_by_month(user=user, months=1)[-1]
    counts = {(move["from"], move["to"]): move["count"] for move in entry["moves"]}
    tiers = [*sorted(Tier.values, key=TIER_RANK.__getitem__), ""]
    matrix = [(source, [(target, counts.get((source, target), 0)) for target in tiers]) for source in tiers]
    return Moves(
        month=entry["month"], upgrades=entry["upgrades"], downgrades=entry["downgrades"], tiers=tiers, matrix=matrix
    )


@dataclass
class Dashboard:
    distribution: list[dict]  # tiering.tier_distribution rows: tier, label, count, revenue
    moves: Moves
    gaps: dict[str, int]  # coverage.gap_counts, counted up to settings.KAM_LIST_COUNT_CAP + 1 like the lists

    @property
    def gap_display(self) -> dict[str, str]:
        cap = settings.KAM_LIST_COUNT_CAP
        return {key: f"{cap}+" if count > cap else str(count) for key, count in self.gaps.items()}

    def chart(self) -> dict:
        """What static/js/dashboard.js draws (rendered with json_script)."""
        return {
            "tiers": [row["tier"] or "—" for row in self.distribution],
            "counts": [row["count"] for row in self.distribution],
            "revenue": [float(row["revenue"]) if row["revenue"] is not None else None for row in self.distribution],
        }


def home_dashboard(*, user: User) -> Dashboard:
    """The dashboard of the home page, over the customers the user may see: tier distribution (count and
    revenue), this month's moves, and the coverage gaps."""
    cap = settings.KAM_LIST_COUNT_CAP
    return Dashboard(
        distribution=tiering.tier_distribution(user=user),
        moves=moves_this_month(user=user),
        gaps=coverage.gap_counts(user=user, cap=cap) if coverage.may_see_coverage(user) else {},
    )
