"""The tier and value engine (customers.tiering): one test per rule of DOMAIN.md §1.2 as implemented,
idempotence, a constant number of SQL statements, dry runs, the value score and LTV by hand, overrides,
the rules' history, the selectors, the Celery task, its beat entry and the management command."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels.models import Role
from customers import policy
from customers.models import (
    Customer,
    GroupMember,
    SpendCategory,
    SpendRecord,
    TierChange,
    TierEvaluation,
    TierOverride,
    TierPolicy,
)
from customers.tasks import evaluate_tiers_task
from customers.tiering import engine, selectors, services
from kam.celery import app
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

Kind = TierEvaluation.Kind
PERIOD = datetime.date(2026, 6, 1)  # the window is 2026-01 .. 2026-06, the previous one 2025-07 .. 2025-12


def months_back(count: int, *, until: datetime.date = PERIOD) -> list[datetime.date]:
    out, year, month = [], until.year, until.month
    for _i in range(count):
        out.append(datetime.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out


def bill(customer, amount, *, months: int = 6, until: datetime.date = PERIOD, category=SpendCategory.VOICE):
    """`amount` a month for the `months` months ending at `until`."""
    SpendRecord.objects.bulk_create(
        SpendRecord(customer=customer, month=month, category=category, amount=Decimal(amount))
        for month in months_back(months, until=until)
    )


def add_members(customer, count: int, *, prefix: str = "139"):
    GroupMember.objects.bulk_create(
        GroupMember(customer=customer, msisdn=f"{prefix}{customer.pk:04d}{n:04d}", joined_on=datetime.date(2025, 1, 1))
        for n in range(count)
    )


def publish(period=PERIOD):
    return engine.evaluate_tiers(period=period, kind=Kind.PUBLICATION)


def reload(customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def next_month(day: datetime.date) -> datetime.date:
    return (day + datetime.timedelta(days=32)).replace(day=1)


# --- tiers ---------------------------------------------------------------------------------------------------


def test_publication_upgrades_at_once_and_records_the_move():
    customer = CustomerFactory(tier="C")
    bill(customer, 123456)

    evaluation = publish()

    customer = reload(customer)
    assert customer.tier == "A1" and customer.tier_computed == "A1"
    change = TierChange.objects.get(customer=customer)
    assert (change.from_tier, change.to_tier, change.is_upgrade, change.source) == ("C", "A1", True, "evaluation")
    assert change.rule_version == evaluation.rule_version == 1 and change.evaluation == evaluation
    assert change.reason == ("Average monthly revenue ¥123,456 over the last 6 billed months meets the A1 band")
    assert customer.tier_reason == change.reason and customer.tier_changed_at == change.changed_at
    assert customer.avg_monthly_revenue == Decimal("123456.00")
    assert (evaluation.customers, evaluation.upgrades, evaluation.downgrades) == (1, 1, 0)


def test_a_new_customer_gets_its_first_tier_as_an_upgrade_from_none():
    customer = CustomerFactory(tier="")
    bill(customer, 15000)

    publish()

    change = TierChange.objects.get(customer=customer)
    assert (change.from_tier, change.to_tier, change.is_upgrade) == ("", "B2", True)


def test_prospects_and_churned_customers_are_not_evaluated():
    prospect = CustomerFactory(tier="", status=Customer.Status.PROSPECT)
    churned = CustomerFactory(tier="B1", status=Customer.Status.CHURNED)
    bill(prospect, 50000)

    evaluation = publish()

    assert evaluation.customers == 0
    assert (reload(prospect).tier, reload(churned).tier) == ("", "B1")


@pytest.mark.parametrize("today, publishes", [(datetime.date(2026, 5, 3), False), (datetime.date(2026, 7, 3), True)])
def test_quarterly_policy_publishes_only_in_january_april_july_and_october(today, publishes):
    TierPolicy.objects.update(publication=TierPolicy.Cadence.QUARTERLY)
    customer = CustomerFactory(tier="C")
    bill(customer, 120000)

    with time_machine.travel(datetime.datetime.combine(today, datetime.time(2)), tick=False):
        evaluate_tiers_task()

    customer = reload(customer)
    evaluation = TierEvaluation.objects.get()
    assert customer.tier_computed == "A1"  # every run computes
    if publishes:
        assert evaluation.kind == Kind.PUBLICATION and customer.tier == "A1"
        assert TierChange.objects.filter(customer=customer).count() == 1
    else:
        assert evaluation.kind == Kind.EVALUATION and customer.tier == "C"
        assert not TierChange.objects.exists()


def test_monthly_policy_publishes_every_month():
    TierPolicy.objects.update(publication=TierPolicy.Cadence.MONTHLY)

    assert engine.scheduled_kind(today=datetime.date(2026, 5, 3)) == Kind.PUBLICATION


def test_an_evaluation_that_does_not_publish_moves_no_tier():
    customer = CustomerFactory(tier="C", tier_below_count=1)
    bill(customer, 120000)

    engine.evaluate_tiers(period=PERIOD, kind=Kind.EVALUATION)

    customer = reload(customer)
    assert (customer.tier, customer.tier_computed, customer.tier_below_count) == ("C", "A1", 1)
    assert customer.value_score is not None and customer.lifetime_value > 0
    assert not TierChange.objects.exists()


def test_downgrade_waits_for_the_second_publication_below_the_band():
    customer = CustomerFactory(tier="B1")
    bill(customer, 5000, months=7, until=next_month(PERIOD))  # C band in both periods

    publish(PERIOD)

    customer = reload(customer)
    assert (customer.tier, customer.tier_computed, customer.tier_below_count) == ("B1", "C", 1)
    assert not TierChange.objects.exists()

    publish(next_month(PERIOD))

    customer = reload(customer)
    assert (customer.tier, customer.tier_below_count) == ("C", 0)
    change = TierChange.objects.get(customer=customer)
    assert (change.from_tier, change.to_tier, change.is_upgrade) == ("B1", "C", False)
    assert change.reason.startswith("Below the B1 band at 2 publications in a row")


def test_recovering_to_the_band_resets_the_count_below_it():
    customer = CustomerFactory(tier="B1")
    bill(customer, 5000, until=PERIOD)
    publish(PERIOD)
    assert reload(customer).tier_below_count == 1
    SpendRecord.objects.filter(customer=customer).update(amount=Decimal(40000))

    publish(next_month(PERIOD))

    customer = reload(customer)
    assert (customer.tier, customer.tier_below_count) == ("B1", 0)
    assert not TierChange.objects.exists()


def test_strategic_customer_with_revenue_at_the_a2_floor_is_a2_others_are_b1():
    strategic = CustomerFactory(tier="B2", is_strategic=True)
    ordinary = CustomerFactory(tier="B2")
    small_strategic = CustomerFactory(tier="B2", is_strategic=True)
    for customer in (strategic, ordinary):
        bill(customer, 30000)
    bill(small_strategic, 29999)

    publish()

    assert [reload(c).tier for c in (strategic, ordinary, small_strategic)] == ["A2", "B1", "B2"]
    assert TierChange.objects.get(customer=strategic).reason.startswith("On the strategic list")


def test_a1_by_members_needs_1000_members_and_the_alternative_revenue():
    by_members = CustomerFactory(tier="B1")
    one_short = CustomerFactory(tier="B1")
    for customer in (by_members, one_short):
        bill(customer, 60000)
    add_members(by_members, 1000)
    add_members(one_short, 999, prefix="138")
    GroupMember.objects.create(
        customer=one_short,
        msisdn="13700000001",
        joined_on=datetime.date(2025, 1, 1),
        status=GroupMember.Status.LEFT,
        left_on=datetime.date(2026, 3, 1),
    )  # left before the period ended: does not count

    publish()

    assert (reload(by_members).tier, reload(one_short).tier) == ("A1", "B1")
    assert TierChange.objects.get(customer=by_members).reason == (
        "1000 active members and average monthly revenue ¥60,000 over the last 6 billed months meet the A1 band"
    )


def test_subsidiaries_inherit_the_parents_tier_one_rank_lower_for_service():
    parent = CustomerFactory(tier="")
    child = CustomerFactory(tier="C", parent=parent)
    strong_child = CustomerFactory(tier="", parent=parent)
    prospect_child = CustomerFactory(tier="", parent=parent, status=Customer.Status.PROSPECT)
    bill(parent, 150000)
    bill(child, 3000)
    bill(strong_child, 200000)

    publish()

    assert reload(parent).service_tier == "A1"
    assert (reload(child).tier, reload(child).service_tier) == ("C", "A2")
    assert (reload(strong_child).tier, reload(strong_child).service_tier) == ("A1", "A1")
    assert reload(prospect_child).service_tier == "A2"


def test_a_d_parent_passes_on_d_and_nothing_else():
    parent = CustomerFactory(tier="D")
    child = CustomerFactory(tier="", parent=parent, status=Customer.Status.PROSPECT)

    engine.refresh_service_tiers()

    assert reload(child).service_tier == "D"


# --- overrides ------------------------------------------------------------------------------------------------


def test_override_applies_at_once_wins_over_the_rules_and_hands_back_when_it_expires(am, supervisor):
    customer = CustomerFactory(tier="C", account_manager=am)
    bill(customer, 5000)
    with time_machine.travel(datetime.datetime(2026, 7, 3, 10), tick=False):
        override = services.tier_override_create(
            customer=customer, tier="A1", reason="省重点项目", requested_by=am, approved_by=supervisor
        )
        assert override.expires_on == datetime.date(2027, 7, 3)
        customer = reload(customer)
        assert customer.tier == "A1" and customer.tier_reason.startswith("Manual override until 2027-07-03")
        change = TierChange.objects.get()
        assert (change.source, change.from_tier, change.to_tier) == ("override", "C", "A1")

        publish()  # the rules say C; the override is in force

        assert reload(customer).tier == "A1" and TierChange.objects.count() == 1

    with time_machine.travel(datetime.datetime(2027, 7, 3, 10), tick=False):
        publish()

        customer = reload(customer)
        assert customer.tier == "C"
        handback = TierChange.objects.latest("id")
        assert (handback.source, handback.from_tier, handback.to_tier) == ("override_expired", "A1", "C")
        assert handback.reason.startswith("The manual override expired")
        assert TierOverride.objects.get().revoked_at is not None

        publish()  # nothing more to hand back

        assert TierChange.objects.count() == 2


def test_override_needs_a_supervisor_or_admin_other_than_the_requester(am, teammate, supervisor, admin_user):
    customer = CustomerFactory(tier="C", account_manager=am)

    with pytest.raises(ValidationError) as by_peer:
        services.tier_override_create(customer=customer, tier="B1", reason="x", requested_by=am, approved_by=teammate)
    with pytest.raises(ValidationError) as by_self:
        services.tier_override_create(
            customer=customer, tier="B1", reason="x", requested_by=supervisor, approved_by=supervisor
        )
    with pytest.raises(ValidationError) as no_reason:
        services.tier_override_create(customer=customer, tier="B1", reason=" ", requested_by=am, approved_by=supervisor)
    with pytest.raises(PermissionDenied):
        services.tier_override_create(
            customer=customer, tier="B1", reason="x", requested_by=teammate, approved_by=supervisor
        )

    assert "approved_by" in by_peer.value.message_dict and "approved_by" in by_self.value.message_dict
    assert "reason" in no_reason.value.message_dict
    assert not TierOverride.objects.exists() and reload(customer).tier == "C"
    services.tier_override_create(customer=customer, tier="B1", reason="x", requested_by=admin_user,
                                 approved_by=admin_user)  # fmt: skip
    assert reload(customer).tier == "B1"


def test_a_new_override_replaces_the_open_one_and_revoking_hands_back_to_the_computed_tier(am, supervisor):
    customer = CustomerFactory(tier="C", account_manager=am, tier_computed="C")
    first = services.tier_override_create(customer=customer, tier="B1", reason="a", requested_by=am,
                                         approved_by=supervisor)  # fmt: skip
    second = services.tier_override_create(customer=customer, tier="A2", reason="b", requested_by=am,
                                          approved_by=supervisor)  # fmt: skip
    first.refresh_from_db()
    assert first.revoked_at is not None and reload(customer).tier == "A2"

    services.tier_override_revoke(override=second, by=supervisor)

    assert reload(customer).tier == "C"
    assert list(TierChange.objects.order_by("id").values_list("to_tier", "source")) == [
        ("B1", "override"), ("A2", "override"), ("C", "override_expired")
    ]  # fmt: skip
    with pytest.raises(ValidationError):
        services.tier_override_revoke(override=second, by=supervisor)


# --- idempotence, statements, dry runs ----------------------------------------------------------------------


def _snapshot():
    return (
        list(Customer.objects.order_by("pk").values_list(
            "tier", "tier_computed", "tier_below_count", "service_tier", "avg_monthly_revenue", "value_score",
            "value_factors", "lifetime_value", "tier_changed_at", "tier_reason", "updated_at",
        )),
        TierChange.objects.count(),
    )  # fmt: skip


@pytest.mark.parametrize("kind", [Kind.EVALUATION, Kind.PUBLICATION])
def test_running_the_same_period_twice_changes_nothing_the_second_time(kind):
    up = CustomerFactory(tier="C")
    down = CustomerFactory(tier="B1")
    bill(up, 120000)
    bill(down, 5000)
    engine.evaluate_tiers(period=PERIOD, kind=kind)
    before = _snapshot()

    engine.evaluate_tiers(period=PERIOD, kind=kind)

    assert _snapshot() == before
    # publishing the same month again does not count it twice towards a downgrade
    assert reload(down).tier == "B1" and reload(down).tier_below_count == (1 if kind == Kind.PUBLICATION else 0)


def _row_versions() -> dict[int, int]:
    """PostgreSQL's row version of every customer (xmin changes whenever a row is written, even unchanged)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, xmin::text::bigint FROM customers_customer")
        return dict(cursor.fetchall())


@pytest.mark.parametrize("kind", [Kind.EVALUATION, Kind.PUBLICATION])
def test_a_second_run_over_unchanged_data_writes_no_customer(kind):
    parent = CustomerFactory(tier="C")
    child = CustomerFactory(tier="", parent=parent)
    CustomerFactory(tier="", parent=parent, status=Customer.Status.PROSPECT)
    bill(parent, 120000)
    bill(child, 5000)
    first = engine.evaluate_tiers(period=PERIOD, kind=kind)
    before = _snapshot()

    again = engine.evaluate_tiers(period=PERIOD, kind=kind)

    # the first run wrote all three (the prospect only its service tier), the second none
    assert (first.customers_written, again.customers_written) == (3, 0)
    assert again.customers == 2 and _snapshot() == before


@pytest.mark.postgres
def test_a_second_run_leaves_every_customer_row_untouched_on_postgresql():
    customers = _customers_with_facts(30)
    publish()
    versions = _row_versions()

    again = publish()

    assert again.customers_written == 0 and again.customers == 30
    assert _row_versions() == versions and len(versions) == len(customers)


def test_a_changed_input_rewrites_exactly_that_customer():
    low, middle, high = (CustomerFactory(tier="C") for _i in range(3))
    bill(low, 1000)
    bill(middle, 5000)
    bill(high, 9000)
    engine.evaluate_tiers(period=PERIOD, kind=Kind.EVALUATION)
    values = ("avg_monthly_revenue", "lifetime_value", "value_score", "value_factors", "service_tier", "updated_at")
    before = {pk: rest for pk, *rest in Customer.objects.values_list("pk", *values)}
    # 6,000 a month instead of 5,000 in the latest month: still the middle one, so no other score moves
    SpendRecord.objects.filter(customer=middle, month=PERIOD).update(amount=Decimal(11000))
    versions = _row_versions() if connection.vendor == "postgresql" else None

    run = engine.evaluate_tiers(period=PERIOD, kind=Kind.EVALUATION)

    assert run.customers_written == 1
    after = {pk: rest for pk, *rest in Customer.objects.values_list("pk", *values)}
    assert after[middle.pk][0] == Decimal("6000.00") and after[middle.pk][1] != before[middle.pk][1]
    assert {pk: v for pk, v in after.items() if pk != middle.pk} == {
        pk: v for pk, v in before.items() if pk != middle.pk
    }
    if versions is not None:
        assert {pk for pk, xmin in _row_versions().items() if versions[pk] != xmin} == {middle.pk}


def test_service_tiers_written_by_a_publication_are_those_refresh_service_tiers_computes():
    """The publication works the service tier out in its one UPDATE; the stand-alone refresh (used after an
    override or an edit) must find nothing to change, whatever the hierarchy."""
    survivor = CustomerFactory(tier="B1")
    merged_parent = CustomerFactory(tier="A1", status=Customer.Status.MERGED, merged_into=survivor)
    orphan = CustomerFactory(tier="", parent=merged_parent)  # its parent was merged away and keeps its tier
    top = CustomerFactory(tier="D")
    middle = CustomerFactory(tier="C", parent=top)
    CustomerFactory(tier="", parent=middle, status=Customer.Status.PROSPECT)
    CustomerFactory(tier="B2", parent=middle, status=Customer.Status.CHURNED)
    bill(top, 150000)  # moves up to A1 at this publication
    bill(middle, 3000)
    bill(orphan, 3000)
    publish()
    written = _snapshot()

    engine.refresh_service_tiers()

    assert _snapshot() == written
    assert reload(orphan).service_tier == "A2" and reload(middle).service_tier == "A2"
    assert reload(top).tier == "A1"


def _customers_with_facts(count: int):
    customers = Customer.objects.bulk_create(
        Customer(name=f"测试客户{n:04d}有限公司", status=Customer.Status.ACTIVE, tier="C", industry_id="C",
                 parent=None, relationship_since=datetime.date(2020, 1, 1))
        for n in range(count)
    )  # fmt: skip
    SpendRecord.objects.bulk_create(
        SpendRecord(customer=c, month=month, category=SpendCategory.VOICE, amount=Decimal(1000 * (i % 150)))
        for i, c in enumerate(customers)
        for month in months_back(12)
    )
    GroupMember.objects.bulk_create(
        GroupMember(customer=c, msisdn=f"139{i:08d}", joined_on=datetime.date(2025, 1, 1))
        for i, c in enumerate(customers)
    )
    return customers


def _statements(kind) -> tuple[int, TierEvaluation]:
    with CaptureQueriesContext(connection) as queries:
        evaluation = engine.evaluate_tiers(period=PERIOD, kind=kind)
    return len(queries), evaluation


@pytest.mark.parametrize("kind", [Kind.DRY_RUN, Kind.EVALUATION, Kind.PUBLICATION])
def test_the_number_of_sql_statements_does_not_grow_with_the_customers(kind):
    customers = _customers_with_facts(20)
    small, small_run = _statements(kind)
    TierChange.objects.all().delete()
    TierEvaluation.objects.all().delete()
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(tier="C", tier_computed="", value_score=None)
    _customers_with_facts(200)

    large, large_run = _statements(kind)

    assert large_run.customers == 220 and small_run.customers == 20
    assert small == large
    assert large_run.statements == small_run.statements and large_run.statements <= large < 40


def test_a_dry_run_reports_the_moves_and_writes_nothing_else():
    up = CustomerFactory(tier="C", name="宁波甬江港务有限公司")
    down = CustomerFactory(tier="B1")
    steady = CustomerFactory(tier="C")
    bill(up, 150000)
    bill(down, 5000)
    bill(steady, 5000)
    TierPolicy.objects.update(downgrade_after=1)
    before = _snapshot()

    evaluation = engine.evaluate_tiers(period=PERIOD, kind=Kind.DRY_RUN)

    assert _snapshot() == before
    assert TierEvaluation.objects.count() == 1
    assert (evaluation.upgrades, evaluation.downgrades, evaluation.customers) == (1, 1, 3)
    assert [(m["customer"], m["from"], m["to"], m["is_upgrade"]) for m in evaluation.moves] == [
        (up.pk, "C", "A1", True), (down.pk, "B1", "C", False)
    ]  # fmt: skip
    assert evaluation.moves[0]["name"] == "宁波甬江港务有限公司"
    assert evaluation.moves[0]["reason"].startswith("Average monthly revenue ¥150,000")


# --- value score and lifetime value ---------------------------------------------------------------------------


@pytest.fixture
def value_fixture():
    """Three customers whose scores are worked out by hand below (default weights, total 100)."""
    x = CustomerFactory(tier="", industry_id="J", relationship_since=datetime.date(2010, 1, 1))
    y = CustomerFactory(tier="", industry_id="I", relationship_since=None)
    z = CustomerFactory(tier="", industry_id="C", relationship_since=None)
    bill(x, 10000)
    bill(x, 2000, category=SpendCategory.DATA)
    bill(x, 8000, until=datetime.date(2025, 12, 1))  # previous window
    bill(y, 1000)
    bill(z, 5000, months=12)
    add_members(x, 3)
    add_members(y, 1, prefix="138")
    add_members(z, 2, prefix="137")
    return x, y, z


def test_value_score_is_the_weighted_sum_of_the_factor_scores(value_fixture):
    x, y, z = value_fixture

    engine.evaluate_tiers(period=PERIOD, kind=Kind.EVALUATION)

    x, y, z = (reload(c) for c in value_fixture)
    # X: top revenue and members (percentile 1.0), 2 of 8 categories, growth 12,000 / 8,000 = 1.5 (full),
    # finance importance 90, 16 years (full), payment neutral.
    assert x.value_factors == {"revenue": 40.0, "members": 15.0, "breadth": 3.8, "growth": 10.0, "industry": 9.0,
                               "tenure": 5.0, "payment": 2.5}  # fmt: skip
    assert x.value_score == 85  # 85.25
    # Y: lowest revenue and members (0), 1 category, nothing billed before (new business: full growth), IT 75.
    assert y.value_factors == {"revenue": 0.0, "members": 0.0, "breadth": 1.9, "growth": 10.0, "industry": 7.5,
                               "tenure": 0.0, "payment": 2.5}  # fmt: skip
    assert y.value_score == 22  # 21.875
    # Z: middle (percentile 0.5), flat revenue (ratio 1.0 -> half), manufacturing 60.
    assert z.value_factors == {"revenue": 20.0, "members": 7.5, "breadth": 1.9, "growth": 5.0, "industry": 6.0,
                               "tenure": 0.0, "payment": 2.5}  # fmt: skip
    assert z.value_score == 43  # 42.875


def test_lifetime_value_discounts_the_margin_by_the_bands_retention(value_fixture):
    engine.evaluate_tiers(period=PERIOD, kind=Kind.EVALUATION)

    x = reload(value_fixture[0])
    assert x.tier_computed == "B2"  # 12,000 a month; B2 retention 0.900
    expected = Decimal(12000) * 12 * Decimal("0.35") * sum((Decimal("0.9") / Decimal("1.08")) ** t for t in range(1, 6))
    assert abs(x.lifetime_value - expected) <= Decimal("0.01")


def test_value_explanation_shows_each_factors_weight_score_and_points(value_fixture, django_assert_max_num_queries):
    engine.evaluate_tiers(period=PERIOD, kind=Kind.EVALUATION)
    x = Customer.objects.select_related("industry").get(pk=value_fixture[0].pk)

    with django_assert_max_num_queries(5):
        explanation = selectors.customer_value_explanation(x)

    by_code = {f.code: f for f in explanation.factors}
    assert explanation.value_score == 85 and explanation.period == PERIOD
    assert [f.code for f in explanation.factors] == [
        "revenue",
        "breadth",
        "members",
        "growth",
        "industry",
        "payment",
        "tenure",
    ]  # by weight, heaviest first
    assert (by_code["revenue"].weight, by_code["revenue"].points, by_code["revenue"].score) == (40, 40.0, 1.0)
    assert by_code["breadth"].measured == "2 of 8 spend categories billed in the last 6 months"
    assert by_code["members"].measured == "3 active group members, ahead of 100% of the customers evaluated"
    assert by_code["revenue"].measured.startswith("Average monthly revenue ¥12,000 over the last 6 billed months")
    assert by_code["growth"].measured.startswith("Last 6 months against the 6 before: ratio 1.50")
    assert by_code["payment"].score == 0.5
    assert "margin 0.350" in explanation.ltv_formula and "retention 0.900" in explanation.ltv_formula


def test_value_explanation_of_a_customer_never_evaluated_shows_the_weights_only(django_assert_num_queries):
    customer = CustomerFactory()

    with django_assert_num_queries(1):
        explanation = selectors.customer_value_explanation(customer)

    assert explanation.value_score is None and explanation.lifetime_value is None
    first_two = [(f.code, f.weight, f.score) for f in explanation.factors][:2]
    assert first_two == [("revenue", 40, None), ("breadth", 15, None)]


# --- rules ----------------------------------------------------------------------------------------------------


def test_admin_changes_the_rules_with_a_new_version_and_history(admin_user, supervisor):
    with pytest.raises(PermissionDenied):
        services.tier_rules_update(by=supervisor, downgrade_after=3)

    tier_policy = services.tier_rules_update(
        by=admin_user, reason="省公司新标准", downgrade_after=3, bands={"A1": {"min_revenue": Decimal(120000)}}
    )

    assert tier_policy.version == 2 and tier_policy.downgrade_after == 3
    latest = tier_policy.history.latest()
    assert (latest.history_user, latest.history_change_reason, latest.version) == (admin_user, "省公司新标准", 2)
    customer = CustomerFactory(tier="C")
    bill(customer, 110000)
    publish()
    assert reload(customer).tier == "B1" and TierChange.objects.get().rule_version == 2


def test_rules_that_contradict_themselves_are_refused_and_nothing_changes(admin_user):
    with pytest.raises(ValidationError) as error:
        services.tier_rules_update(by=admin_user, bands={"B1": {"min_revenue": Decimal(200000)},
                                                         "C": {"min_members": 50}})  # fmt: skip

    assert len(error.value.message_dict["bands"]) == 2
    assert TierPolicy.objects.get().version == 1


# --- selectors ------------------------------------------------------------------------------------------------


def test_tier_distribution_counts_and_sums_what_the_user_may_see(am, outsider, agent):
    mine = CustomerFactory(tier="", account_manager=am)
    other = CustomerFactory(tier="", account_manager=outsider)
    bill(mine, 50000)
    bill(other, 150000)
    publish()

    rows = {row["tier"]: row for row in selectors.tier_distribution(user=am)}

    assert rows["B1"]["count"] == 1 and rows["B1"]["revenue"] == Decimal("50000.00")
    assert rows["A1"]["count"] == 0
    assert [row["tier"] for row in selectors.tier_distribution(user=am)] == ["A1", "A2", "B1", "B2", "C", "D", ""]
    agent_rows = {row["tier"]: row for row in selectors.tier_distribution(user=agent)}
    assert agent_rows["A1"]["count"] == 1 and agent_rows["A1"]["revenue"] is None


def test_moves_by_month_counts_upgrades_and_downgrades_per_month(analyst, outsider):
    TierPolicy.objects.update(downgrade_after=1)
    up = CustomerFactory(tier="C")
    down = CustomerFactory(tier="A1", account_manager=outsider)
    bill(up, 120000)
    bill(down, 5000)
    with time_machine.travel(datetime.datetime(2026, 7, 3, 2), tick=False):
        publish()
        months = selectors.tier_moves_by_month(user=analyst, months=3)
        outsiders = selectors.tier_moves_by_month(user=outsider, months=3)

    assert [m["month"] for m in months] == [datetime.date(2026, 5, 1), datetime.date(2026, 6, 1),
                                            datetime.date(2026, 7, 1)]  # fmt: skip
    july = months[-1]
    assert (july["upgrades"], july["downgrades"]) == (1, 1)
    assert {(m["from"], m["to"], m["count"]) for m in july["moves"]} == {("C", "A1", 1), ("A1", "C", 1)}
    assert (outsiders[-1]["upgrades"], outsiders[-1]["downgrades"]) == (0, 1)


# --- task, beat, command --------------------------------------------------------------------------------------


def test_the_beat_runs_the_evaluation_monthly_with_a_registered_task():
    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["evaluate-tiers"]

    assert entry["task"] == "customers.tasks.evaluate_tiers_task" and entry["task"] in app.tasks
    assert entry["schedule"] == crontab(minute=0, hour=2, day_of_month=3)
    assert app.tasks[entry["task"]].acks_late


def test_a_started_evaluation_runs_once_even_if_the_message_comes_twice(
    admin_user, django_capture_on_commit_callbacks, monkeypatch
):
    customer = CustomerFactory(tier="C")
    bill(customer, 120000)
    sent = []
    monkeypatch.setattr(evaluate_tiers_task, "apply_async", lambda args, kwargs, **options: sent.append((args, kwargs)))

    with django_capture_on_commit_callbacks(execute=True):
        pending = services.tier_evaluation_start(kind=Kind.PUBLICATION, by=admin_user)

    assert pending.finished_at is None and pending.period == PERIOD and pending.started_by == admin_user
    assert sent == [((Kind.PUBLICATION,), {"evaluation_id": pending.pk})]
    assert evaluate_tiers_task(*sent[0][0], **sent[0][1]) == pending.pk
    assert evaluate_tiers_task(*sent[0][0], **sent[0][1]) is None  # redelivered: already finished
    assert TierChange.objects.count() == 1 and reload(customer).tier == "A1"


def test_supervisors_may_not_start_a_publication(supervisor, am):
    with pytest.raises(PermissionDenied):
        services.tier_evaluation_start(kind=Kind.PUBLICATION, by=supervisor)
    with pytest.raises(PermissionDenied):
        services.tier_evaluation_start(kind=Kind.DRY_RUN, by=am)

    assert not TierEvaluation.objects.exists()


def test_command_dry_run_prints_the_moves_and_writes_no_tier():
    customer = CustomerFactory(tier="C", name="温州瓯海测试有限公司")
    bill(customer, 120000)
    out = StringIO()

    call_command("evaluate_tiers", "--dry-run", "--period", "2026-06", stdout=out)

    text = out.getvalue()
    assert "Dry run of 2026-06" in text and "would move: 1 up, 0 down" in text
    assert "温州瓯海测试有限公司: C → A1" in text
    assert reload(customer).tier == "C"


def test_command_publish_moves_tiers_and_refuses_a_bad_month():
    customer = CustomerFactory(tier="C")
    bill(customer, 120000)

    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("evaluate_tiers", "--publish", "--period", "2026-13", stdout=StringIO())
    call_command("evaluate_tiers", "--publish", stdout=StringIO())

    assert reload(customer).tier == "A1"
    assert TierEvaluation.objects.get().period == PERIOD  # the latest billed month


def test_analysts_cannot_approve_overrides():
    assert not policy.may_approve_override(UserFactory(role=Role.ANALYST))
