"""The operations-center pages: the dispatch board (tabs, one-click re-dispatch), "what I passed on",
and the routing-rule dry run. Access per role, the right rows in the right tab, re-dispatch writes a
transfer row, and query counts that do not grow with the rows."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels.models import Role
from opportunities import selectors
from opportunities.models import Opportunity, RoutingRule, RoutingStatus, Stage, Transfer
from tests.channels.factories import PhoneManagerFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.opportunities.factories import OpportunityFactory
from tests.orders.factories import ProductFactory

pytestmark = pytest.mark.django_db

BOARD = reverse("opportunities:board")
PASSED_ON = reverse("opportunities:passed_on")
RULE_TEST = reverse("opportunities:rule_test")


def login(client, user):
    client.force_login(user)
    return client


def ids(rows) -> set[int]:
    return {o.pk for o in rows}


def make_buckets(now):
    """One row of every kind the board sorts, plus rows it must not show."""
    hour = datetime.timedelta(hours=1)
    rows = {
        "queued": OpportunityFactory(routing_status=RoutingStatus.QUEUED),
        "stuck": OpportunityFactory(),  # pending, captured 5 minutes ago: the router missed it
        "fresh": OpportunityFactory(),  # pending, just captured: the router has it
        "waiting": OpportunityFactory(routing_status=RoutingStatus.DISPATCHED, claim_due_at=now + hour),
        "late": OpportunityFactory(routing_status=RoutingStatus.DISPATCHED, claim_due_at=now - hour),
        "escalated": OpportunityFactory(routing_status=RoutingStatus.ESCALATED, claim_due_at=now - 2 * hour),
        "returned": OpportunityFactory(routing_status=RoutingStatus.RETURNED),
    }
    Opportunity.objects.filter(pk=rows["stuck"].pk).update(created_at=now - datetime.timedelta(minutes=5))
    owner = UserFactory()
    rows["claimed"] = OpportunityFactory(routing_status=RoutingStatus.CLAIMED, claimed_by=owner, assigned_to=owner)
    return rows


# --- access --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["am", "supervisor", "agent", "analyst", "steward"])
@pytest.mark.parametrize("url", [BOARD, RULE_TEST])
def test_board_and_rule_tester_are_refused_to_everyone_but_the_operations_center(client, request, persona, url):
    user = request.getfixturevalue(persona)
    assert login(client, user).get(url).status_code == 403


@pytest.mark.parametrize("persona", ["dispatcher", "admin_user"])
@pytest.mark.parametrize("url", [BOARD, RULE_TEST])
def test_dispatchers_and_admins_open_the_board_and_the_rule_tester(client, request, persona, url):
    user = request.getfixturevalue(persona)
    assert login(client, user).get(url).status_code == 200


def test_a_non_dispatcher_cannot_redispatch_by_posting_to_the_board(client, am, teammate):
    opp = OpportunityFactory(routing_status=RoutingStatus.QUEUED)
    response = login(client, am).post(BOARD, {"opportunity": opp.pk, "to_user": teammate.pk})
    assert response.status_code == 403
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.QUEUED and opp.assigned_to is None


# --- tabs ----------------------------------------------------------------------------------------------


def test_each_tab_lists_exactly_its_rows_with_counts(client, dispatcher):
    now = timezone.now()
    rows = make_buckets(now)
    expected = {
        "unrouted": {rows["queued"].pk, rows["stuck"].pk},
        "unclaimed": {rows["waiting"].pk},
        "overdue": {rows["late"].pk, rows["escalated"].pk},
        "returned": {rows["returned"].pk},
    }
    client = login(client, dispatcher)
    for tab, want in expected.items():
        response = client.get(BOARD, {"tab": tab})
        assert ids(response.context["page"].object_list) == want, tab
        counts = {t["key"]: t["count"] for t in response.context["tabs"]}
        assert counts == {key: str(len(value)) for key, value in expected.items()}


def test_a_row_shows_the_reason_of_its_last_transfer(client, dispatcher, am):
    opp = OpportunityFactory(routing_status=RoutingStatus.RETURNED)
    Transfer.objects.create(opportunity=opp, action="routed", at=timezone.now() - datetime.timedelta(hours=2),
                            reason="old reason")  # fmt: skip
    Transfer.objects.create(opportunity=opp, action="returned", by=am, at=timezone.now(), reason="客户不在本区域")
    response = login(client, dispatcher).get(BOARD, {"tab": "returned"})
    assert "客户不在本区域" in response.content.decode()
    assert "old reason" not in response.content.decode()


def test_board_queries_do_not_grow_with_the_rows(client, dispatcher, am, django_assert_max_num_queries):
    def rows(n):
        for _ in range(n):
            opp = OpportunityFactory(
                routing_status=RoutingStatus.RETURNED, customer=CustomerFactory(account_manager=am)
            )
            Transfer.objects.create(opportunity=opp, action="returned", by=am, at=timezone.now(), reason="不能服务")

    client = login(client, dispatcher)
    rows(3)
    with CaptureQueriesContext(connection) as small:
        assert client.get(BOARD, {"tab": "returned"}).status_code == 200
    rows(6)
    with django_assert_max_num_queries(len(small)):
        response = client.get(BOARD, {"tab": "returned"})
    assert len(response.context["page"].object_list) == 9


# --- one-click re-dispatch -----------------------------------------------------------------------------


def test_redispatch_to_a_person_moves_it_and_writes_a_transfer_row(client, dispatcher, am):
    opp = OpportunityFactory(routing_status=RoutingStatus.RETURNED)
    response = login(client, dispatcher).post(
        BOARD, {"opportunity": opp.pk, "to_user": am.pk, "reason": "熟悉该行业", "tab": "returned"}
    )
    assert response.status_code == 302 and response["Location"].endswith("?tab=returned")
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.DISPATCHED and opp.assigned_to == am
    assert opp.claim_due_at is not None
    entry = opp.transfers.get(action=Transfer.Action.DISPATCHED)
    assert (entry.by, entry.to_user, entry.reason) == (dispatcher, am, "熟悉该行业")
    # and it left the returned tab for the awaiting-claim tab
    assert opp.pk not in ids(selectors.board_rows(user=dispatcher, bucket="returned"))
    assert opp.pk in ids(selectors.board_rows(user=dispatcher, bucket="unclaimed"))


def test_redispatch_to_the_account_manager_channel_sends_it_to_the_customers_manager(client, dispatcher, am):
    opp = OpportunityFactory(routing_status=RoutingStatus.QUEUED, customer=CustomerFactory(account_manager=am))
    login(client, dispatcher).post(BOARD, {"opportunity": opp.pk, "to_channel": "account_manager"})
    opp.refresh_from_db()
    assert opp.assigned_to == am and opp.routing_status == RoutingStatus.DISPATCHED
    assert opp.transfers.filter(action=Transfer.Action.DISPATCHED, by=dispatcher, to_user=am).count() == 1


def test_redispatch_to_a_channel_that_cannot_take_it_says_why_and_changes_nothing(client, dispatcher):
    opp = OpportunityFactory(routing_status=RoutingStatus.QUEUED)  # the customer has no account manager
    response = login(client, dispatcher).post(BOARD, {"opportunity": opp.pk, "to_channel": "account_manager"})
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["the customer's account manager is not available"]
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.QUEUED and not opp.transfers.exists()


def test_redispatch_needs_exactly_one_of_channel_or_person(client, dispatcher, am):
    opp = OpportunityFactory(routing_status=RoutingStatus.QUEUED)
    response = login(client, dispatcher).post(
        BOARD, {"opportunity": opp.pk, "to_user": am.pk, "to_channel": "phone_account_manager"}
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Choose a channel or a person (one of the two)."]
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.QUEUED


def test_redispatch_of_a_closed_opportunity_is_a_conflict_message(client, dispatcher, am):
    opp = OpportunityFactory(routing_status=RoutingStatus.QUEUED, kind="lead", stage=Stage.LOST)
    response = login(client, dispatcher).post(BOARD, {"opportunity": opp.pk, "to_user": am.pk})
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["A closed opportunity cannot be dispatched."]


def test_redispatch_of_an_unknown_opportunity_is_404(client, dispatcher, am):
    assert login(client, dispatcher).post(BOARD, {"opportunity": 999999, "to_user": am.pk}).status_code == 404


# --- what I passed on ----------------------------------------------------------------------------------


def test_passed_on_lists_only_what_i_captured_with_where_it_stands(client, agent, am):
    mine = OpportunityFactory(captured_by=agent, routing_status=RoutingStatus.CLAIMED, claimed_by=am, assigned_to=am,
                              claimed_at=timezone.now(), kind="opportunity", stage=Stage.SOLUTION)  # fmt: skip
    queued = OpportunityFactory(captured_by=agent, routing_status=RoutingStatus.QUEUED)
    other = OpportunityFactory()
    response = login(client, agent).get(PASSED_ON)
    assert ids(response.context["page"].object_list) == {mine.pk, queued.pk}
    body = response.content.decode()
    assert str(am) in body and "Claimed" in body and "Solution" in body
    assert other.title not in body
    response = client.get(PASSED_ON, {"status": "queued"})
    assert ids(response.context["page"].object_list) == {queued.pk}


def test_passed_on_is_refused_to_read_only_analysts(client, analyst):
    assert login(client, analyst).get(PASSED_ON).status_code == 403


def test_passed_on_queries_do_not_grow_with_the_rows(client, agent, am, django_assert_max_num_queries):
    def rows(n):
        for _ in range(n):
            OpportunityFactory(captured_by=agent, routing_status=RoutingStatus.DISPATCHED, assigned_to=am)

    client = login(client, agent)
    rows(3)
    with CaptureQueriesContext(connection) as small:
        client.get(PASSED_ON)
    rows(6)
    with django_assert_max_num_queries(len(small)):
        assert len(client.get(PASSED_ON).context["page"].object_list) == 9


# --- routing-rule dry run ------------------------------------------------------------------------------


def test_dry_run_of_an_existing_opportunity_shows_the_trace_and_changes_nothing(client, dispatcher, am):
    opp = OpportunityFactory(customer=CustomerFactory(account_manager=am))
    response = login(client, dispatcher).get(RULE_TEST, {"test": 1, "opportunity": opp.code or opp.pk})
    placement = response.context["placement"]
    assert placement.user == am and placement.rule.priority == 10
    assert placement.trace[0][1] is True
    assert response.context["suggestion"] == {"to_user": am.pk, "label": str(am)}
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.PENDING and not opp.transfers.exists()


def test_dry_run_of_a_described_prospect_walks_the_rules_in_order(client, dispatcher):
    phone = PhoneManagerFactory()
    response = login(client, dispatcher).get(
        RULE_TEST, {"test": 1, "prospect": "on", "region": "330100", "industry": "I", "kind": "lead"}
    )
    placement = response.context["placement"]
    assert [matched for _, matched, _ in placement.trace] == [False, False, True]
    assert placement.trace[0][2] == "the customer has no account manager"
    assert placement.user == phone and placement.rule.priority == 30
    assert response.context["suggestion"] is None  # nothing to dispatch: it is not a real opportunity
    assert Opportunity.objects.count() == 0


def test_dry_run_uses_the_products_entered_for_an_unsaved_opportunity(client, dispatcher, am):
    product = ProductFactory()
    RoutingRule.objects.create(name="专线 → 指定客户经理", priority=1, target="user", target_user=am)
    RoutingRule.objects.filter(priority=1).first().products.set([product])
    client = login(client, dispatcher)
    with_product = client.get(RULE_TEST, {"test": 1, "prospect": "on", "kind": "lead", "products": [product.pk]})
    assert with_product.context["placement"].user == am
    without = client.get(RULE_TEST, {"test": 1, "prospect": "on", "kind": "lead"})
    assert without.context["placement"].trace[0] == ("1. 专线 → 指定客户经理", False, "no product of the rule")


def test_dry_run_of_an_unknown_opportunity_is_a_form_error(client, dispatcher):
    response = login(client, dispatcher).get(RULE_TEST, {"test": 1, "opportunity": "OP99999999"})
    assert response.context["form"].errors == {"opportunity": ["No such opportunity."]}
    assert response.context["placement"] is None


def test_navigation_offers_the_board_only_to_the_operations_center(client, dispatcher, am):
    labels = [item["label"] for item in login(client, dispatcher).get(PASSED_ON).context["nav_items"]]
    assert "Dispatch board" in labels and "Rule tester" in labels
    labels = [item["label"] for item in login(client, am).get(PASSED_ON).context["nav_items"]]
    assert "Dispatch board" not in labels and "Pipeline" in labels and "Passed on" in labels


def test_person_picker_is_serving_staff_only(dispatcher, am, analyst):
    people = dict(selectors.dispatch_people())
    assert am.pk in people and analyst.pk not in people and dispatcher.pk not in people
    assert UserFactory(role=Role.PARTNER).pk not in people  # cached: new staff appear after the cache expires


def test_the_rule_tester_offers_only_products_on_offer(client, dispatcher):
    offered, retired = ProductFactory(name="在售专线"), ProductFactory(name="退市产品", legacy=True)

    page = login(client, dispatcher).get(RULE_TEST).content.decode()

    assert f'value="{offered.pk}"' in page and f'value="{retired.pk}"' not in page
