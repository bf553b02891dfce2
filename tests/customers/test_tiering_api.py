"""Tier API: /api/v1/tier-rules/, /api/v1/tier-changes/, /api/v1/tier-evaluations/ and the tier and value
fields of customer responses, for the people allowed to use them and for those who must not see them."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from customers.models import TierChange, TierEvaluation, TierPolicy
from customers.tiering import engine
from kam.celery import app
from tests.customers.factories import CustomerFactory
from tests.customers.test_tiering import PERIOD, bill

pytestmark = pytest.mark.django_db

API = "/api/v1/"
RULES = API + "tier-rules/"
CHANGES = API + "tier-changes/"
EVALUATIONS = API + "tier-evaluations/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def moved(am, outsider):
    """A published evaluation that moved the account manager's customer up and the outsider's down."""
    TierPolicy.objects.update(downgrade_after=1)
    mine = CustomerFactory(tier="C", account_manager=am)
    theirs = CustomerFactory(tier="A1", account_manager=outsider)
    bill(mine, 120000)
    bill(theirs, 5000)
    engine.evaluate_tiers(period=PERIOD, kind=TierEvaluation.Kind.PUBLICATION)
    return TierChange.objects.get(customer=mine), TierChange.objects.get(customer=theirs)


# --- tier rules ----------------------------------------------------------------------------------------------


def test_everyone_reads_the_tier_rules_with_bands_best_first(am, django_assert_max_num_queries):
    client = client_for(am)

    with django_assert_max_num_queries(6):
        response = client.get(RULES)

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1 and body["months_window"] == 6 and body["publication"] == "quarterly"
    assert [band["tier"] for band in body["bands"]] == ["A1", "A2", "B1", "B2", "C", "D"]
    assert body["bands"][0] == {
        "tier": "A1",
        "min_revenue": "100000.00",
        "min_members": 1000,
        "alt_min_revenue": "50000.00",
        "strategic_only": False,
        "annual_retention": "0.970",
    }
    assert isinstance(body["history"], list)


@pytest.mark.parametrize("persona", ["am", "supervisor", "analyst", "steward", "agent"])
def test_only_admins_change_the_tier_rules(request, persona):
    response = client_for(request.getfixturevalue(persona)).patch(RULES, {"downgrade_after": 3}, format="json")

    assert response.status_code == 403
    assert TierPolicy.objects.get().downgrade_after == 2


def test_admin_patch_bumps_the_version_and_keeps_history(admin_user):
    response = client_for(admin_user).patch(
        RULES, {"downgrade_after": 3, "bands": [{"tier": "A1", "min_revenue": "120000"}], "reason": "新标准"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["version"] == 2 and body["downgrade_after"] == 3 and body["bands"][0]["min_revenue"] == "120000.00"
    assert body["history"][0]["version"] == 2 and body["history"][0]["reason"] == "新标准"
    assert body["history"][0]["changed_by"]["id"] == admin_user.pk


def test_put_needs_every_policy_field_and_bad_rules_answer_400(admin_user):
    client = client_for(admin_user)

    incomplete = client.put(RULES, {"downgrade_after": 3}, format="json")
    contradictory = client.patch(RULES, {"bands": [{"tier": "B1", "min_revenue": "200000"}]}, format="json")
    wrong_type = client.patch(RULES, {"bands": [{"tier": "B1", "strategic_only": "yes"}]}, format="json")

    assert incomplete.status_code == 400 and "months_window" in incomplete.json()["errors"]
    assert contradictory.status_code == 400 and "bands" in contradictory.json()["errors"]
    assert wrong_type.status_code == 400
    assert TierPolicy.objects.get().version == 1


# --- tier changes --------------------------------------------------------------------------------------------


def _ids(client, **params) -> set[int]:
    response = client.get(CHANGES, {"page_size": 200, **params})
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_account_manager_sees_the_moves_of_their_customers_only(moved, am, outsider, teammate):
    mine, theirs = moved

    assert _ids(client_for(am)) == {mine.pk}
    assert _ids(client_for(outsider)) == {theirs.pk}
    assert _ids(client_for(teammate)) == set()
    # asking for someone else's customer answers like a customer that does not exist
    assert _ids(client_for(outsider), customer=mine.customer_id) == set() == _ids(client_for(outsider), customer=10**9)


def test_another_persons_tier_move_is_a_404(moved, outsider, teammate, am):
    mine, _theirs = moved

    assert client_for(am).get(f"{CHANGES}{mine.pk}/").status_code == 200
    for intruder in (outsider, teammate):
        assert client_for(intruder).get(f"{CHANGES}{mine.pk}/").status_code == 404


def test_analysts_read_every_move_and_agents_none(moved, analyst, agent):
    assert _ids(client_for(analyst)) == {change.pk for change in moved}
    assert _ids(client_for(agent)) == set()


def test_tier_changes_filter_by_customer_month_and_direction(moved, analyst):
    mine, theirs = moved
    client = client_for(analyst)
    month = f"{mine.changed_at.astimezone():%Y-%m}"

    assert _ids(client, direction="up") == {mine.pk}
    assert _ids(client, direction="down") == {theirs.pk}
    assert _ids(client, customer=theirs.customer_id) == {theirs.pk}
    assert _ids(client, month=month) == {mine.pk, theirs.pk}
    assert _ids(client, month="2001-01") == set()
    body = client.get(CHANGES, {"customer": mine.customer_id}).json()["results"][0]
    assert (body["from_tier"], body["to_tier"], body["is_upgrade"], body["source"]) == ("C", "A1", True, "evaluation")
    assert body["customer_name"] == mine.customer.name and body["rule_version"] == 1


@pytest.mark.parametrize("params", [{"month": "2026-13"}, {"month": "June"}, {"direction": "sideways"}])
def test_bad_tier_change_filters_answer_400(analyst, params):
    response = client_for(analyst).get(CHANGES, params)

    assert response.status_code == 400
    assert set(params) <= set(response.json()["errors"])


@pytest.mark.parametrize("rows", [3, 30])
def test_tier_change_list_query_count_does_not_grow(analyst, rows, django_assert_max_num_queries):
    customers = [CustomerFactory(tier="C") for _ in range(rows)]
    TierChange.objects.bulk_create(
        TierChange(customer=c, from_tier="C", to_tier="B2", is_upgrade=True, source="evaluation", reason="r",
                   changed_at=datetime.datetime(2026, 7, 3, tzinfo=datetime.UTC))
        for c in customers
    )  # fmt: skip

    client = client_for(analyst)

    with django_assert_max_num_queries(3):
        response = client.get(CHANGES, {"page_size": 50})

    assert len(response.json()["results"]) == rows


# --- tier evaluations ----------------------------------------------------------------------------------------


@pytest.fixture
def eager(monkeypatch):
    """Run Celery tasks in-process, as soon as the transaction commits."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)


def test_admin_starts_a_publication_that_runs_in_the_background(admin_user, eager, django_capture_on_commit_callbacks):
    customer = CustomerFactory(tier="C")
    bill(customer, 120000)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_user).post(EVALUATIONS, {"kind": "publication", "period": "2026-06"}, format="json")

    assert response.status_code == 202, response.json()
    evaluation = TierEvaluation.objects.get(pk=response.json()["id"])
    assert evaluation.finished_at is not None and evaluation.upgrades == 1
    assert evaluation.period == PERIOD and evaluation.started_by == admin_user
    customer.refresh_from_db()
    assert customer.tier == "A1"


def test_dry_run_shows_each_supervisor_only_the_moves_of_customers_they_may_see(am, outsider, supervisor, analyst):
    TierPolicy.objects.update(downgrade_after=1)
    mine = CustomerFactory(tier="C", account_manager=am)
    theirs = CustomerFactory(tier="A1", account_manager=outsider)
    bill(mine, 120000)
    bill(theirs, 5000)
    evaluation = engine.evaluate_tiers(period=PERIOD, kind=TierEvaluation.Kind.DRY_RUN)

    as_supervisor = client_for(supervisor).get(f"{EVALUATIONS}{evaluation.pk}/").json()
    as_analyst = client_for(analyst).get(f"{EVALUATIONS}{evaluation.pk}/").json()

    assert [m["customer"] for m in as_supervisor["moves"]] == [mine.pk]
    assert {m["customer"] for m in as_analyst["moves"]} == {mine.pk, theirs.pk}
    assert as_supervisor["kind"] == "dry_run" and as_supervisor["period"] == "2026-06"


@pytest.mark.parametrize(
    "persona, kind, expected",
    [("supervisor", "dry_run", 202), ("supervisor", "evaluation", 202), ("supervisor", "publication", 403),
     ("am", "dry_run", 403), ("analyst", "dry_run", 403), ("agent", "evaluation", 403)],
)  # fmt: skip
def test_who_may_start_which_evaluation(request, persona, kind, expected, eager):
    response = client_for(request.getfixturevalue(persona)).post(EVALUATIONS, {"kind": kind}, format="json")

    assert response.status_code == expected
    assert TierEvaluation.objects.count() == (1 if expected == 202 else 0)


@pytest.mark.parametrize(
    "payload",
    [{}, {"kind": "everything"}, {"kind": "dry_run", "period": "2026-6-15"}, {"kind": "dry_run", "period": "abc"}],
)
def test_starting_an_evaluation_with_bad_input_answers_400(admin_user, payload):
    response = client_for(admin_user).post(EVALUATIONS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]
    assert not TierEvaluation.objects.exists()


def test_evaluations_are_listed_for_admins_supervisors_and_analysts_only(moved, supervisor, analyst, am, outsider):
    evaluation = TierEvaluation.objects.get()

    for user in (supervisor, analyst):
        assert [row["id"] for row in client_for(user).get(EVALUATIONS).json()["results"]] == [evaluation.pk]
    row = client_for(supervisor).get(f"{EVALUATIONS}{evaluation.pk}/").json()
    assert row["customers_written"] == evaluation.customers_written > 0
    for user in (am, outsider):
        assert client_for(user).get(EVALUATIONS).json()["results"] == []
        assert client_for(user).get(f"{EVALUATIONS}{evaluation.pk}/").status_code == 404


# --- customer responses --------------------------------------------------------------------------------------


def test_customer_responses_carry_tier_value_score_and_last_move(moved, am, agent):
    mine, _theirs = moved

    body = client_for(am).get(f"{API}customers/{mine.customer_id}/").json()
    service_view = client_for(agent).get(f"{API}customers/{mine.customer_id}/").json()

    assert body["tier"] == "A1" and body["service_tier"] == "A1" and isinstance(body["value_score"], int)
    assert body["tier_changed_at"] is not None and body["tier_reason"] == mine.reason
    assert Decimal(body["avg_monthly_revenue"]) == Decimal(120000) and Decimal(body["lifetime_value"]) > 0
    # agents serve by tier but see no finance: no revenue, no lifetime value, no value score (it weighs revenue),
    # no reason quoting revenue
    assert service_view["tier"] == "A1"
    assert not {"tier_reason", "avg_monthly_revenue", "lifetime_value", "value_score"} & set(service_view)


def test_a_month_in_the_future_is_refused_on_the_api_and_the_page(admin_user, client):
    bill(CustomerFactory(tier="C"), 120000)
    later = f"{datetime.date.today().year + 4}-01"

    response = client_for(admin_user).post(EVALUATIONS, {"kind": "dry_run", "period": later}, format="json")
    client.force_login(admin_user)
    page = client.post("/customers/tiers/run/", {"kind": "dry_run", "period": later}, follow=True)

    assert response.status_code == 400 and f"{later} is in the future" in str(response.json()["errors"])
    assert f"{later} is in the future" in page.content.decode()
    assert not TierEvaluation.objects.exists()
