"""The tier and value engine (issue 3; rules and defaults in DOMAIN.md §1.2): the rule set (`Rules`,
`load_rules`, `ltv_multiplier`, `latest_billed_month`, `scheduled_kind`) and the evaluation itself
(`evaluate_tiers`, `refresh_service_tiers`). Who may start a run is customers.policy; starting one from a page
or the API, overrides and rule changes are customers.tiering.services; the reads are customers.tiering.selectors.

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

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from channels.models import User
from customers.models import (
    TIER_RANK,
    Customer,
    GroupMember,
    Industry,
    SpendCategory,
    SpendRecord,
    TierBand,
    TierChange,
    TierEvaluation,
    TierOverride,
    TierPolicy,
    ValueFactor,
)
from customers.selectors import month_starts

WORK = "kam_tier_work"  # the evaluation's temporary work table (one per database session)
NO_RANK = 99  # rank of "no tier": below every band
LOWEST_RANK = max(TIER_RANK.values())
MOVES_KEPT = 5000  # moves kept on a dry run's record (its counts are complete)
EVALUATED_STATUSES = (Customer.Status.ACTIVE, Customer.Status.AT_RISK)
QUARTER_PUBLICATION_MONTHS = (1, 4, 7, 10)
FACTOR_CODES = [code for code, _label in ValueFactor.Code.choices]
NEUTRAL_PAYMENT = 0.5  # no arrears data yet: every customer scores the neutral middle on payment behaviour

Kind = TierEvaluation.Kind


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


def checked_period(period: date | None) -> date:
    """The billed month to evaluate: `period` (the first day of a month, not in the future), or the latest
    billed month when none is given."""
    if period is None:
        return latest_billed_month()
    if period.day != 1:
        raise ValidationError({"period": [_('Give the month as "YYYY-MM".')]})
    if period > timezone.localdate():
        raise ValidationError({"period": [_("%(month)s is in the future: nothing is billed for it yet.")
                                          % {"month": f"{period:%Y-%m}"}]})  # fmt: skip
    return period


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
            period = checked_period(period)
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
