"""Pipeline analytics on a small known dataset: weighted sums by stage, team and close month,
conversion by capture month, average days per stage, claim on-time rate, win/loss reasons; the
visibility of the rows per role; the list behind a number; a fixed number of queries."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opportunities import pipeline as analytics
from opportunities.models import CloseReason, Opportunity, RoutingStatus, Stage, StageChange
from tests.customers.factories import CustomerFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

PIPELINE = reverse("opportunities:pipeline")
TZ = datetime.timezone(datetime.timedelta(hours=8))
OCTOBER = datetime.datetime(2026, 10, 5, 12, tzinfo=TZ)
NOVEMBER = datetime.datetime(2026, 11, 5, 12, tzinfo=TZ)


def make(owner, *, stage="", value=None, probability=None, close=None, on_time=None, captured=NOVEMBER, **extra):
    """An opportunity claimed by `owner` on a customer of theirs, captured at `captured`."""
    kind = "opportunity" if stage else "lead"
    claimed = on_time is not None
    opp = OpportunityFactory(
        kind=kind, stage=stage, customer=CustomerFactory(account_manager=owner), expected_value=value,
        probability=probability, expected_close=close, claimed_on_time=on_time,
        qualified_at=captured if kind == "opportunity" else None,
        routing_status=RoutingStatus.CLAIMED if claimed else RoutingStatus.DISPATCHED,
        claimed_by=owner if claimed else None, assigned_to=owner, claimed_at=captured if claimed else None, **extra,
    )  # fmt: skip
    Opportunity.objects.filter(pk=opp.pk).update(created_at=captured)
    return opp


def days(opp, from_stage, to_stage, n):
    StageChange.objects.create(
        opportunity=opp, from_stage=from_stage, to_stage=to_stage, days_in_stage=Decimal(n), at=timezone.now()
    )


@pytest.fixture
def dataset(am, outsider):
    """am's pipeline (team 金融行业组) and one big opportunity of an outsider (政务行业组)."""
    won_reason = CloseReason.objects.get(code="relationship")
    lost_reason = CloseReason.objects.get(code="competitor")
    rows = {
        "bid": make(am, stage=Stage.BIDDING, value=Decimal("1000"), probability=60,
                    close=datetime.date(2026, 12, 15), on_time=True, captured=OCTOBER),
        "new": make(am, stage=Stage.IDENTIFIED, value=Decimal("500"), probability=10,
                    close=datetime.date(2027, 1, 10), on_time=False, captured=OCTOBER),
        "won": make(am, stage=Stage.WON, value=Decimal("2000"), probability=100, on_time=True,
                    close_reason=won_reason),
        "lost": make(am, stage=Stage.LOST, value=Decimal("800"), probability=0, on_time=True,
                     close_reason=lost_reason, competitor="中国联通"),
        "lead": make(am),
        "theirs": make(outsider, stage=Stage.NEGOTIATING, value=Decimal("10000"), probability=75,
                       close=datetime.date(2026, 12, 1), on_time=False),
    }  # fmt: skip
    days(rows["bid"], Stage.IDENTIFIED, Stage.CLARIFYING, 2)
    days(rows["bid"], Stage.CLARIFYING, Stage.BIDDING, 4)
    days(rows["won"], Stage.IDENTIFIED, Stage.SOLUTION, 4)
    days(rows["theirs"], Stage.IDENTIFIED, Stage.SOLUTION, 100)
    return rows


def figures(user, **filters):
    return analytics.pipeline(user=user, filters=analytics.Filters(**filters))


def test_weighted_pipeline_by_stage_team_and_close_month(am, team, dataset):
    result = figures(am)
    assert result.totals["weighted"] == Decimal("650.00")  # 1000 × 60% + 500 × 10%
    assert result.totals["open_value"] == Decimal("1500.00")
    assert result.totals["won_count"] == 1 and result.totals["won_value"] == Decimal("2000.00")
    assert [(r["stage"], r["count"], r["weighted"]) for r in result.by_stage] == [
        ("identified", 1, Decimal("50.00")),
        ("bidding", 1, Decimal("600.00")),
    ]
    assert [(r["team"], r["label"], r["weighted"]) for r in result.by_team] == [
        (team.pk, "金融行业组", Decimal("650.00"))
    ]
    assert [(r["label"], r["weighted"]) for r in result.by_month] == [
        ("2026-12", Decimal("600.00")),
        ("2027-01", Decimal("50.00")),
    ]


def test_conversion_by_capture_month(am, dataset):
    result = figures(am)
    assert [(c["label"], c["captured"], c["qualified"], c["won"]) for c in result.cohorts] == [
        ("2026-10", 2, 2, 0),
        ("2026-11", 3, 2, 1),
    ]
    assert result.cohorts[1]["qualified_rate"] == 66.7 and result.cohorts[1]["won_rate"] == 50.0
    # 4 of 5 captured became opportunities; 1 of those 4 was won
    assert result.conversion == {"captured": 5, "qualified": 4, "won": 1, "qualified_rate": 80.0, "won_rate": 25.0}


def test_average_days_per_stage_and_claim_on_time_rate(am, dataset):
    result = figures(am)
    assert [(r["stage"], r["moves"], r["avg"]) for r in result.stage_days] == [
        ("identified", 2, Decimal("3.0")),
        ("clarifying", 1, Decimal("4.0")),
    ]
    assert (result.totals["on_time"], result.totals["claimed"], result.totals["on_time_rate"]) == (3, 4, 75.0)


def test_win_and_loss_reasons_with_competitors(am, dataset):
    result = figures(am)
    assert [(r["result"], r["label"], r["count"], r["value"]) for r in result.reasons] == [
        ("won", "Customer relationship", 1, Decimal("2000.00")),
        ("lost", "Competitor", 1, Decimal("800.00")),
    ]
    assert result.competitors == [{"name": "中国联通", "count": 1, "value": Decimal("800.00")}]


def test_an_account_managers_pipeline_excludes_other_peoples_opportunities(am, analyst, supervisor, outsider,
                                                                           other_team, dataset):  # fmt: skip
    assert figures(am).totals["weighted"] == Decimal("650.00")
    assert figures(supervisor).totals["weighted"] == Decimal("650.00")  # the team's, not the other team's
    assert figures(outsider).totals["weighted"] == Decimal("7500.00")
    everything = figures(analyst)
    assert everything.totals["weighted"] == Decimal("8150.00")
    assert {r["label"]: r["weighted"] for r in everything.by_team} == {
        "金融行业组": Decimal("650.00"), "政务行业组": Decimal("7500.00"),
    }  # fmt: skip
    # the outsider's 100 days in a stage do not reach the account manager's average
    assert figures(am).stage_days[0]["avg"] == Decimal("3.0")
    assert figures(analyst).stage_days[0]["avg"] == Decimal("35.3")  # (2 + 4 + 100) / 3


def test_filters_by_team_and_capture_month(analyst, other_team, dataset):
    assert figures(analyst, team=other_team.pk).totals["weighted"] == Decimal("7500.00")
    november = figures(analyst, month_from=datetime.date(2026, 11, 1), month_to=datetime.date(2026, 11, 1))
    assert november.conversion["captured"] == 4  # won, lost, lead and the outsider's
    assert november.totals["weighted"] == Decimal("7500.00")


def test_page_shows_the_numbers_and_the_list_behind_a_bar(client, am, dataset):
    client.force_login(am)
    response = client.get(PIPELINE)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="pipeline-data"' in body and "js/pipeline.js" in body
    assert response.context["chart"]["stage"]["weighted"] == [50.0, 600.0]
    assert response.context["drill"] is None
    response = client.get(PIPELINE, {"stage": "bidding"})
    assert {o.pk for o in response.context["drill"].object_list} == {dataset["bid"].pk}
    response = client.get(PIPELINE, {"competitor": "中国联通"})
    assert {o.pk for o in response.context["drill"].object_list} == {dataset["lost"].pk}
    response = client.get(PIPELINE, {"cohort": "2026-11", "outcome": "won"})
    assert {o.pk for o in response.context["drill"].object_list} == {dataset["won"].pk}
    # the outsider's opportunity never shows in the account manager's list
    response = client.get(PIPELINE, {"stage": "negotiating"})
    assert list(response.context["drill"].object_list) == []


def test_a_bad_month_is_a_form_error_not_a_500(client, analyst, dataset):
    client.force_login(analyst)
    response = client.get(PIPELINE, {"month_from": "2026-13"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"month_from": ["Enter a month as YYYY-MM."]}
    assert response.context["totals"]["weighted"] == Decimal("8150.00")  # unfiltered


@pytest.mark.parametrize("persona", ["agent", "steward"])
def test_roles_without_a_pipeline_are_refused(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(PIPELINE).status_code == 403


def test_pipeline_queries_do_not_grow_with_the_rows(client, analyst, am, outsider, django_assert_max_num_queries):
    def rows():
        make(am, stage=Stage.BIDDING, value=Decimal("100"), probability=60, on_time=True)
        make(outsider, stage=Stage.LOST, value=Decimal("100"), probability=0, on_time=False,
             close_reason=CloseReason.objects.get(code="price"), competitor="电信")  # fmt: skip
        make(am)

    client.force_login(analyst)
    rows()
    with CaptureQueriesContext(connection) as small:
        client.get(PIPELINE, {"open": "1"})
    rows()
    rows()
    with django_assert_max_num_queries(len(small)):
        response = client.get(PIPELINE, {"open": "1"})
    assert response.context["totals"]["captured"] == 9
