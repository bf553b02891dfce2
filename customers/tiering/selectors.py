"""Tier reads (selectors), scoped to the customers the user may see: the tier moves (`tier_changes`, the
filtered `tier_change_list` behind the tier-change page, `tier_moves_by_month` and `moves_this_month` for the
dashboard), the customers per tier (`tier_distribution`), and how one customer's value score and lifetime
value are made (`customer_value_explanation`). Each is a fixed number of queries, whatever the number of
customers."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.models import User
from customers import policy
from customers.models import (
    TIER_RANK,
    Customer,
    GroupMember,
    SpendCategory,
    SpendRecord,
    Tier,
    TierChange,
    TierEvaluation,
    ValueFactor,
)
from customers.selectors import month_starts
from customers.tiering.engine import FACTOR_CODES, Kind, latest_billed_month, load_rules

DIRECTION_UP = "up"
DIRECTION_DOWN = "down"


def tier_changes(*, user: User) -> QuerySet[TierChange]:
    """Tier moves of the customers the user may see. Call-center agents get none: the reasons quote revenue."""
    if not policy.may_see_spend(user):
        return TierChange.objects.visible_to(user).none()
    return TierChange.objects.visible_to(user).select_related("customer")


def tier_distribution(*, user: User) -> list[dict]:
    """Customers and their average monthly revenue per published tier (best first, then "no tier"), among
    the live customers the user may see. Revenue is None for roles that may not see spend. One query."""
    rows = {
        row["tier"]: row
        for row in Customer.objects.visible_to(user).live().order_by().values("tier")
        .annotate(count=Count("id"), revenue=Sum("avg_monthly_revenue"))
    }  # fmt: skip
    show_revenue = policy.may_see_spend(user)
    labels = dict(Tier.choices)
    out = []
    for tier in [*sorted(TIER_RANK, key=TIER_RANK.get), ""]:
        row = rows.get(tier, {})
        out.append({
            "tier": tier,
            "label": labels.get(tier, _("No tier")),
            "count": row.get("count", 0),
            "revenue": (row.get("revenue") or Decimal(0)) if show_revenue else None,
        })  # fmt: skip
    return out


def tier_moves_by_month(*, user: User, months: int = 12) -> list[dict]:
    """Upgrades and downgrades per month for the last `months` months (oldest first), with the from -> to
    counts behind them, among the customers the user may see. One query."""
    axis = month_starts(months, until=timezone.localdate())
    start = timezone.make_aware(datetime.datetime.combine(axis[0], datetime.time.min))
    rows = (
        tier_changes(user=user).filter(changed_at__gte=start).order_by()
        .annotate(month=TruncMonth("changed_at")).values("month", "from_tier", "to_tier", "is_upgrade")
        .annotate(count=Count("id"))
    )  # fmt: skip
    months_out = {m: {"month": m, "upgrades": 0, "downgrades": 0, "moves": []} for m in axis}
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], datetime.datetime) else row["month"]
        entry = months_out.get(month)
        if entry is None:
            continue
        entry["upgrades" if row["is_upgrade"] else "downgrades"] += row["count"]
        entry["moves"].append({"from": row["from_tier"], "to": row["to_tier"], "is_upgrade": row["is_upgrade"],
                               "count": row["count"]})  # fmt: skip
    for entry in months_out.values():
        entry["moves"].sort(key=lambda move: (-move["count"], move["from"], move["to"]))
    return list(months_out.values())


def month_bounds(month: date) -> tuple[datetime.datetime, datetime.datetime]:
    """The first instant of `month` and of the next month, in the site's time zone."""
    start = date(month.year, month.month, 1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime(start.year, start.month, 1, tzinfo=tz),
        datetime.datetime(end.year, end.month, 1, tzinfo=tz),
    )


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
    changes = tier_changes(user=user)
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
    """This month's upgrades, downgrades and from → to matrix (tier_moves_by_month, one query)."""
    entry = tier_moves_by_month(user=user, months=1)[-1]
    counts = {(move["from"], move["to"]): move["count"] for move in entry["moves"]}
    tiers = [*sorted(Tier.values, key=TIER_RANK.__getitem__), ""]
    matrix = [(source, [(target, counts.get((source, target), 0)) for target in tiers]) for source in tiers]
    return Moves(
        month=entry["month"], upgrades=entry["upgrades"], downgrades=entry["downgrades"], tiers=tiers, matrix=matrix
    )


@dataclass
class FactorExplanation:
    code: str
    label: str
    weight: int
    score: float | None  # 0..1
    points: float  # contributed to the value score
    measured: str  # what was measured, in words


@dataclass
class ValueExplanation:
    value_score: int | None
    factors: list[FactorExplanation]
    lifetime_value: Decimal | None
    ltv_formula: str
    period: date | None


def customer_value_explanation(customer: Customer) -> ValueExplanation:
    """Which factor gave how much of the customer's value score, and how the lifetime value is made, for the
    360 page (finance figures: show it only to roles that may see spend). A few small queries."""
    labels = dict(ValueFactor.Code.choices)
    if customer.value_score is None:  # not evaluated yet: only the weights to show (one query)
        weights = dict(ValueFactor.objects.values_list("code", "weight"))
        factors = [
            FactorExplanation(code=code, label=str(labels[code]), weight=weights.get(code, 0), score=None, points=0.0,
                              measured="")
            for code in FACTOR_CODES
        ]  # fmt: skip
        factors.sort(key=lambda factor: (-factor.weight, factor.code))
        return ValueExplanation(value_score=None, factors=factors, lifetime_value=None, ltv_formula="", period=None)
    rules = load_rules()
    latest = (
        TierEvaluation.objects.filter(finished_at__isnull=False).exclude(kind=Kind.DRY_RUN)
        .order_by("-finished_at").values_list("period", flat=True).first()
    )  # fmt: skip
    period = latest or latest_billed_month()
    window = rules.policy.months_window
    start, previous_start = month_starts(window, until=period)[0], month_starts(2 * window, until=period)[0]
    period_end = (period + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    # What the evaluation measured, re-read for this customer in one query.
    spend = (
        SpendRecord.objects.filter(customer=OuterRef("pk"), month__gte=previous_start, month__lte=period)
        .order_by().values("customer")
    )  # fmt: skip
    active = (
        GroupMember.objects.filter(customer=OuterRef("pk"), joined_on__lte=period_end)
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=period_end))
        .order_by().values("customer")
    )  # fmt: skip
    measures = (
        Customer.objects.filter(pk=customer.pk)
        .annotate(
            now=Subquery(spend.filter(month__gte=start).annotate(total=Sum("amount")).values("total")),
            before=Subquery(spend.filter(month__lt=start).annotate(total=Sum("amount")).values("total")),
            categories=Subquery(
                spend.filter(month__gte=start, amount__gt=0).annotate(n=Count("category", distinct=True)).values("n")
            ),
            active_members=Subquery(active.annotate(n=Count("pk")).values("n")),
        )
        .values("now", "before", "categories", "active_members")
        .get()
    )
    points = customer.value_factors or {}
    total = rules.total_weight
    revenue = customer.avg_monthly_revenue or Decimal(0)
    previous = (measures["before"] or Decimal(0)) / window
    now_total = (measures["now"] or Decimal(0)) / window
    ratio = f"{now_total / previous:.2f}" if previous else "—"
    members, categories = measures["active_members"] or 0, measures["categories"] or 0
    importance = customer.industry.importance if customer.industry_id else 50
    years = ((period_end - customer.relationship_since).days / 365.25) if customer.relationship_since else 0
    scores = {
        code: (float(points[code]) * total / (100 * rules.weights[code]))
        if rules.weights.get(code) and total and code in points
        else None
        for code in FACTOR_CODES
    }

    def ahead(code: str) -> int:
        """The percentile as a share of the customers evaluated that this one is ahead of."""
        return round((scores[code] or 0) * 100)

    measured = {
        "revenue": _(
            "Average monthly revenue ¥%(revenue)s over the last %(months)d billed months, ahead of %(share)d%% of "
            "the customers evaluated"
        )
        % {"revenue": f"{revenue:,.0f}", "months": window, "share": ahead("revenue")},
        "members": _("%(members)d active group members, ahead of %(share)d%% of the customers evaluated")
        % {"members": members, "share": ahead("members")},
        "breadth": _("%(count)d of %(total)d spend categories billed in the last %(months)d months")
        % {"count": categories, "total": len(SpendCategory.values), "months": window},
        "growth": _(
            "Last %(months)d months against the %(months)d before: ratio %(ratio)s (0.5 or less scores 0, "
            "1.5 or more scores full)"
        )
        % {"months": window, "ratio": ratio},
        "industry": _("Industry importance %(importance)d of 100") % {"importance": importance},
        "tenure": _("%(years).1f years as a customer (10 years scores full)") % {"years": max(years, 0)},
        "payment": _("No arrears data yet: every customer gets the neutral middle score"),
    }
    factors = [
        FactorExplanation(
            code=code, label=str(labels[code]), weight=rules.weights.get(code, 0), score=scores[code],
            points=float(points.get(code, 0) or 0), measured=str(measured[code]),
        )
        for code in FACTOR_CODES
    ]  # fmt: skip
    factors.sort(key=lambda factor: (-factor.weight, factor.code))
    band = next((b for b in rules.bands if b.tier == customer.tier_computed), None)
    formula = ""
    if band is not None:
        formula = _(
            "¥%(revenue)s a month × 12 × margin %(margin)s × Σ over %(years)d years of retention %(retention)s^t "
            "÷ (1 + %(discount)s)^t"
        ) % {"revenue": f"{revenue:,.0f}", "margin": rules.policy.ltv_margin, "years": rules.policy.ltv_years,
             "retention": band.annual_retention, "discount": rules.policy.ltv_discount_rate}  # fmt: skip
    return ValueExplanation(value_score=customer.value_score, factors=factors, lifetime_value=customer.lifetime_value,
                            ltv_formula=formula, period=latest)  # fmt: skip
