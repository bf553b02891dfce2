"""The home dashboard: tier distribution, this month's moves and coverage gaps, scoped to the customers
each user may see, every number linking to its list, and a query count that does not grow with rows."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels.models import Role
from customers.models import Customer, TierChange
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)
HOME_QUERY_BUDGET = 15  # 13 + the unread-notifications badge + the supervisor's unassigned pool (listed)


def as_user(client, user):
    client.force_login(user)
    return client


def moved(customer, from_tier, to_tier, *, up, when=NOW):
    TierChange.objects.create(customer=customer, from_tier=from_tier, to_tier=to_tier, is_upgrade=up,
                              source=TierChange.Source.EVALUATION, reason="test", changed_at=when)  # fmt: skip


@pytest.fixture
def portfolio(am, teammate, outsider):
    """am: two A1 (revenue 100k and 50k) and a C; teammate: a B1; outsider: an A1 and an unassigned A1."""
    mine = [
        CustomerFactory(tier="A1", account_manager=am, avg_monthly_revenue=Decimal("100000")),
        CustomerFactory(tier="A1", account_manager=am, avg_monthly_revenue=Decimal("50000")),
        CustomerFactory(tier="C", account_manager=am, avg_monthly_revenue=Decimal("3000")),
    ]
    mate = CustomerFactory(tier="B1", account_manager=teammate, avg_monthly_revenue=Decimal("40000"))
    theirs = CustomerFactory(tier="A1", account_manager=outsider, avg_monthly_revenue=Decimal("900000"))
    orphan = CustomerFactory(tier="A1")
    return {"mine": mine, "mate": mate, "theirs": theirs, "orphan": orphan}


def distribution(response) -> dict[str, tuple[int, Decimal | None]]:
    return {row["tier"]: (row["count"], row["revenue"]) for row in response.context["dashboard"].distribution}


def test_account_manager_dashboard_counts_only_their_portfolio(client, am, portfolio):
    response = as_user(client, am).get(reverse("home"))
    rows = distribution(response)
    assert rows["A1"] == (2, Decimal("150000")) and rows["C"] == (1, Decimal("3000")) and rows["B1"][0] == 0
    assert response.context["total"] == 3


def test_supervisor_dashboard_counts_the_teams_customers_only(client, supervisor, portfolio):
    rows = distribution(as_user(client, supervisor).get(reverse("home")))
    assert rows["A1"] == (2, Decimal("150000")) and rows["B1"] == (1, Decimal("40000"))


def test_analyst_dashboard_counts_every_customer(client, analyst, portfolio):
    rows = distribution(as_user(client, analyst).get(reverse("home")))
    assert rows["A1"][0] == 4 and rows["A1"][1] == Decimal("1050000")


def test_numbers_link_to_the_lists_behind_them(client, supervisor, portfolio):
    text = as_user(client, supervisor).get(reverse("home")).content.decode()
    assert f'href="{reverse("customers:list")}?tier=A1"' in text
    month = timezone.localdate().strftime("%Y-%m")
    assert f'href="{reverse("customers:tier-changes")}?month={month}&amp;direction=up"' in text
    assert f'href="{reverse("customers:tier-changes")}?month={month}&amp;direction=down"' in text
    for anchor in ("uncovered", "over-capacity", "overdue"):
        assert f'href="{reverse("customers:coverage")}#{anchor}"' in text
    assert 'id="dashboard-data"' in text and "js/dashboard.js" in text and "<script>" not in text


@time_machine.travel(NOW, tick=False)
def test_moves_this_month_are_scoped_and_the_matrix_links_each_cell(client, supervisor, analyst, portfolio):
    mine, theirs = portfolio["mine"], portfolio["theirs"]
    moved(mine[0], "B1", "A1", up=True)
    moved(mine[1], "", "A1", up=True)
    moved(mine[2], "B2", "C", up=False)
    moved(theirs, "A2", "A1", up=True)
    moved(portfolio["mate"], "C", "B1", up=True, when=NOW - datetime.timedelta(days=40))  # last month
    response = as_user(client, supervisor).get(reverse("home"))
    moves = response.context["dashboard"].moves
    assert (moves.upgrades, moves.downgrades) == (2, 1)
    matrix = {(source, target): n for source, cells in moves.matrix for target, n in cells if n}
    assert matrix == {("B1", "A1"): 1, ("", "A1"): 1, ("B2", "C"): 1}
    text = response.content.decode()
    assert "?month=2026-11&amp;from_tier=none&amp;to_tier=A1" in text
    # the list behind a number holds exactly the moves counted
    listed = client.get(reverse("customers:tier-changes"), {"month": "2026-11", "direction": "up"})
    assert {c.customer_id for c in listed.context["page"].object_list} == {mine[0].pk, mine[1].pk}
    moves = as_user(client, analyst).get(reverse("home")).context["dashboard"].moves
    assert (moves.upgrades, moves.downgrades) == (3, 1)


def test_coverage_gap_counts_are_scoped_and_match_the_coverage_page(client, supervisor, admin_user, am, portfolio):
    phone = UserFactory(role=Role.PHONE_ACCOUNT_MANAGER, team=am.team)
    CustomerFactory(tier="B2", account_manager=phone)  # the team's gap
    am.capacity = 1
    am.save()
    response = as_user(client, supervisor).get(reverse("home"))
    gaps = response.context["dashboard"].gaps
    assert gaps["uncovered"] == 1 and gaps["over_capacity"] == 1
    page = client.get(reverse("customers:coverage"))
    assert page.context["uncovered"].paginator.count == gaps["uncovered"]
    assert page.context["overdue"].paginator.count == gaps["overdue"]
    gaps = as_user(client, admin_user).get(reverse("home")).context["dashboard"].gaps
    assert gaps["uncovered"] == 2  # and the unassigned A1 nobody sees but the admin


@pytest.mark.parametrize("persona", ["agent", "dispatcher"])
def test_contact_routing_roles_get_start_links_not_the_dashboard(client, request, portfolio, persona):
    response = as_user(client, request.getfixturevalue(persona)).get(reverse("home"))
    assert response.status_code == 200
    assert "dashboard" not in response.context
    assert "dashboard-data" not in response.content.decode() and 'id="start-links"' in response.content.decode()


@pytest.mark.parametrize("rows", [3, 30])
def test_home_query_count_does_not_grow_with_rows(client, supervisor, am, rows):
    for i in range(rows):
        customer = CustomerFactory(tier="A1" if i % 2 else "C", account_manager=am, status=Customer.Status.ACTIVE)
        moved(customer, "B1", customer.tier, up=True, when=timezone.now())
    client = as_user(client, supervisor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert len(queries) <= HOME_QUERY_BUDGET, [q["sql"] for q in queries]
    assert response.context["dashboard"].moves.total == rows
