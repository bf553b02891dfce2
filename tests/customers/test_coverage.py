"""Service coverage: the gaps of the responsibility matrix against hand-built fixtures (exact sets),
capacity, overdue visits by the tier's cycle, the supervisor's one-click assignment, access per role
and query budgets that do not grow with the rows."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels.models import Role
from customers.coverage import selectors, services
from customers.models import AccountManagerAssignment, Customer
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory, VisitFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 20)
COVERAGE_QUERY_BUDGET = 16  # 14 + the unread-notifications badge + the supervisor's unassigned pool (listed)


@pytest.fixture
def phone_am(team, supervisor):
    return UserFactory(username="phone", role=Role.PHONE_ACCOUNT_MANAGER, team=team)


def ids(queryset) -> set[int]:
    return {obj.pk for obj in queryset}


def as_user(client, user):
    client.force_login(user)
    return client


# --- the gaps of the matrix ------------------------------------------------------------------------


def test_uncovered_follows_the_matrix_for_each_tier_and_status(admin_user, am, phone_am):
    # Given customers of every tier, with and without the kind of account manager the matrix asks for
    left = UserFactory(username="gone", role=Role.ACCOUNT_MANAGER, is_active=False)
    gaps = {
        CustomerFactory(tier="A1").pk,  # no account manager
        CustomerFactory(tier="B2", account_manager=phone_am).pk,  # A/B needs a field account manager
        CustomerFactory(tier="A2", account_manager=left).pk,  # the account manager has left
        CustomerFactory(tier="C").pk,  # C needs at least a phone account manager
        CustomerFactory(tier="B1", status=Customer.Status.AT_RISK).pk,
        # a subsidiary served as B2 (inherited) although its own tier is C
        CustomerFactory(tier="C", service_tier="B2", account_manager=phone_am).pk,
    }
    covered = [
        CustomerFactory(tier="B1", account_manager=am),
        CustomerFactory(tier="C", account_manager=phone_am),
        CustomerFactory(tier="C", account_manager=am),
        CustomerFactory(tier="D"),  # partner agents serve D: no account-manager gap
        CustomerFactory(tier=""),  # not tiered
        CustomerFactory(tier="A1", status=Customer.Status.PROSPECT),  # prospects belong to partner agents
        CustomerFactory(tier="A1", status=Customer.Status.CHURNED),
        CustomerFactory(tier="C", service_tier="D"),  # served as D
    ]
    # When the admin asks for the uncovered customers
    found = ids(selectors.uncovered_customers(user=admin_user))
    # Then exactly the gaps are listed, highest tier first
    assert found == gaps
    assert not found & ids(covered)
    tiers = [c.served_tier for c in selectors.uncovered_customers(user=admin_user)]
    assert tiers == sorted(tiers)


def test_matrix_is_read_from_the_data(admin_user, phone_am):
    # Given the admin makes the phone account manager a main channel of class B too
    from channels.models import ChannelResponsibility, ChannelType

    b2 = CustomerFactory(tier="B2", account_manager=phone_am)
    assert b2.pk in ids(selectors.uncovered_customers(user=admin_user))
    ChannelResponsibility.objects.filter(channel_type__code="account_manager", customer_class="B").delete()
    ChannelResponsibility.objects.create(
        channel_type=ChannelType.objects.get(code="phone_account_manager"), customer_class="B"
    )
    # Then a B customer with a phone account manager is covered
    assert b2.pk not in ids(selectors.uncovered_customers(user=admin_user))


def test_supervisor_sees_the_gaps_of_their_teams_only(supervisor, am, phone_am, outsider, admin_user):
    parent = CustomerFactory(tier="A1", account_manager=am)
    subsidiary = CustomerFactory(tier="B1", parent=parent)  # visible through its parent, no manager
    team_phone = CustomerFactory(tier="A2", account_manager=phone_am)
    outsider_phone = UserFactory(role=Role.PHONE_ACCOUNT_MANAGER, team=outsider.team)
    foreign = CustomerFactory(tier="A1", account_manager=outsider_phone)
    orphan = CustomerFactory(tier="A1")  # in nobody's portfolio
    assert ids(selectors.uncovered_customers(user=supervisor)) == {subsidiary.pk, team_phone.pk}
    assert ids(selectors.uncovered_customers(user=admin_user)) == {subsidiary.pk, team_phone.pk, foreign.pk, orphan.pk}
    assert ids(selectors.uncovered_customers(user=outsider)) == set()


def test_capacity_flags_only_managers_with_a_capacity_above_it(supervisor, am, teammate, outsider, admin_user):
    # Given am may serve 2 and serves 3 (plus a merged and a churned record that do not count)
    am.capacity = 2
    am.save()
    CustomerFactory.create_batch(3, account_manager=am)
    survivor = CustomerFactory(account_manager=am, status=Customer.Status.CHURNED)
    CustomerFactory(account_manager=am, status=Customer.Status.MERGED, merged_into=survivor)
    # the teammate has no capacity set: never flagged
    CustomerFactory.create_batch(5, account_manager=teammate)
    # the outsider may serve 1 and serves 2; exactly at capacity is fine for the supervisor
    outsider.capacity = 1
    outsider.save()
    CustomerFactory.create_batch(2, account_manager=outsider)
    supervisor.capacity = 1
    supervisor.save()
    CustomerFactory(account_manager=supervisor)
    # Then
    flagged = list(selectors.over_capacity(user=supervisor))
    assert [(u.pk, u.load, u.over_by) for u in flagged] == [(am.pk, 3, 1)]
    assert ids(selectors.over_capacity(user=admin_user)) == {am.pk, outsider.pk}
    assert ids(selectors.over_capacity(user=teammate)) == set()
    assert ids(selectors.over_capacity(user=am)) == {am.pk}


@time_machine.travel(datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_overdue_visits_follow_each_tiers_cycle(am, admin_user):
    days = datetime.timedelta
    # A1's cycle is 30 days, B1's 90, C's 180 (TierLevel rows)
    a1_recent = CustomerFactory(tier="A1", account_manager=am)
    VisitFactory(customer=a1_recent, visited_by=am, visited_on=TODAY - days(30))  # due today: not overdue
    a1_late = CustomerFactory(tier="A1", account_manager=am)
    VisitFactory(customer=a1_late, visited_by=am, visited_on=TODAY - days(31))
    VisitFactory(customer=a1_late, visited_by=am, visited_on=TODAY - days(400))
    c_ok = CustomerFactory(tier="C", account_manager=am)
    VisitFactory(customer=c_ok, visited_by=am, visited_on=TODAY - days(170), kind="phone")  # a call counts
    b1_never = CustomerFactory(tier="B1", account_manager=am)
    inherited = CustomerFactory(tier="C", service_tier="A1", account_manager=am)  # served as A1
    VisitFactory(customer=inherited, visited_by=am, visited_on=TODAY - days(60))
    CustomerFactory(tier="", account_manager=am)  # not tiered: no cycle
    CustomerFactory(tier="A1", account_manager=am, status=Customer.Status.CHURNED)
    rows = list(selectors.overdue_visits(user=am))
    assert ids(rows) == {a1_late.pk, b1_never.pk, inherited.pk}
    assert rows[0].pk == b1_never.pk and rows[0].last_visited_on is None  # never visited first
    assert {r.pk: r.last_visited_on for r in rows}[a1_late.pk] == TODAY - days(31)


def test_overdue_visits_are_scoped_to_what_the_user_sees(am, teammate):
    mine = CustomerFactory(tier="B1", account_manager=am)
    CustomerFactory(tier="B1", account_manager=teammate)
    assert ids(selectors.overdue_visits(user=am)) == {mine.pk}


# --- the page --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["am", "phone_am", "supervisor", "analyst", "steward", "admin_user"])
def test_coverage_page_opens_for_roles_that_serve_or_oversee(client, request, persona):
    user = request.getfixturevalue(persona)
    response = as_user(client, user).get(reverse("customers:coverage"))
    assert response.status_code == 200
    assert 'id="uncovered"' in response.content.decode()


@pytest.mark.parametrize("persona", ["agent", "dispatcher"])
def test_coverage_page_is_not_found_for_contact_routing_roles(client, request, persona):
    user = request.getfixturevalue(persona)
    assert as_user(client, user).get(reverse("customers:coverage")).status_code == 404


def test_supervisor_page_offers_team_members_with_their_load_and_only_fitting_roles(
    client, supervisor, am, teammate, phone_am, outsider
):
    am.capacity = 10
    am.save()
    parent = CustomerFactory(tier="C", account_manager=am)
    gap = CustomerFactory(name="杭州缺口测试有限公司", tier="A1", parent=parent)
    response = as_user(client, supervisor).get(reverse("customers:coverage"))
    text = response.content.decode()
    assert gap.name in text
    row = next(c for c in response.context["uncovered"].object_list if c.pk == gap.pk)
    offered = {candidate.pk for candidate, _label in row.candidates}
    # an A1 customer needs a field account manager: the phone account manager is not offered
    assert offered == {am.pk, teammate.pk, supervisor.pk}
    assert f"{am} (1 of 10)" in text
    assert reverse("customers:coverage-assign", args=[gap.pk]) in text


def test_account_manager_page_has_no_assignment_form(client, am):
    parent = CustomerFactory(tier="C", account_manager=am)
    CustomerFactory(tier="A1", parent=parent)
    response = as_user(client, am).get(reverse("customers:coverage"))
    assert response.status_code == 200
    assert "coverage-assign" not in response.content.decode()
    assert not response.context["may_assign"]


def test_pages_of_a_gap_list_are_separate_and_bad_page_numbers_show_the_first(client, admin_user):
    CustomerFactory.create_batch(27, tier="A1")
    client = as_user(client, admin_user)
    response = client.get(reverse("customers:coverage"), {"uncovered_page": 2})
    assert len(response.context["uncovered"].object_list) == 2
    response = client.get(reverse("customers:coverage"), {"uncovered_page": "x", "overdue_page": 99})
    assert response.status_code == 200
    assert response.context["uncovered"].number == 1 and response.context["overdue"].number == 1


@pytest.mark.parametrize("rows", [3, 30])
def test_coverage_page_query_count_does_not_grow_with_rows(client, supervisor, am, teammate, phone_am, rows):
    am.capacity = 1
    am.save()
    parent = CustomerFactory(tier="C", account_manager=am)
    for _ in range(rows):
        CustomerFactory(tier="A1", parent=parent)  # uncovered and never visited
        CustomerFactory(tier="B1", account_manager=phone_am)
    client = as_user(client, supervisor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("customers:coverage"))
    assert response.status_code == 200
    assert len(queries) <= COVERAGE_QUERY_BUDGET, [q["sql"] for q in queries]
    assert len(response.context["uncovered"].object_list) == min(2 * rows, 25)


# --- one-click assignment ---------------------------------------------------------------------------


@pytest.fixture
def gap(am):
    parent = CustomerFactory(tier="C", account_manager=am)
    return CustomerFactory(name="宁波缺口测试有限公司", tier="A2", parent=parent)


def test_supervisor_assigns_a_team_member_and_the_history_shows_it(client, supervisor, teammate, gap):
    response = as_user(client, supervisor).post(
        reverse("customers:coverage-assign", args=[gap.pk]), {"account_manager": teammate.pk}
    )
    assert response.status_code == 302 and response.url.endswith("#uncovered")
    gap.refresh_from_db()
    assert gap.account_manager_id == teammate.pk
    assignment = AccountManagerAssignment.objects.get(customer=gap, ended_at__isnull=True)
    assert (assignment.account_manager_id, assignment.assigned_by_id, assignment.reason) == (
        teammate.pk,
        supervisor.pk,
        "Coverage gap",
    )
    assert gap.history.latest().history_change_reason == "Coverage gap"
    assert gap.pk not in ids(selectors.uncovered_customers(user=supervisor))
    # and the 360 page's assignment history shows the new manager
    panel = client.get(reverse("customers:panel", args=[gap.pk, "history"]), headers={"HX-Request": "true"})
    assert [a.account_manager_id for a in panel.context["assignments"]] == [teammate.pk]


@pytest.mark.parametrize("persona", ["am", "teammate", "analyst", "steward", "agent", "outsider"])
def test_other_roles_get_not_found_on_assignment_and_nothing_changes(client, request, teammate, gap, persona):
    user = request.getfixturevalue(persona)
    response = as_user(client, user).post(
        reverse("customers:coverage-assign", args=[gap.pk]), {"account_manager": teammate.pk}
    )
    assert response.status_code == 404
    gap.refresh_from_db()
    assert gap.account_manager_id is None
    assert not AccountManagerAssignment.objects.filter(customer=gap).exists()


def test_supervisor_cannot_assign_a_customer_outside_their_teams(client, supervisor, teammate, outsider):
    outsider_phone = UserFactory(role=Role.PHONE_ACCOUNT_MANAGER, team=outsider.team)
    foreign = CustomerFactory(tier="A1", account_manager=outsider_phone)
    response = as_user(client, supervisor).post(
        reverse("customers:coverage-assign", args=[foreign.pk]), {"account_manager": teammate.pk}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("pick", ["outsider", "phone_am", "nobody"])
def test_supervisor_choosing_a_wrong_person_gets_an_error_and_nothing_changes(client, request, supervisor, gap, pick):
    value = "999999" if pick == "nobody" else request.getfixturevalue(pick).pk
    response = as_user(client, supervisor).post(
        reverse("customers:coverage-assign", args=[gap.pk]), {"account_manager": value}, follow=True
    )
    assert response.status_code == 200
    errors = [str(m) for m in response.context["messages"]]
    assert errors and ("valid choice" in errors[0] or "needs an account manager" in errors[0])
    gap.refresh_from_db()
    assert gap.account_manager_id is None


def test_assignment_only_accepts_post_with_a_csrf_token(supervisor, teammate, gap):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    url = reverse("customers:coverage-assign", args=[gap.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"account_manager": teammate.pk}).status_code == 403
    gap.refresh_from_db()
    assert gap.account_manager_id is None


def test_admin_may_assign_any_active_account_manager(admin_user, outsider):
    orphan = CustomerFactory(tier="B1")
    services.coverage_assign(customer=orphan, account_manager=outsider, by=admin_user)
    orphan.refresh_from_db()
    assert orphan.account_manager_id == outsider.pk
