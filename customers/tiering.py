"""The tier and value engine (issue 3; rules and defaults in DOMAIN.md §1.2).

Services (writes): evaluate_tiers, tier_evaluation_start, tier_override_create, tier_override_revoke,
tier_rules_update. Selectors (reads): tier_changes, tier_distribution, tier_moves_by_month,
customer_value_explanation.

The evaluation is set-based SQL: a temporary work table with one row per evaluated customer is filled and
updated by a fixed list of INSERT ... SELECT / UPDATE ... FROM (SELECT ... GROUP BY ...) / window-function
statements, so the number of statements does not grow with the number of customers. The same SQL runs on
PostgreSQL and SQLite (>= 3.33 for UPDATE ... FROM; window functions); the few spellings that differ
(JSON object, money formatting, date difference, null-safe comparison) come from `_Dialect`.

Rules as implemented:
- Customers evaluated: status active or at risk (prospects have no tier yet; churned and merged records keep
  what they had). Revenue = the customer's own billed spend (where the contract is signed), averaged over the
  `months_window` billed months ending at the period, months without spend counting as zero.
- The tier by the rules (`tier_computed`) is the best band whose floor the customer reaches: average monthly
  revenue >= min_revenue, or active members >= min_members with revenue >= alt_min_revenue; strategic-only
  bands (A2) apply only to customers on the strategic list (`is_strategic`).
- A publication moves the published `tier`: upgrades at once; a downgrade only once the customer has been
  below its band at `downgrade_after` consecutive publications (counted in `tier_below_count`, reset when at
  or above the band). Publishing the same period again does not count it twice. An override in force wins;
  an override that has expired hands back to the rules at the next publication (at once, up or down), with
  source `override_expired`. Evaluations that do not publish only refresh the computed values.
- Service tier = max(own tier, parent's published tier one rank lower), A1 > A2 > B1 > B2 > C > D.
- Value score 0-100 = sum of weight x factor score (0..1) / sum of weights (ValueFactor rows), lifetime
  value = average monthly revenue x 12 x margin x sum over t = 1..years of (retention^t / (1 + discount)^t),
  retention from the band of the tier by the rules.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from channels.models import Role, User
from customers import policy
from customers.models import (
    TIER_RANK,
    Customer,
    GroupMember,
    Industry,
    SpendCategory,
    SpendRecord,
    Tier,
    TierBand,
    TierChange,
    TierEvaluation,
    TierOverride,
    TierPolicy,
    ValueFactor,
)
from customers.selectors import month_starts
from kam.celery import enqueue_on_commit

WORK = "kam_tier_work"  # the evaluation's temporary work table (one per database session)
NO_RANK = 99  # rank of "no tier": below every band
LOWEST_RANK = max(TIER_RANK.values())
MOVES_KEPT = 5000  # moves kept on a dry run's record (its counts are complete)
EVALUATED_STATUSES = (Customer.Status.ACTIVE, Customer.Status.AT_RISK)
QUARTER_PUBLICATION_MONTHS = (1, 4, 7, 10)
FACTOR_CODES = [code for code, _label in ValueFactor.Code.choices]
NEUTRAL_PAYMENT = 0.5  # no arrears data yet: every customer scores the neutral middle on payment behaviour

Kind = TierEvaluation.Kind


# --- who may do what --------------------------------------------------------------------------------------


def may_change_tier_rules(user: User) -> bool:
    return user.is_admin_role


def may_start_evaluation(user: User, kind: str) -> bool:
    """Admins start anything; supervisors dry runs and evaluations, not publications (a publication moves
    the published tier of every customer, beyond their teams)."""
    if user.is_admin_role:
        return True
    return user.role == Role.SUPERVISOR and kind != Kind.PUBLICATION


def may_approve_override(user: User) -> bool:
    return user.is_admin_role or user.role == Role.SUPERVISOR


# --- rules ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    policy: TierPolicy
    bands: list[TierBand]  # best tier first
    weights: dict[str, int]  # factor code -> weight (factors without a row weigh 0)

    @property
    def total_weight(self) -> int:
        return sum(self.weights.values())


def load_rules(*, lock: bool = False) -> Rules:
    """The rule set. With lock=True the policy row is locked until the transaction ends: evaluations and rule
    changes run one at a time, and an evaluation sees one consistent version."""
    policies = TierPolicy.objects.order_by("pk")
    tier_policy = (policies.select_for_update() if lock else policies).first()
    if tier_policy is None:
        raise ValidationError(_("The tier rules are missing; run the migrations."))
    bands = sorted(TierBand.objects.all(), key=lambda band: TIER_RANK[band.tier])
    if not bands:
        raise ValidationError(_("No tier bands are defined."))
    weights = dict(ValueFactor.objects.values_list("code", "weight"))
    return Rules(policy=tier_policy, bands=bands, weights=weights)


def ltv_multiplier(*, retention: Decimal, policy: TierPolicy) -> Decimal:
    """12 x margin x sum over t = 1..years of retention^t / (1 + discount)^t: LTV per RMB of monthly revenue."""
    step = Decimal(retention) / (1 + Decimal(policy.ltv_discount_rate))
    return 12 * Decimal(policy.ltv_margin) * sum(step**t for t in range(1, policy.ltv_years + 1))


def latest_billed_month() -> date:
    """The latest month present in the spend facts (the previous calendar month when there are none)."""
    latest = SpendRecord.objects.aggregate(latest=Max("month"))["latest"]
    if latest is not None:
        return latest
    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


def scheduled_kind(*, today: date | None = None, tier_policy: TierPolicy | None = None) -> str:
    """What the monthly beat run does: publish every month, or only in January, April, July and October
    (the quarterly publications, each with the billed months up to the end of the previous quarter)."""
    today = today or timezone.localdate()
    tier_policy = tier_policy or TierPolicy.objects.order_by("pk").first()
    if tier_policy is None or tier_policy.publication == TierPolicy.Cadence.MONTHLY:
        return Kind.PUBLICATION
    return Kind.PUBLICATION if today.month in QUARTER_PUBLICATION_MONTHS else Kind.EVALUATION


# --- SQL helpers -----------------------------------------------------------------------------------------------


def _rank_sql(column: str) -> str:
    whens = " ".join(f"WHEN '{tier}' THEN {rank}" for tier, rank in TIER_RANK.items())
    return f"(CASE {column} {whens} ELSE {NO_RANK} END)"


def _tier_sql(rank_expression: str) -> str:
    whens = " ".join(f"WHEN {rank} THEN '{tier}'" for tier, rank in TIER_RANK.items())
    return f"(CASE {rank_expression} {whens} ELSE '' END)"


def _clamp01(expression: str) -> str:
    return f"(CASE WHEN ({expression}) < 0 THEN 0 WHEN ({expression}) > 1 THEN 1 ELSE ({expression}) END)"


class _Dialect:
    """The spellings PostgreSQL and SQLite do not share."""

    def __init__(self, vendor: str):
        self.postgres = vendor == "postgresql"
        self.json_type = "JSONB" if self.postgres else "TEXT"
        self.json_object = "jsonb_build_object" if self.postgres else "json_object"
        self.distinct = "IS DISTINCT FROM" if self.postgres else "IS NOT"  # null-safe "differs"

    def money(self, expression: str) -> str:
        """A whole-yuan amount with thousands separators, as text."""
        if self.postgres:
            return f"to_char({expression}, 'FM999,999,999,999,990')"
        return f"printf('%%,d', CAST(ROUND({expression}) AS INTEGER))"

    def days_since(self, day_param: str, column: str) -> str:
        if self.postgres:
            return f"(CAST({day_param} AS DATE) - {column})"
        return f"(julianday({day_param}) - julianday({column}))"


# --- the evaluation -------------------------------------------------------------------------------------------


class _StatementCounter:
    """Counts the SQL statements sent while installed (connection.execute_wrapper)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def tier_evaluation_start(*, kind: str, by: User, period: date | None = None) -> TierEvaluation:
    """Record an evaluation to run and enqueue it after commit (pages and the API start evaluations this
    way: evaluating 100,000 customers takes longer than a request should). The row's `finished_at` stays
    empty until the worker has run it."""
    from customers.tasks import evaluate_tiers_task

    if kind not in Kind.values:
        raise ValidationError({"kind": [_("Choose a dry run, an evaluation or a publication.")]})
    if not may_start_evaluation(by, kind):
        raise PermissionDenied(_("Your role may not start this kind of tier evaluation."))
    if period is not None and period.day != 1:
        raise ValidationError({"period": [_('Give the month as "YYYY-MM".')]})
    with transaction.atomic():
        evaluation = TierEvaluation.objects.create(
            period=period or latest_billed_month(),
            kind=kind,
            rule_version=load_rules().policy.version,
            started_by=by,
        )
        enqueue_on_commit(evaluate_tiers_task, kind, evaluation_id=evaluation.pk)
    return evaluation


def evaluate_tiers(
    *, period: date | None = None, kind: str, by: User | None = None, evaluation: TierEvaluation | None = None
) -> TierEvaluation:
    """Evaluate tiers and value for one billed month.

    - dry_run: computes the moves a publication would make and keeps them on the evaluation record;
      nothing else is written;
    - evaluation: refreshes the computed values (average revenue, tier by the rules, value score and its
      factors, lifetime value, service tier) without moving published tiers;
    - publication: also moves published tiers by the rules, writes a TierChange row per move and closes
      expired overrides.

    `evaluation` is a pending record made by tier_evaluation_start; otherwise one is created. Running the
    same period twice changes nothing the second time. Returns the finished evaluation record."""
    if kind not in Kind.values:
        raise ValidationError({"kind": [_("Choose a dry run, an evaluation or a publication.")]})
    counter = _StatementCounter()
    with connection.execute_wrapper(counter), transaction.atomic():
        rules = load_rules(lock=True)
        if evaluation is not None:
            # A pending record: another worker may have run it while this one waited for the lock.
            evaluation.refresh_from_db()
            if evaluation.finished_at is not None:
                return evaluation
        else:
            period = period or latest_billed_month()
            if period.day != 1:
                raise ValidationError({"period": [_('Give the month as "YYYY-MM".')]})
            evaluation = TierEvaluation.objects.create(
                period=period, kind=kind, rule_version=rules.policy.version, started_by=by
            )
        run = _Run(rules=rules, evaluation=evaluation, dialect=_Dialect(connection.vendor))
        run.execute()
        evaluation.rule_version = rules.policy.version
        evaluation.statements = counter.count + 1  # and the save below
        evaluation.finished_at = timezone.now()
        evaluation.save()
    return evaluation


class _Run:
    """One evaluation: a fixed sequence of set-based statements over the work table."""

    def __init__(self, *, rules: Rules, evaluation: TierEvaluation, dialect: _Dialect):
        self.rules = rules
        self.evaluation = evaluation
        self.kind = evaluation.kind
        self.sql = dialect
        self.period = evaluation.period
        window = rules.policy.months_window
        self.start = month_starts(window, until=self.period)[0]
        self.previous_start = month_starts(2 * window, until=self.period)[0]
        self.period_end = (self.period + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.moves_made = self.kind in (Kind.DRY_RUN, Kind.PUBLICATION)

    # Parameters: dates and datetimes adapted the way each backend stores them.
    def _date(self, value: date) -> object:
        return connection.ops.adapt_datefield_value(value)

    def _run(self, cursor, statement: str, params: dict | None = None) -> None:
        cursor.execute(statement, params or {})

    def execute(self) -> None:
        with connection.cursor() as cursor:
            self._create_work_table(cursor)
            self._fill(cursor)
            self._compute_tiers(cursor)
            self._compute_value(cursor)
            if self.moves_made:
                self._decide_moves(cursor)
            self._record_counts(cursor)
            if self.kind == Kind.DRY_RUN:
                self._keep_moves(cursor)
            else:
                if self.kind == Kind.PUBLICATION:
                    self._write_tier_changes(cursor)
                self._write_customers(cursor)
                refresh_service_tiers(cursor=cursor)
                if self.kind == Kind.PUBLICATION:
                    self._close_expired_overrides(cursor)
            self._run(cursor, f"DROP TABLE {WORK}")

    def _create_work_table(self, cursor) -> None:
        self._run(cursor, f"DROP TABLE IF EXISTS {WORK}")
        self._run(
            cursor,
            f"""CREATE TEMPORARY TABLE {WORK} (
                customer_id BIGINT PRIMARY KEY,
                is_strategic BOOLEAN NOT NULL,
                tier_now VARCHAR(2) NOT NULL,
                rank_now INTEGER NOT NULL,
                below_count INTEGER NOT NULL,
                importance INTEGER,
                tenure_years DOUBLE PRECISION NOT NULL,
                override_tier VARCHAR(2),
                override_until DATE,
                override_state VARCHAR(8),
                revenue NUMERIC(16, 2) NOT NULL DEFAULT 0,
                previous_revenue NUMERIC(16, 2) NOT NULL DEFAULT 0,
                categories INTEGER NOT NULL DEFAULT 0,
                members INTEGER NOT NULL DEFAULT 0,
                revenue_rank DOUBLE PRECISION NOT NULL DEFAULT 0,
                members_rank DOUBLE PRECISION NOT NULL DEFAULT 0,
                computed VARCHAR(2) NOT NULL DEFAULT '',
                rank_computed INTEGER,
                basis VARCHAR(10),
                {", ".join(f"p_{code} DOUBLE PRECISION NOT NULL DEFAULT 0" for code in FACTOR_CODES)},
                value_score INTEGER,
                factors {self.sql.json_type},
                ltv NUMERIC(16, 2),
                rank_target INTEGER,
                target VARCHAR(2),
                new_below INTEGER,
                source VARCHAR(20),
                reason VARCHAR(300)
            )""",
        )

    def _fill(self, cursor) -> None:
        """The evaluated customers with their current state, then their spend and members (one grouped
        statement each), then percentile ranks among them (window functions)."""
        customer = Customer._meta.db_table
        self._run(
            cursor,
            f"""INSERT INTO {WORK} (customer_id, is_strategic, tier_now, rank_now, below_count, importance,
                                    tenure_years, override_tier, override_until, override_state)
            SELECT c.id, c.is_strategic, c.tier, {_rank_sql("c.tier")}, c.tier_below_count, i.importance,
                   CASE WHEN c.relationship_since IS NULL THEN 0
                        ELSE {self.sql.days_since("%(period_end)s", "c.relationship_since")} / 365.25 END,
                   o.tier, o.expires_on,
                   CASE WHEN o.id IS NULL THEN NULL
                        WHEN o.expires_on <= %(today)s THEN 'expired'
                        WHEN o.starts_on <= %(today)s THEN 'active' END
            FROM {customer} c
            LEFT JOIN {Industry._meta.db_table} i ON i.code = c.industry_id
            LEFT JOIN {TierOverride._meta.db_table} o ON o.customer_id = c.id AND o.revoked_at IS NULL
            WHERE c.status IN (%(active)s, %(at_risk)s)""",
            {"period_end": self._date(self.period_end), "today": self._date(self.today),
             "active": EVALUATED_STATUSES[0], "at_risk": EVALUATED_STATUSES[1]},
        )  # fmt: skip
        # One pass over both windows: this window's average, the previous window's, and the categories billed.
        self._run(
            cursor,
            f"""UPDATE {WORK} SET revenue = s.revenue, previous_revenue = s.previous_revenue, categories = s.categories
            FROM (
                SELECT customer_id,
                       ROUND(COALESCE(SUM(CASE WHEN month >= %(start)s THEN amount END), 0) * 1.0 / %(n)s, 2)
                           AS revenue,
                       ROUND(COALESCE(SUM(CASE WHEN month < %(start)s THEN amount END), 0) * 1.0 / %(n)s, 2)
                           AS previous_revenue,
                       COUNT(DISTINCT CASE WHEN month >= %(start)s AND amount > 0 THEN category END) AS categories
                FROM {SpendRecord._meta.db_table}
                WHERE month >= %(previous_start)s AND month <= %(period)s
                GROUP BY customer_id
            ) s
            WHERE {WORK}.customer_id = s.customer_id""",
            {"start": self._date(self.start), "previous_start": self._date(self.previous_start),
             "period": self._date(self.period), "n": self.rules.policy.months_window},
        )  # fmt: skip
        # Members active at the end of the period (joined by then, not left by then): re-evaluating a past
        # month gives the same answer.
        self._run(
            cursor,
            f"""UPDATE {WORK} SET members = m.n
            FROM (
                SELECT customer_id, COUNT(*) AS n FROM {GroupMember._meta.db_table}
                WHERE joined_on <= %(end)s AND (left_on IS NULL OR left_on > %(end)s)
                GROUP BY customer_id
            ) m
            WHERE {WORK}.customer_id = m.customer_id""",
            {"end": self._date(self.period_end)},
        )
        if self.sql.postgres:
            self._run(cursor, f"ANALYZE {WORK}")  # temporary tables get no statistics otherwise
        self._run(
            cursor,
            f"""UPDATE {WORK} SET revenue_rank = r.revenue_rank, members_rank = r.members_rank
            FROM (
                SELECT customer_id,
                       PERCENT_RANK() OVER (ORDER BY revenue) AS revenue_rank,
                       PERCENT_RANK() OVER (ORDER BY members) AS members_rank
                FROM {WORK}
            ) r
            WHERE {WORK}.customer_id = r.customer_id""",
        )

    def _compute_tiers(self, cursor) -> None:
        """The tier by the rules: the best band whose floor is reached, and on which basis."""
        tier_whens, basis_whens, params = [], [], {}
        for index, band in enumerate(self.rules.bands):
            params[f"min{index}"] = float(band.min_revenue)
            condition = f"revenue >= %(min{index})s"
            if band.min_members is not None and band.alt_min_revenue is not None:
                params[f"members{index}"] = band.min_members
                params[f"alt{index}"] = float(band.alt_min_revenue)
                condition = f"({condition} OR (members >= %(members{index})s AND revenue >= %(alt{index})s))"
                basis_whens.append(f"WHEN computed = '{band.tier}' AND revenue < %(min{index})s THEN 'members'")
            if band.strategic_only:
                condition = f"is_strategic AND {condition}"
                basis_whens.append(f"WHEN computed = '{band.tier}' THEN 'strategic'")
            tier_whens.append(f"WHEN {condition} THEN '{band.tier}'")
        lowest = self.rules.bands[-1].tier
        self._run(cursor, f"UPDATE {WORK} SET computed = CASE {' '.join(tier_whens)} ELSE '{lowest}' END", params)
        basis = f"CASE {' '.join(basis_whens)} ELSE 'revenue' END" if basis_whens else "'revenue'"
        self._run(cursor, f"UPDATE {WORK} SET rank_computed = {_rank_sql('computed')}, basis = {basis}", params)

    def _compute_value(self, cursor) -> None:
        """Factor points (weight x score / total weight x 100), the score, and the lifetime value."""
        total = self.rules.total_weight
        scores = {
            "revenue": "revenue_rank",
            "members": "members_rank",
            "breadth": f"categories * 1.0 / {len(SpendCategory.values)}",
            # ratio of this window to the previous one: 0.5 or less -> 0, 1.0 -> 0.5, 1.5 or more -> 1;
            # nothing billed before: 1 when billed now (new business), neutral 0.5 when nothing at all
            "growth": _clamp01(
                "CASE WHEN previous_revenue > 0 THEN revenue * 1.0 / previous_revenue - 0.5 "
                "WHEN revenue > 0 THEN 1 ELSE 0.5 END"
            ),
            "industry": "COALESCE(importance, 50) / 100.0",
            "tenure": _clamp01("tenure_years / 10.0"),
            "payment": f"{NEUTRAL_PAYMENT}",
        }
        params = {f"k_{code}": (100.0 * self.rules.weights.get(code, 0) / total) if total else 0.0 for code in scores}
        assignments = ", ".join(f"p_{code} = %(k_{code})s * ({expression})" for code, expression in scores.items())
        self._run(cursor, f"UPDATE {WORK} SET {assignments}", params)

        points_total = " + ".join(f"p_{code}" for code in FACTOR_CODES)
        pairs = ", ".join(f"'{code}', ROUND(CAST(p_{code} AS NUMERIC), 1)" for code in FACTOR_CODES)
        ltv_whens, ltv_params = [], {}
        for index, band in enumerate(self.rules.bands):
            ltv_params[f"ltv{index}"] = float(ltv_multiplier(retention=band.annual_retention, policy=self.rules.policy))
            ltv_whens.append(f"WHEN '{band.tier}' THEN %(ltv{index})s")
        score = f"CAST(ROUND(CAST({points_total} AS NUMERIC)) AS INTEGER)" if total else "NULL"
        self._run(
            cursor,
            f"""UPDATE {WORK} SET value_score = {score},
                                  factors = {self.sql.json_object}({pairs}),
                                  ltv = ROUND(CAST(revenue * (CASE computed {" ".join(ltv_whens)} ELSE 0 END)
                                              AS NUMERIC), 2)""",
            ltv_params,
        )

    def _decide_moves(self, cursor) -> None:
        """Where each published tier goes at this publication, and why (in the site's language)."""
        # Publishing a period again must not count the same period twice towards a downgrade.
        republished = (
            TierEvaluation.objects.filter(kind=Kind.PUBLICATION, period=self.period, finished_at__isnull=False)
            .exclude(pk=self.evaluation.pk)
            .exists()
        )
        policy_ = self.rules.policy
        self._run(
            cursor,
            f"""UPDATE {WORK} SET
                rank_target = CASE
                    WHEN override_state = 'active' THEN {_rank_sql("override_tier")}
                    WHEN override_state = 'expired' THEN rank_computed
                    WHEN rank_computed <= rank_now THEN rank_computed
                    WHEN below_count + %(step)s >= %(after)s THEN rank_computed
                    ELSE rank_now END,
                new_below = CASE
                    WHEN override_state IS NOT NULL OR rank_computed <= rank_now
                         OR below_count + %(step)s >= %(after)s THEN 0
                    ELSE below_count + %(step)s END,
                source = CASE override_state WHEN 'active' THEN %(override)s
                                             WHEN 'expired' THEN %(expired)s ELSE %(evaluation)s END""",
            {"step": 0 if republished else 1, "after": policy_.downgrade_after,
             "override": TierChange.Source.OVERRIDE, "expired": TierChange.Source.OVERRIDE_EXPIRED,
             "evaluation": TierChange.Source.EVALUATION},
        )  # fmt: skip
        with translation.override(settings.LANGUAGE_CODE):
            texts = _reason_templates(months=policy_.months_window, after=policy_.downgrade_after)
        reason = (
            "CASE WHEN source = %(override)s THEN %(r_override)s "
            "WHEN source = %(expired)s THEN %(r_expired)s "
            "WHEN rank_target > rank_now THEN %(r_down)s "
            "WHEN basis = 'members' THEN %(r_members)s "
            "WHEN basis = 'strategic' THEN %(r_strategic)s "
            "ELSE %(r_revenue)s END"
        )
        for placeholder, value in (
            ("{revenue}", self.sql.money("revenue")),
            ("{members}", "CAST(members AS VARCHAR(12))"),
            ("{tier}", _tier_sql("rank_target")),
            ("{from}", "tier_now"),
            ("{date}", "COALESCE(CAST(override_until AS VARCHAR(10)), '')"),
        ):
            reason = f"REPLACE({reason}, '{placeholder}', {value})"
        self._run(
            cursor,
            f"""UPDATE {WORK} SET target = {_tier_sql("rank_target")}, reason = SUBSTR({reason}, 1, 300)
            WHERE rank_target <> rank_now""",
            {"override": TierChange.Source.OVERRIDE, "expired": TierChange.Source.OVERRIDE_EXPIRED, **texts},
        )

    def _record_counts(self, cursor) -> None:
        if self.moves_made:
            cursor.execute(
                f"""SELECT COUNT(*), COALESCE(SUM(CASE WHEN rank_target < rank_now THEN 1 ELSE 0 END), 0),
                           COALESCE(SUM(CASE WHEN rank_target > rank_now THEN 1 ELSE 0 END), 0) FROM {WORK}"""
            )
            customers, upgrades, downgrades = cursor.fetchone()
        else:
            cursor.execute(f"SELECT COUNT(*) FROM {WORK}")
            customers, upgrades, downgrades = cursor.fetchone()[0], 0, 0
        self.evaluation.customers = customers
        self.evaluation.upgrades, self.evaluation.downgrades = upgrades, downgrades

    def _keep_moves(self, cursor) -> None:
        cursor.execute(
            f"""SELECT w.customer_id, c.name, w.tier_now, w.target, w.source, w.reason
            FROM {WORK} w JOIN {Customer._meta.db_table} c ON c.id = w.customer_id
            WHERE w.rank_target <> w.rank_now
            ORDER BY w.rank_target - w.rank_now, w.revenue DESC, w.customer_id
            LIMIT {MOVES_KEPT}"""
        )
        self.evaluation.moves = [
            {"customer": pk, "name": name, "from": old, "to": new, "is_upgrade": TIER_RANK.get(new, NO_RANK)
             < TIER_RANK.get(old, NO_RANK), "source": source, "reason": reason}
            for pk, name, old, new, source, reason in cursor.fetchall()
        ]  # fmt: skip

    def _write_tier_changes(self, cursor) -> None:
        self._run(
            cursor,
            f"""INSERT INTO {TierChange._meta.db_table}
                (customer_id, from_tier, to_tier, is_upgrade, source, reason, changed_at, rule_version, evaluation_id)
            SELECT customer_id, tier_now, target, rank_target < rank_now, source, reason, %(now)s, %(version)s,
                   %(evaluation)s
            FROM {WORK} WHERE rank_target <> rank_now""",
            {"now": connection.ops.adapt_datetimefield_value(self.now), "version": self.rules.policy.version,
             "evaluation": self.evaluation.pk},
        )  # fmt: skip

    def _write_customers(self, cursor) -> None:
        """One UPDATE of the customers whose values differ (a second run of the same period writes nothing)."""
        customer = Customer._meta.db_table
        columns = {
            "avg_monthly_revenue": "w.revenue",
            "tier_computed": "w.computed",
            "value_score": "w.value_score",
            "value_factors": "w.factors",
            "lifetime_value": "w.ltv",
        }
        if self.kind == Kind.PUBLICATION:
            moved = "w.rank_target <> w.rank_now"
            columns.update({
                "tier_below_count": "w.new_below",
                "tier": f"CASE WHEN {moved} THEN w.target ELSE {customer}.tier END",
                "tier_changed_at": f"CASE WHEN {moved} THEN %(now)s ELSE {customer}.tier_changed_at END",
                "tier_reason": f"CASE WHEN {moved} THEN w.reason ELSE {customer}.tier_reason END",
                "updated_at": f"CASE WHEN {moved} THEN %(now)s ELSE {customer}.updated_at END",
            })  # fmt: skip
        differs = " OR ".join(
            f"{customer}.{column} {self.sql.distinct} {expression}"
            for column, expression in columns.items()
            if column not in ("tier_changed_at", "tier_reason", "updated_at")
        )
        self._run(
            cursor,
            f"""UPDATE {customer} SET {", ".join(f"{column} = {value}" for column, value in columns.items())}
            FROM {WORK} w
            WHERE {customer}.id = w.customer_id AND ({differs})""",
            {"now": connection.ops.adapt_datetimefield_value(self.now)},
        )

    def _close_expired_overrides(self, cursor) -> None:
        """An expired override has handed back to the rules: close it so the next override can be opened."""
        self._run(
            cursor,
            f"""UPDATE {TierOverride._meta.db_table} SET revoked_at = %(now)s
            WHERE revoked_at IS NULL AND expires_on <= %(today)s
              AND customer_id IN (SELECT customer_id FROM {WORK})""",
            {"now": connection.ops.adapt_datetimefield_value(self.now), "today": self._date(self.today)},
        )


def _reason_templates(*, months: int, after: int) -> dict[str, str]:
    """The words of a tier move, with {revenue}, {members}, {tier}, {from} and {date} filled in by SQL."""
    fields = {"revenue": "{revenue}", "members": "{members}", "tier": "{tier}", "from": "{from}", "date": "{date}",
              "months": months, "count": after}  # fmt: skip
    return {
        "r_revenue": _(
            "Average monthly revenue ¥%(revenue)s over the last %(months)d billed months meets the %(tier)s band"
        )
        % fields,
        "r_members": _(
            "%(members)s active members and average monthly revenue ¥%(revenue)s over the last %(months)d billed "
            "months meet the %(tier)s band"
        )
        % fields,
        "r_strategic": _(
            "On the strategic list, with average monthly revenue ¥%(revenue)s over the last %(months)d billed months "
            "at or above the %(tier)s floor"
        )
        % fields,
        "r_down": _(
            "Below the %(from)s band at %(count)d publications in a row: average monthly revenue ¥%(revenue)s over "
            "the last %(months)d billed months meets the %(tier)s band"
        )
        % fields,
        "r_expired": _(
            "The manual override expired; by the rules, average monthly revenue ¥%(revenue)s over the last "
            "%(months)d billed months gives %(tier)s"
        )
        % fields,
        "r_override": _("Manual override in force until %(date)s") % fields,
    }


def refresh_service_tiers(*, cursor=None, customer_ids: list[int] | None = None) -> None:
    """service_tier = the better of the customer's own tier and its parent's tier one rank lower, for the
    given customers and their children (all live customers when None). One UPDATE."""
    customer = Customer._meta.db_table
    own, parent = _rank_sql("c.tier"), _rank_sql("p.tier")
    inherited = f"(CASE WHEN {parent} >= {LOWEST_RANK} THEN {parent} ELSE {parent} + 1 END)"
    scope, params = "c.status <> %(merged)s", {"merged": Customer.Status.MERGED}
    if customer_ids is not None:
        marks = ", ".join(f"%(id{i})s" for i in range(len(customer_ids)))
        scope += f" AND (c.id IN ({marks}) OR c.parent_id IN ({marks}))"
        params.update({f"id{i}": pk for i, pk in enumerate(customer_ids)})
    statement = f"""UPDATE {customer} SET service_tier = s.service
        FROM (
            SELECT c.id, CASE WHEN {own} <= {inherited} THEN c.tier ELSE {_tier_sql(inherited)} END AS service
            FROM {customer} c LEFT JOIN {customer} p ON p.id = c.parent_id
            WHERE {scope}
        ) s
        WHERE {customer}.id = s.id AND {customer}.service_tier <> s.service"""
    if cursor is not None:
        cursor.execute(statement, params)
        return
    with connection.cursor() as own_cursor:
        own_cursor.execute(statement, params)


# --- overrides and rules ------------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last_day = ((date(year, month, 1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def _move_tier(customer: Customer, *, to_tier: str, source: str, reason: str) -> TierChange | None:
    """Set the published tier of one locked customer, with its TierChange row when it moves."""
    now = timezone.now()
    change = None
    if customer.tier != to_tier:
        change = TierChange.objects.create(
            customer=customer, from_tier=customer.tier, to_tier=to_tier,
            is_upgrade=TIER_RANK.get(to_tier, NO_RANK) < TIER_RANK.get(customer.tier, NO_RANK),
            source=source, reason=reason[:300], changed_at=now,
            rule_version=TierPolicy.objects.order_by("pk").values_list("version", flat=True).first(),
        )  # fmt: skip
        Customer.objects.filter(pk=customer.pk).update(
            tier=to_tier, tier_changed_at=now, tier_reason=reason[:300], tier_below_count=0, updated_at=now
        )
        customer.tier, customer.tier_changed_at, customer.tier_reason = to_tier, now, reason[:300]
    else:
        Customer.objects.filter(pk=customer.pk).update(tier_reason=reason[:300], tier_below_count=0)
        customer.tier_reason = reason[:300]
    refresh_service_tiers(customer_ids=[customer.pk])
    return change


def tier_override_create(
    *, customer: Customer, tier: str, reason: str, requested_by: User, approved_by: User,
    expires_on: date | None = None,
) -> TierOverride:  # fmt: skip
    """A manual tier with reason, approver and expiry (default: today + the policy's override months). It
    replaces the customer's open override and applies at once (source `override`)."""
    errors: dict[str, list[str]] = {}
    if tier not in Tier.values:
        errors["tier"] = [_("Choose a tier.")]
    reason = " ".join((reason or "").split())
    if not reason:
        errors["reason"] = [_("Say why the tier is overridden.")]
    if not may_approve_override(approved_by):
        errors["approved_by"] = [_("The approver must be a supervisor or an administrator.")]
    elif approved_by.pk == requested_by.pk and not approved_by.is_admin_role:
        errors["approved_by"] = [_("Someone other than the requester must approve the override.")]
    today = timezone.localdate()
    if expires_on is None:
        expires_on = _add_months(today, TierPolicy.objects.order_by("pk").values_list("override_months", flat=True)
                                 .first() or 12)  # fmt: skip
    elif expires_on <= today:
        errors["expires_on"] = [_("The expiry date must be after today.")]
    if errors:
        raise ValidationError(errors)
    if not Customer.objects.editable_by(requested_by).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("You may not change this customer."))
    if not Customer.objects.visible_to(approved_by).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("The approver does not look after this customer."))
    if customer.status == Customer.Status.MERGED:
        raise ValidationError(_("This record has been merged into another customer and can no longer change."))
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        now = timezone.now()
        TierOverride.objects.filter(customer=customer, revoked_at__isnull=True).update(revoked_at=now)
        override = TierOverride.objects.create(
            customer=customer, tier=tier, reason=reason, requested_by=requested_by, approved_by=approved_by,
            starts_on=today, expires_on=expires_on,
        )  # fmt: skip
        with translation.override(settings.LANGUAGE_CODE):  # stored words are in the site's language
            why = _("Manual override until %(date)s, approved by %(approver)s: %(reason)s") % {
                "date": expires_on.isoformat(), "approver": approved_by, "reason": reason,
            }  # fmt: skip
        _move_tier(customer, to_tier=tier, source=TierChange.Source.OVERRIDE, reason=why)
    return override


def tier_override_revoke(*, override: TierOverride, by: User) -> TierOverride:
    """End an override now: the tier goes back to what the rules computed at the latest evaluation (when there
    is one; otherwise the next publication decides)."""
    if not may_approve_override(by) or not Customer.objects.visible_to(by).filter(pk=override.customer_id).exists():
        raise PermissionDenied(_("Only a supervisor or an administrator may revoke a tier override."))
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=override.customer_id)
        if not TierOverride.objects.filter(pk=override.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            raise ValidationError(_("This override has already ended."))
        override.refresh_from_db()
        if customer.tier_computed:
            with translation.override(settings.LANGUAGE_CODE):
                why = _("Manual override revoked by %(user)s; the rules give %(tier)s") % {
                    "user": by, "tier": customer.tier_computed,
                }  # fmt: skip
            _move_tier(customer, to_tier=customer.tier_computed, source=TierChange.Source.OVERRIDE_EXPIRED, reason=why)
    return override


POLICY_FIELDS = ("months_window", "publication", "downgrade_after", "override_months", "ltv_margin",
                 "ltv_discount_rate", "ltv_years")  # fmt: skip
BAND_FIELDS = ("min_revenue", "min_members", "alt_min_revenue", "strategic_only", "annual_retention")


def tier_rules_update(*, by: User, reason: str = "", bands: dict[str, dict] | None = None, **fields) -> TierPolicy:
    """Change the tier rules (admins): policy fields and/or bands ({tier: {field: value}}). Every change bumps
    the rule version; policy and bands keep their history. The next evaluation applies the new rules."""
    if not may_change_tier_rules(by):
        raise PermissionDenied(_("Only an administrator may change the tier rules."))
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    bands = bands or {}
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        rules = load_rules(lock=True)
        tier_policy = rules.policy
        for field, value in fields.items():
            setattr(tier_policy, field, value)
        by_tier = {band.tier: band for band in rules.bands}
        for tier, changes in bands.items():
            band = by_tier.get(tier)
            if band is None:
                errors.setdefault("bands", []).append(_("There is no band for tier %(tier)s.") % {"tier": tier})
                continue
            for field, value in changes.items():
                if field not in BAND_FIELDS:
                    raise ValueError(f"not writable: {field}")
                setattr(band, field, value)
        errors.update(rules_problems(tier_policy, rules.bands))
        if errors:
            raise ValidationError(errors)
        tier_policy.version += 1
        tier_policy._history_user, tier_policy._change_reason = by, reason
        tier_policy.save()
        for tier in bands:
            band = by_tier[tier]
            band._history_user, band._change_reason = by, reason
            band.save()
    return tier_policy


def rules_problems(tier_policy: TierPolicy, bands: list[TierBand]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not 1 <= tier_policy.months_window <= 24:
        problems["months_window"] = [_("Average over 1 to 24 billed months.")]
    if tier_policy.downgrade_after < 1:
        problems["downgrade_after"] = [_("At least one publication below the band.")]
    if tier_policy.publication not in TierPolicy.Cadence.values:
        problems["publication"] = [_("Choose monthly or quarterly publication.")]
    if not 0 < Decimal(tier_policy.ltv_margin) <= 1:
        problems["ltv_margin"] = [_("The margin is a fraction between 0 and 1.")]
    if not 0 <= Decimal(tier_policy.ltv_discount_rate) < 1:
        problems["ltv_discount_rate"] = [_("The discount rate is a fraction between 0 and 1.")]
    if not 1 <= tier_policy.ltv_years <= 30:
        problems["ltv_years"] = [_("The LTV horizon is 1 to 30 years.")]
    floors = [band for band in bands if not band.strategic_only]
    for band in bands:
        if Decimal(band.min_revenue) < 0:
            problems.setdefault("bands", []).append(_("%(tier)s: the floor cannot be negative.") % {"tier": band.tier})
        if (band.min_members is None) != (band.alt_min_revenue is None):
            problems.setdefault("bands", []).append(
                _("%(tier)s: give both the members and the revenue of the alternative, or neither.")
                % {"tier": band.tier}
            )
        if not 0 < Decimal(band.annual_retention) <= 1:
            problems.setdefault("bands", []).append(
                _("%(tier)s: the retention is a fraction between 0 and 1.") % {"tier": band.tier}
            )
    for higher, lower in zip(floors, floors[1:], strict=False):
        if Decimal(higher.min_revenue) < Decimal(lower.min_revenue):
            problems.setdefault("bands", []).append(
                _("The %(higher)s floor must not be below the %(lower)s floor.")
                % {"higher": higher.tier, "lower": lower.tier}
            )
    return problems


# --- selectors ------------------------------------------------------------------------------------------------


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
