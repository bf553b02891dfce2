"""Pipeline analytics (issue 4, DOMAIN.md §4.2 measures) over the opportunities a user may see.

Every figure is a grouped SQL aggregate (GROUP BY stage, team, month, reason…) over
`Opportunity.objects.visible_to(user)`, so the page costs a fixed number of queries whatever the rows:
- weighted pipeline = Σ expected value × probability of the open opportunities, by stage, by team (of the
  person who claimed it, else of the receiver, else the receiving team) and by expected-close month;
- conversion by capture-month cohort: captured → qualified (an opportunity: `qualified_at` set, captured
  as one or qualified from a lead) → won;
- average days per stage from the stage history (`StageChange.days_in_stage` of the stage left);
- claim on-time rate over the claimed rows;
- win/loss reasons (count and value by close reason) and the competitors named.
The same filters give the list behind each number (`drill_rows`)."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from channels.models import User
from kam.validators import parse_id
from opportunities.models import CLOSED_STAGES, OPEN_STAGES, Opportunity, Stage, StageChange

COHORT_MONTHS = 24  # the cohort table shows at most this many capture months (newest)
TOP_COMPETITORS = 10
NO_TEAM = "none"
NO_DATE = "none"

MONEY = DecimalField(max_digits=18, decimal_places=2)
WEIGHTED = ExpressionWrapper(F("expected_value") * F("probability") * Value(Decimal("0.01")), output_field=MONEY)
ZERO = Value(Decimal(0))
OPEN = Q(stage__in=OPEN_STAGES)
# The team an opportunity counts for: its owner's, else its receiver's, else the team it was sent to.
TEAM_ID = Coalesce("claimed_by__team_id", "assigned_to__team_id", "assigned_team_id")
TEAM_NAME = Coalesce("claimed_by__team__name", "assigned_to__team__name", "assigned_team__name")


@dataclass
class Filters:
    team: int | None = None
    month_from: datetime.date | None = None  # first day of a month
    month_to: datetime.date | None = None  # first day of a month (inclusive)


def month_start(month: datetime.date) -> datetime.datetime:
    return datetime.datetime(month.year, month.month, 1, tzinfo=timezone.get_current_timezone())


def next_month(month: datetime.date) -> datetime.date:
    return datetime.date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def pipeline_rows(*, user: User, filters: Filters) -> QuerySet[Opportunity]:
    """The visible opportunities, filtered by team and capture-month range, unordered (for GROUP BY)."""
    rows = Opportunity.objects.visible_to(user).order_by()
    if filters.team is not None:
        rows = rows.alias(team_key=TEAM_ID).filter(team_key=filters.team)
    if filters.month_from is not None:
        rows = rows.filter(created_at__gte=month_start(filters.month_from))
    if filters.month_to is not None:
        rows = rows.filter(created_at__lt=month_start(next_month(filters.month_to)))
    return rows


def rate(part: int, whole: int) -> float | None:
    """A percentage with one decimal, None when there is nothing to divide by."""
    return round(100 * part / whole, 1) if whole else None


def _num(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _label(name: str, name_en: str) -> str:
    return name_en if name_en and (get_language() or "").startswith("en") else name


@dataclass
class Pipeline:
    totals: dict
    by_stage: list[dict]
    by_team: list[dict]
    by_month: list[dict]
    cohorts: list[dict]
    stage_days: list[dict]
    reasons: list[dict]
    competitors: list[dict]
    conversion: dict = field(default_factory=dict)

    def chart(self) -> dict:
        """What static/js/pipeline.js draws (json_script): labels, series and the drill parameters of the
        list behind each bar."""
        return {
            "stage": {
                "labels": [row["label"] for row in self.by_stage],
                "weighted": [float(row["weighted"]) for row in self.by_stage],
                "value": [float(row["value"]) for row in self.by_stage],
                "links": [row["drill"] for row in self.by_stage],
            },
            "team": {
                "labels": [row["label"] for row in self.by_team],
                "weighted": [float(row["weighted"]) for row in self.by_team],
                "links": [row["drill"] for row in self.by_team],
            },
            "month": {
                "labels": [row["label"] for row in self.by_month],
                "weighted": [float(row["weighted"]) for row in self.by_month],
                "links": [row["drill"] for row in self.by_month],
            },
            "cohort": {
                "labels": [row["label"] for row in self.cohorts],
                "qualified_rate": [row["qualified_rate"] for row in self.cohorts],
                "won_rate": [row["won_rate"] for row in self.cohorts],
                "links": [f"cohort={row['label']}" for row in self.cohorts],
            },
            "reasons": {
                "labels": [row["label"] for row in self.reasons],
                "count": [row["count"] for row in self.reasons],
                "links": [row["drill"] for row in self.reasons],
            },
        }


def pipeline(*, user: User, filters: Filters) -> Pipeline:
    """All figures of the pipeline page: eight grouped queries (nine with a supervisor's team lookup)."""
    rows = pipeline_rows(user=user, filters=filters)
    open_rows = rows.filter(stage__in=OPEN_STAGES)

    totals = rows.aggregate(
        captured=Count("pk"),
        open_count=Count("pk", filter=OPEN),
        open_value=Coalesce(Sum("expected_value", filter=OPEN), ZERO, output_field=MONEY),
        weighted=Coalesce(Sum(WEIGHTED, filter=OPEN), ZERO, output_field=MONEY),
        won_count=Count("pk", filter=Q(stage=Stage.WON)),
        won_value=Coalesce(Sum("expected_value", filter=Q(stage=Stage.WON)), ZERO, output_field=MONEY),
        claimed=Count("pk", filter=Q(claimed_on_time__isnull=False)),
        on_time=Count("pk", filter=Q(claimed_on_time=True)),
    )  # fmt: skip
    totals["open_value"], totals["weighted"], totals["won_value"] = (
        _num(totals["open_value"]), _num(totals["weighted"]), _num(totals["won_value"]),
    )  # fmt: skip
    totals["on_time_rate"] = rate(totals["on_time"], totals["claimed"])

    grouped = {"count": Count("pk"), "value": Sum("expected_value"), "weighted": Sum(WEIGHTED)}

    stages = {row["stage"]: row for row in open_rows.values("stage").annotate(**grouped)}
    by_stage = [
        {"stage": stage.value, "label": stage.label, "count": stages[stage]["count"],
         "value": _num(stages[stage]["value"]), "weighted": _num(stages[stage]["weighted"]),
         "drill": f"stage={stage.value}"}
        for stage in Stage if stage in OPEN_STAGES and stage in stages
    ]  # fmt: skip

    teams = (
        open_rows.annotate(team_key=TEAM_ID, team_name=TEAM_NAME).values("team_key", "team_name").annotate(**grouped)
    )
    by_team = sorted(
        (
            {"team": row["team_key"], "label": row["team_name"] or _("No team"), "count": row["count"],
             "value": _num(row["value"]), "weighted": _num(row["weighted"]),
             "drill": f"open=1&in_team={row['team_key'] or NO_TEAM}"}
            for row in teams
        ),
        key=lambda row: (-row["weighted"], row["label"]),
    )  # fmt: skip

    months = open_rows.annotate(month=TruncMonth("expected_close")).values("month").annotate(**grouped)
    by_month = sorted(
        (
            {"month": row["month"], "label": row["month"].strftime("%Y-%m") if row["month"] else _("No date"),
             "count": row["count"], "value": _num(row["value"]), "weighted": _num(row["weighted"]),
             "drill": f"close_month={row['month'].strftime('%Y-%m') if row['month'] else NO_DATE}"}
            for row in months
        ),
        key=lambda row: (row["month"] is None, row["month"] or datetime.date.min),
    )  # fmt: skip

    cohort_rows = (
        rows.annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(
            captured=Count("pk"),
            qualified=Count("pk", filter=Q(qualified_at__isnull=False)),
            won=Count("pk", filter=Q(stage=Stage.WON)),
            lost=Count("pk", filter=Q(stage__in=[Stage.LOST, Stage.SUSPENDED])),
        )
        .order_by("-month")[:COHORT_MONTHS]
    )
    cohorts = []
    for row in reversed(list(cohort_rows)):
        month = timezone.localtime(row["month"]) if timezone.is_aware(row["month"]) else row["month"]
        cohorts.append({
            "label": month.strftime("%Y-%m"), "captured": row["captured"], "qualified": row["qualified"],
            "won": row["won"], "lost": row["lost"], "qualified_rate": rate(row["qualified"], row["captured"]),
            "won_rate": rate(row["won"], row["qualified"]),
        })  # fmt: skip
    captured = sum(row["captured"] for row in cohorts)
    qualified = sum(row["qualified"] for row in cohorts)
    won = sum(row["won"] for row in cohorts)
    conversion = {
        "captured": captured, "qualified": qualified, "won": won,
        "qualified_rate": rate(qualified, captured), "won_rate": rate(won, qualified),
    }  # fmt: skip

    days = (
        StageChange.objects.filter(opportunity__in=rows.values("pk"), days_in_stage__isnull=False)
        .exclude(from_stage="")
        .order_by()
        .values("from_stage")
        .annotate(avg=Avg("days_in_stage"), moves=Count("pk"))
    )
    days_by_stage = {row["from_stage"]: row for row in days}
    stage_days = [
        {"stage": stage.value, "label": stage.label, "moves": days_by_stage[stage]["moves"],
         "avg": Decimal(days_by_stage[stage]["avg"]).quantize(Decimal("0.1"))}
        for stage in Stage if stage in days_by_stage
    ]  # fmt: skip

    reason_rows = (
        rows.filter(stage__in=CLOSED_STAGES, close_reason__isnull=False)
        .values("stage", "close_reason_id", "close_reason__name", "close_reason__name_en", "close_reason__sort_order")
        .annotate(count=Count("pk"), value=Sum("expected_value"))
    )
    reasons = sorted(
        (
            {"id": row["close_reason_id"], "result": row["stage"], "result_label": Stage(row["stage"]).label,
             "label": _label(row["close_reason__name"], row["close_reason__name_en"]), "count": row["count"],
             "value": _num(row["value"]), "order": row["close_reason__sort_order"],
             "drill": f"reason={row['close_reason_id']}&result={row['stage']}"}
            for row in reason_rows
        ),
        key=lambda row: (row["result"] != Stage.WON, -row["count"], row["order"]),
    )  # fmt: skip

    competitors = [
        {"name": row["competitor"], "count": row["count"], "value": _num(row["value"])}
        for row in rows.exclude(competitor="")
        .values("competitor")
        .annotate(count=Count("pk"), value=Sum("expected_value"))
        .order_by("-count", "competitor")[:TOP_COMPETITORS]
    ]

    return Pipeline(
        totals=totals, by_stage=by_stage, by_team=by_team, by_month=by_month, cohorts=cohorts,
        stage_days=stage_days, reasons=reasons, competitors=competitors, conversion=conversion,
    )  # fmt: skip


# --- the list behind a number --------------------------------------------------------------------------

DRILL_KEYS = ("stage", "open", "in_team", "close_month", "cohort", "outcome", "reason", "result", "competitor", "claim")


def _month(value: str) -> datetime.date | None:
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except (TypeError, ValueError):
        return None


def drill_rows(rows: QuerySet[Opportunity], params) -> tuple[QuerySet[Opportunity] | None, list[str]]:
    """The opportunities behind one number of the page (None when no drill parameter is given) and a
    description of the filters applied. Unknown values are ignored, never an error."""
    applied: list[str] = []
    if not any(params.get(key) for key in DRILL_KEYS):
        return None, applied
    stage = params.get("stage", "")
    if stage in Stage.values:
        rows = rows.filter(stage=stage)
        applied.append(_("stage: %(stage)s") % {"stage": Stage(stage).label})
    if params.get("open") or params.get("close_month") or params.get("in_team"):
        rows = rows.filter(stage__in=OPEN_STAGES)
        applied.append(_("open"))
    team = params.get("in_team", "")
    if team == NO_TEAM:
        rows = rows.alias(team_key=TEAM_ID).filter(team_key__isnull=True)
        applied.append(_("no team"))
    elif parse_id(team):
        rows = rows.alias(team_key=TEAM_ID).filter(team_key=parse_id(team))
        applied.append(_("one team"))
    close_month = params.get("close_month", "")
    if close_month == NO_DATE:
        rows = rows.filter(expected_close__isnull=True)
        applied.append(_("no expected close date"))
    elif month := _month(close_month):
        rows = rows.filter(expected_close__gte=month, expected_close__lt=next_month(month))
        applied.append(_("expected to close in %(month)s") % {"month": close_month})
    if month := _month(params.get("cohort", "")):
        rows = rows.filter(created_at__gte=month_start(month), created_at__lt=month_start(next_month(month)))
        applied.append(_("captured in %(month)s") % {"month": params["cohort"]})
    outcome = params.get("outcome", "")
    if outcome == "qualified":
        rows = rows.filter(qualified_at__isnull=False)
        applied.append(_("qualified"))
    elif outcome == "won":
        rows = rows.filter(stage=Stage.WON)
        applied.append(_("won"))
    result = params.get("result", "")
    if result in (Stage.WON, Stage.LOST, Stage.SUSPENDED):
        rows = rows.filter(stage=result)
        applied.append(Stage(result).label)
    reason = params.get("reason", "")
    if parse_id(reason):
        rows = rows.filter(close_reason_id=parse_id(reason))
        applied.append(_("one close reason"))
    competitor = (params.get("competitor") or "").strip()
    if competitor:
        rows = rows.filter(competitor=competitor)
        applied.append(_("competitor: %(name)s") % {"name": competitor})
    claim = params.get("claim", "")
    if claim == "on_time":
        rows = rows.filter(claimed_on_time=True)
        applied.append(_("claimed on time"))
    elif claim == "late":
        rows = rows.filter(claimed_on_time=False)
        applied.append(_("claimed late"))
    rows = rows.select_related("customer", "claimed_by", "assigned_to", "assigned_partner", "close_reason")
    return rows.order_by("-created_at", "-id"), applied
