"""The tier and value engine (issue 3; rules and defaults in DOMAIN.md §1.2): the rule set (`Rules`,
`load_rules`, `ltv_multiplier`, `latest_billed_month`, `scheduled_kind`) and the evaluation itself
(`evaluate_tiers`, `refresh_service_tiers`). Who may start a run is customers.policy; starting one from a page
or the API, overrides and rule changes are customers.tiering.services; the reads are customers.tiering.selectors.

The evaluation is set-based SQL with a fixed list of statements, whatever the number of customers
(`_Run.execute`): one INSERT ... SELECT computes a temporary work table with one row per live customer (spend
and members grouped once, percentile ranks by window functions, tiers, value, moves and reasons as derived
tables over each other), then one UPDATE writes the customers whose values differ, the service tier included.
The work table is written once and each customer row at most once, in key order; a run over unchanged data
writes no customer row (`TierEvaluation.customers_written`). The cost is linear in the customers, spend rows
and members, except that writing a row costs more once the customers table and its indexes no longer fit
in the database's cache (bench/bench_tiering.py measures it). The same SQL runs on PostgreSQL and SQLite
(>= 3.33 for UPDATE ... FROM; window functions); the few spellings that differ (JSON object, money
formatting, date difference, null-safe comparison, a derived table the planner must not merge) come from
`_Dialect`.

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
WORK_MEM = "128MB"  # PostgreSQL: memory for the sorts and hashes over every customer, spend row and member
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
        # Ends a derived table the planner must not merge into the query above it: merged, each use of one of its
        # columns would compute the whole expression again (OFFSET stops it in both; SQLite needs a LIMIT first).
        self.fence = "OFFSET 0" if self.postgres else "LIMIT -1 OFFSET 0"

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
    """One evaluation: a fixed sequence of set-based statements (see `execute`)."""

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
        self.params: dict[str, object] = {}  # the parameters of the work table's statement, filled as it is built

    # Parameters: dates and datetimes adapted the way each backend stores them.
    def _date(self, value: date) -> object:
        return connection.ops.adapt_datefield_value(value)

    def _param(self, name: str, value: object) -> str:
        self.params[name] = value
        return f"%({name})s"

    def _run(self, cursor, statement: str, params: dict | None = None) -> None:
        cursor.execute(statement, params or {})

    def execute(self) -> None:
        """Every step reads or writes whole sets, so the statements are the same at any number of customers:

        1. one INSERT ... SELECT computes the work table: per live customer the spend and members (grouped
           once each), percentile ranks (window functions), the tier by the rules, the value score and
           lifetime value, and the move a publication makes with its reason — each step a derived table
           over the previous one, so the work table is written once and never updated;
        2. ANALYZE of the work table's keys (PostgreSQL: temporary tables get no statistics otherwise);
        3. one UPDATE of the customers whose values differ (the service tier included): a re-run over
           unchanged data writes no row;
        4. the tier moves (TierChange rows) and the expired overrides, from the work table."""
        with connection.cursor() as cursor:
            if self.sql.postgres:
                # The sorts and hashes over every customer, spend row and member stay in memory (until the
                # transaction ends; a few of them at once at most).
                self._run(cursor, f"SET LOCAL work_mem = '{WORK_MEM}'")
            self._create_work_table(cursor)
            self._fill(cursor)
            if self.sql.postgres:
                self._run(cursor, f"ANALYZE {WORK} (customer_id, parent_id)")  # the join keys of the UPDATE
            self._record_counts(cursor)
            if self.kind == Kind.DRY_RUN:
                self._keep_moves(cursor)
            else:
                if self.kind == Kind.PUBLICATION:
                    self._write_tier_changes(cursor)
                self.evaluation.customers_written = self._write_customers(cursor)
                if self.kind == Kind.PUBLICATION:
                    self._close_expired_overrides(cursor)
            self._run(cursor, f"DROP TABLE {WORK}")
            if self.sql.postgres:
                self._run(cursor, "SET LOCAL work_mem TO DEFAULT")

    def _create_work_table(self, cursor) -> None:
        self._run(cursor, f"DROP TABLE IF EXISTS {WORK}")
        self._run(
            cursor,
            f"""CREATE TEMPORARY TABLE {WORK} (
                customer_id BIGINT PRIMARY KEY,
                parent_id BIGINT,
                parent_tier VARCHAR(2),
                evaluated INTEGER NOT NULL,
                tier_now VARCHAR(2) NOT NULL,
                rank_now INTEGER NOT NULL,
                revenue NUMERIC(16, 2),
                computed VARCHAR(2) NOT NULL,
                value_score INTEGER,
                factors {self.sql.json_type},
                ltv NUMERIC(16, 2),
                new_below INTEGER NOT NULL,
                rank_target INTEGER,
                target VARCHAR(2),
                source VARCHAR(20),
                reason VARCHAR(300),
                tier_new VARCHAR(2) NOT NULL
            )""",
        )

    def _fill(self, cursor) -> None:
        """The work table in one statement: every live customer (its parent's tier included, for the service
        tier); the evaluated ones (`evaluated` = 1) get the values of this run, the others keep theirs."""
        self.params = {}
        steps = [
            ("base", self._base()),
            ("ranked", self._ranked()),
            ("tiered", self._tiered()),
            ("scored", self._scored()),
            ("valued", self._valued()),
        ]
        ctes = ",\n".join(f"{name} AS ({body} {self.sql.fence})" for name, body in steps)
        kept = "CASE WHEN evaluated = 1 THEN {new} ELSE {old} END"
        moved = "rank_target <> rank_now"
        if self.moves_made:
            reason = f"CASE WHEN {moved} THEN SUBSTR({self._reason()}, 1, 300) END"
            target = f"CASE WHEN {moved} THEN {_tier_sql('rank_target')} END"
        else:
            reason = target = "NULL"
        tier_new = f"CASE WHEN {moved} THEN {_tier_sql('rank_target')} ELSE tier_now END"
        self._run(
            cursor,
            f"""WITH {ctes}
            INSERT INTO {WORK} (customer_id, parent_id, parent_tier, evaluated, tier_now, rank_now, revenue, computed,
                                value_score, factors, ltv, new_below, rank_target, target, source, reason, tier_new)
            SELECT customer_id, parent_id, parent_tier, evaluated, tier_now, rank_now,
                   {kept.format(new="revenue", old="old_revenue")},
                   {kept.format(new="computed", old="old_computed")},
                   {kept.format(new="value_score", old="old_score")},
                   {kept.format(new="factors", old="old_factors")},
                   {kept.format(new="ltv", old="old_ltv")},
                   {kept.format(new="new_below", old="below_count") if self.moves_made else "below_count"},
                   rank_target, {target}, source, {reason},
                   {tier_new if self.kind == Kind.PUBLICATION else "tier_now"}
            FROM valued
            ORDER BY customer_id""",  # the UPDATE of the customers then walks their table and indexes in key order
            self.params,
        )

    def _base(self) -> str:
        """Each live customer with its current state, its spend (this window's average, the previous window's,
        the categories billed: one pass over both windows) and its members active at the end of the period
        (joined by then, not left by then: re-evaluating a past month gives the same answer)."""
        customer = Customer._meta.db_table
        start, end = self._param("start", self._date(self.start)), self._param("end", self._date(self.period_end))
        months = self._param("n", self.rules.policy.months_window)
        today = self._param("today", self._date(self.today))
        evaluated = ", ".join(self._param(f"status{i}", status) for i, status in enumerate(EVALUATED_STATUSES))
        spend = f"""SELECT customer_id,
                   ROUND(COALESCE(SUM(CASE WHEN month >= {start} THEN amount END), 0) * 1.0 / {months}, 2) AS revenue,
                   ROUND(COALESCE(SUM(CASE WHEN month < {start} THEN amount END), 0) * 1.0 / {months}, 2)
                       AS previous_revenue,
                   COUNT(DISTINCT CASE WHEN month >= {start} AND amount > 0 THEN category END) AS categories
            FROM {SpendRecord._meta.db_table}
            WHERE month >= {self._param("previous_start", self._date(self.previous_start))}
              AND month <= {self._param("period", self._date(self.period))}
            GROUP BY customer_id"""
        members = f"""SELECT customer_id, COUNT(*) AS n FROM {GroupMember._meta.db_table}
            WHERE joined_on <= {end} AND (left_on IS NULL OR left_on > {end})
            GROUP BY customer_id"""
        return f"""SELECT c.id AS customer_id, c.parent_id, p.tier AS parent_tier,
                   CASE WHEN c.status IN ({evaluated}) THEN 1 ELSE 0 END AS evaluated,
                   c.is_strategic, c.tier AS tier_now, {_rank_sql("c.tier")} AS rank_now,
                   c.tier_below_count AS below_count, i.importance,
                   CAST(CASE WHEN c.relationship_since IS NULL THEN 0
                             ELSE {self.sql.days_since(end, "c.relationship_since")} / 365.25 END
                        AS DOUBLE PRECISION) AS tenure_years,
                   o.tier AS override_tier, o.expires_on AS override_until,
                   CASE WHEN o.id IS NULL THEN NULL
                        WHEN o.expires_on <= {today} THEN 'expired'
                        WHEN o.starts_on <= {today} THEN 'active' END AS override_state,
                   CAST(COALESCE(s.revenue, 0) AS NUMERIC(16, 2)) AS revenue,
                   CAST(COALESCE(s.previous_revenue, 0) AS NUMERIC(16, 2)) AS previous_revenue,
                   COALESCE(s.categories, 0) AS categories, COALESCE(m.n, 0) AS members,
                   c.avg_monthly_revenue AS old_revenue, c.tier_computed AS old_computed, c.value_score AS old_score,
                   c.value_factors AS old_factors, c.lifetime_value AS old_ltv
            FROM {customer} c
            LEFT JOIN {customer} p ON p.id = c.parent_id
            LEFT JOIN {Industry._meta.db_table} i ON i.code = c.industry_id
            LEFT JOIN {TierOverride._meta.db_table} o ON o.customer_id = c.id AND o.revoked_at IS NULL
            LEFT JOIN ({spend}) s ON s.customer_id = c.id
            LEFT JOIN ({members}) m ON m.customer_id = c.id
            WHERE c.status <> {self._param("merged", Customer.Status.MERGED)}"""

    def _ranked(self) -> str:
        """Percentile ranks of revenue and members among the evaluated customers, and the growth and tenure
        scores before they are clamped to 0..1 (worked out once here: the clamp uses each three times)."""
        return """SELECT base.*,
                   CAST(PERCENT_RANK() OVER (PARTITION BY evaluated ORDER BY revenue) AS DOUBLE PRECISION)
                       AS revenue_rank,
                   CAST(PERCENT_RANK() OVER (PARTITION BY evaluated ORDER BY members) AS DOUBLE PRECISION)
                       AS members_rank,
                   -- ratio of this window to the previous one: 0.5 or less -> 0, 1.0 -> 0.5, 1.5 or more -> 1;
                   -- nothing billed before: 1 when billed now (new business), neutral 0.5 when nothing at all
                   CASE WHEN previous_revenue > 0 THEN revenue * 1.0 / previous_revenue - 0.5
                        WHEN revenue > 0 THEN 1 ELSE 0.5 END AS growth_raw,
                   tenure_years / 10.0 AS tenure_raw
            FROM base"""

    def _tiered(self) -> str:
        """The tier by the rules: the best band whose floor is reached."""
        whens = []
        for index, band in enumerate(self.rules.bands):
            condition = f"revenue >= {self._param(f'min{index}', float(band.min_revenue))}"
            if band.min_members is not None and band.alt_min_revenue is not None:
                members = self._param(f"members{index}", band.min_members)
                alternative = self._param(f"alt{index}", float(band.alt_min_revenue))
                condition = f"({condition} OR (members >= {members} AND revenue >= {alternative}))"
            if band.strategic_only:
                condition = f"is_strategic AND {condition}"
            whens.append(f"WHEN {condition} THEN '{band.tier}'")
        return f"SELECT ranked.*, CASE {' '.join(whens)} ELSE '{self.rules.bands[-1].tier}' END AS computed FROM ranked"

    def _scored(self) -> str:
        """On which basis the tier was reached, and the factor points (weight x score / total weight x 100)."""
        basis_whens = []
        for index, band in enumerate(self.rules.bands):
            if band.min_members is not None and band.alt_min_revenue is not None:
                basis_whens.append(f"WHEN computed = '{band.tier}' AND revenue < %(min{index})s THEN 'members'")
            if band.strategic_only:
                basis_whens.append(f"WHEN computed = '{band.tier}' THEN 'strategic'")
        basis = f"CASE {' '.join(basis_whens)} ELSE 'revenue' END" if basis_whens else "'revenue'"
        total = self.rules.total_weight
        scores = {
            "revenue": "revenue_rank",
            "members": "members_rank",
            "breadth": f"categories * 1.0 / {len(SpendCategory.values)}",
            "growth": _clamp01("growth_raw"),
            "industry": "COALESCE(importance, 50) / 100.0",
            "tenure": _clamp01("tenure_raw"),
            "payment": f"{NEUTRAL_PAYMENT}",
        }
        points = ", ".join(
            f"CAST({self._param(f'k_{code}', (100.0 * self.rules.weights.get(code, 0) / total) if total else 0.0)}"
            f" * ({expression}) AS DOUBLE PRECISION) AS p_{code}"
            for code, expression in scores.items()
        )
        return f"""SELECT tiered.*, {_rank_sql("computed")} AS rank_computed, {basis} AS basis, {points}
            FROM tiered"""

    def _valued(self) -> str:
        """The value score, its factors and the lifetime value; then where a publication would move the published
        tier (rank_target), the count below the band and the source of the move."""
        points_total = " + ".join(f"p_{code}" for code in FACTOR_CODES)
        pairs = ", ".join(f"'{code}', ROUND(CAST(p_{code} AS NUMERIC), 1)" for code in FACTOR_CODES)
        ltv_whens = " ".join(
            f"WHEN '{band.tier}' THEN "
            + self._param(
                f"ltv{index}", float(ltv_multiplier(retention=band.annual_retention, policy=self.rules.policy))
            )
            for index, band in enumerate(self.rules.bands)
        )
        score = f"CAST(ROUND(CAST({points_total} AS NUMERIC)) AS INTEGER)" if self.rules.total_weight else "NULL"
        moves = "CAST(NULL AS INTEGER) AS rank_target, below_count AS new_below, CAST(NULL AS VARCHAR(20)) AS source"
        if self.moves_made:
            moves = self._moves()
        return f"""SELECT scored.*, {score} AS value_score, {self.sql.json_object}({pairs}) AS factors,
                   ROUND(CAST(revenue * (CASE computed {ltv_whens} ELSE 0 END) AS NUMERIC), 2) AS ltv, {moves}
            FROM scored"""

    def _moves(self) -> str:
        """Where each published tier goes at this publication (customers not evaluated stay where they are)."""
        # Publishing a period again must not count the same period twice towards a downgrade.
        republished = (
            TierEvaluation.objects.filter(kind=Kind.PUBLICATION, period=self.period, finished_at__isnull=False)
            .exclude(pk=self.evaluation.pk)
            .exists()
        )
        step = self._param("step", 0 if republished else 1)
        after = self._param("after", self.rules.policy.downgrade_after)
        self._param("override", TierChange.Source.OVERRIDE)
        self._param("expired", TierChange.Source.OVERRIDE_EXPIRED)
        return f"""CASE
                    WHEN evaluated = 0 THEN rank_now
                    WHEN override_state = 'active' THEN {_rank_sql("override_tier")}
                    WHEN override_state = 'expired' THEN rank_computed
                    WHEN rank_computed <= rank_now THEN rank_computed
                    WHEN below_count + {step} >= {after} THEN rank_computed
                    ELSE rank_now END AS rank_target,
                CASE
                    WHEN override_state IS NOT NULL OR rank_computed <= rank_now
                         OR below_count + {step} >= {after} THEN 0
                    ELSE below_count + {step} END AS new_below,
                CASE override_state WHEN 'active' THEN %(override)s
                                    WHEN 'expired' THEN %(expired)s
                                    ELSE {self._param("evaluation", TierChange.Source.EVALUATION)} END AS source"""

    def _reason(self) -> str:
        """Why the published tier moves, in the site's language."""
        policy_ = self.rules.policy
        with translation.override(settings.LANGUAGE_CODE):
            texts = _reason_templates(months=policy_.months_window, after=policy_.downgrade_after)
        self.params.update(texts)
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
        return reason

    def _record_counts(self, cursor) -> None:
        cursor.execute(
            f"""SELECT COALESCE(SUM(evaluated), 0),
                       COALESCE(SUM(CASE WHEN rank_target < rank_now THEN 1 ELSE 0 END), 0),
                       COALESCE(SUM(CASE WHEN rank_target > rank_now THEN 1 ELSE 0 END), 0) FROM {WORK}"""
        )
        self.evaluation.customers, self.evaluation.upgrades, self.evaluation.downgrades = cursor.fetchone()

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

    def _write_customers(self, cursor) -> int:
        """One UPDATE of the customers whose values differ, the service tier included (the better of the
        customer's own tier and its parent's one rank lower, as refresh_service_tiers computes it, from the
        tiers this run publishes); a second run over the same data writes no row. Returns the rows written."""
        customer = Customer._meta.db_table
        columns = {
            "avg_monthly_revenue": "w.revenue",
            "tier_computed": "w.computed",
            "value_score": "w.value_score",
            "value_factors": "w.factors",
            "lifetime_value": "w.ltv",
            "service_tier": "w.service",
        }
        if self.kind == Kind.PUBLICATION:
            moved = "w.rank_target <> w.rank_now"
            columns.update({
                "tier_below_count": "w.new_below",
                "tier": "w.tier_new",
                "tier_changed_at": f"CASE WHEN {moved} THEN %(now)s ELSE {customer}.tier_changed_at END",
                "tier_reason": f"CASE WHEN {moved} THEN w.reason ELSE {customer}.tier_reason END",
                "updated_at": f"CASE WHEN {moved} THEN %(now)s ELSE {customer}.updated_at END",
            })  # fmt: skip
        differs = " OR ".join(
            f"{customer}.{column} {self.sql.distinct} {expression}"
            for column, expression in columns.items()
            if column not in ("tier_changed_at", "tier_reason", "updated_at")
        )
        # The parent's tier after this run: its work row when it is live, else (merged) the tier it keeps.
        own, parent = _rank_sql("w.tier_new"), _rank_sql("COALESCE(p.tier_new, w.parent_tier)")
        inherited = f"(CASE WHEN {parent} >= {LOWEST_RANK} THEN {parent} ELSE {parent} + 1 END)"
        self._run(
            cursor,
            f"""UPDATE {customer} SET {", ".join(f"{column} = {value}" for column, value in columns.items())}
            FROM (
                SELECT w.*, CASE WHEN {own} <= {inherited} THEN w.tier_new ELSE {_tier_sql(inherited)} END AS service
                FROM {WORK} w LEFT JOIN {WORK} p ON p.customer_id = w.parent_id
            ) w
            WHERE {customer}.id = w.customer_id AND ({differs})""",
            {"now": connection.ops.adapt_datetimefield_value(self.now)},
        )
        return max(cursor.rowcount, 0)

    def _close_expired_overrides(self, cursor) -> None:
        """An expired override has handed back to the rules: close it so the next override can be opened."""
        self._run(
            cursor,
            f"""UPDATE {TierOverride._meta.db_table} SET revoked_at = %(now)s
            WHERE revoked_at IS NULL AND expires_on <= %(today)s
              AND customer_id IN (SELECT customer_id FROM {WORK} WHERE evaluated = 1)""",
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
