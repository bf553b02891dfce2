"""Pages of leads and opportunities: my opportunities (list, kanban), capture, detail with timeline and
actions, notifications and the customer 360 panel."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels.models import Notification, Role
from customers.models import Customer
from opportunities import services
from opportunities.models import (
    Activity,
    CloseReason,
    Kind,
    Opportunity,
    RoutingStatus,
    Stage,
    StageChange,
    Transfer,
)
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.customers.panels_support import page_with_panels
from tests.orders.factories import ProductFactory

pytestmark = pytest.mark.django_db


def as_user(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def mine(am):
    return CustomerFactory(name="杭州西湖数码科技有限公司", account_manager=am, tier="B1")


def routed(customer, *, by, kind=Kind.LEAD, title="专线扩容需求", **fields) -> Opportunity:
    """Captured through the service and placed by the router (the default rules)."""
    if kind == Kind.OPPORTUNITY and "description" not in fields:
        fields["description"] = "需要 100M 专线"
    opp = services.opportunity_capture(by=by, kind=kind, title=title, customer=customer, **fields)
    services.opportunity_route(opp.pk)
    opp.refresh_from_db()
    return opp


def claimed(customer, *, by, owner, kind=Kind.OPPORTUNITY, **fields) -> Opportunity:
    opp = routed(customer, by=by, kind=kind, **fields)
    return services.opportunity_claim(pk=opp.pk, by=owner)


# --- my opportunities --------------------------------------------------------------------------------


def test_my_opportunities_lists_what_waits_for_my_claim_with_a_claim_button_and_due_time(client, am, mine, agent):
    opp = routed(mine, by=agent)
    assert opp.routing_status == RoutingStatus.DISPATCHED and opp.assigned_to == am

    page = text(as_user(client, am).get(reverse("opportunities:list")))

    assert opp.title in page
    assert reverse("opportunities:claim", args=[opp.pk]) in page
    assert timezone.localtime(opp.claim_due_at).strftime("%Y-%m-%d %H:%M") in page
    assert "overdue-note" not in page


def test_an_overdue_claim_is_marked_red(client, am, mine, agent):
    opp = routed(mine, by=agent)
    Opportunity.objects.filter(pk=opp.pk).update(claim_due_at=timezone.now() - datetime.timedelta(hours=1))

    page = text(as_user(client, am).get(reverse("opportunities:list")))

    assert 'class="overdue"' in page and "overdue-note" in page


def test_my_opportunities_does_not_show_a_colleagues_work(client, am, teammate, agent):
    theirs = routed(CustomerFactory(account_manager=teammate), by=agent, title="同事的商机")

    page = text(as_user(client, am).get(reverse("opportunities:list")))

    assert theirs.title not in page


def test_supervisor_sees_the_teams_opportunities(client, supervisor, am, mine, agent):
    opp = routed(mine, by=agent)

    page = text(as_user(client, supervisor).get(reverse("opportunities:list")))

    assert opp.title in page


def test_list_filters_by_kind_and_customer_search(client, am, mine, agent):
    lead = routed(mine, by=agent, title="线索甲")
    other = routed(CustomerFactory(name="宁波北仑港务集团有限公司", account_manager=am), by=agent, title="线索乙")
    services.opportunity_claim(pk=lead.pk, by=am)
    services.opportunity_qualify(pk=lead.pk, by=am, need_type="expansion")
    client = as_user(client, am)

    by_kind = text(client.get(reverse("opportunities:list"), {"kind": "opportunity"}))
    by_customer = text(client.get(reverse("opportunities:list"), {"q": "北仑港务"}))

    assert "线索甲" in by_kind and "线索乙" not in by_kind
    assert "线索乙" in by_customer and "线索甲" not in by_customer
    assert other.pk


def test_kanban_shows_a_column_per_open_stage_and_the_leads(client, am, mine, agent):
    lead = routed(mine, by=agent, title="线索一")
    opp = claimed(mine, by=agent, owner=am, title="商机一")

    response = as_user(client, am).get(reverse("opportunities:list"), {"view": "kanban"})
    page = text(response)

    keys = [c.key for c in response.context["columns"]]
    assert keys == ["lead", "identified", "clarifying", "solution", "bidding", "negotiating", "signed"]
    lead_column = response.context["columns"][0]
    identified = response.context["columns"][1]
    assert [c.pk for c in lead_column.cards] == [lead.pk]
    assert [c.pk for c in identified.cards] == [opp.pk]
    assert reverse("opportunities:stage", args=[opp.pk]) in page  # the card's move form


def test_kanban_and_detail_move_forms_offer_the_next_stage_forward_first(client, am, mine, agent):
    # Given an opportunity in "clarifying", which may go back to "identified" or on to "solution" or "bidding"
    opp = claimed(mine, by=agent, owner=am)
    services.opportunity_move_stage(pk=opp.pk, by=am, stage=Stage.CLARIFYING)
    client = as_user(client, am)

    # When the kanban card and the detail page show their move forms
    kanban = text(client.get(reverse("opportunities:list"), {"view": "kanban"}))
    detail = client.get(reverse("opportunities:detail", args=[opp.pk]))

    # Then one click moves forward: the selected option is the next stage, not the previous one
    card = re.search(rf'<select name="stage" id="move-{opp.pk}">(.*?)</select>', kanban, re.S).group(1)
    assert re.findall(r'<option value="(\w+)" selected>', card) == ["solution"]
    assert detail.context["stage_form"]["stage"].value() == "solution"
    assert re.search(r'<option value="solution" selected>', text(detail))


def test_a_signed_card_offers_no_one_click_move_back(client, am, mine, agent):
    opp = claimed(mine, by=agent, owner=am)
    Opportunity.objects.filter(pk=opp.pk).update(stage=Stage.SIGNED)  # signed: only a step back or a close

    kanban = text(as_user(client, am).get(reverse("opportunities:list"), {"view": "kanban"}))

    assert f'id="card-{opp.pk}"' in kanban and f'id="move-{opp.pk}"' not in kanban


def test_timeline_says_whole_days_in_the_previous_stage(client, am, mine, agent):
    opp = claimed(mine, by=agent, owner=am)
    services.opportunity_move_stage(pk=opp.pk, by=am, stage=Stage.CLARIFYING)
    services.opportunity_move_stage(pk=opp.pk, by=am, stage=Stage.SOLUTION)
    StageChange.objects.filter(opportunity=opp, to_stage=Stage.CLARIFYING).update(days_in_stage="2.60")
    StageChange.objects.filter(opportunity=opp, to_stage=Stage.SOLUTION).update(days_in_stage="0.00")

    page = text(as_user(client, am).get(reverse("opportunities:detail", args=[opp.pk])))

    assert "3 days in the previous stage" in page and "less than a day in the previous stage" in page
    assert "2.60" not in page and "0.00" not in page


def _fill(am, agent, n: int) -> None:
    for i in range(n):
        customer = CustomerFactory(account_manager=am)
        if i % 2:
            claimed(customer, by=agent, owner=am, title=f"商机{i}", expected_value=1000)
        else:
            routed(customer, by=agent, title=f"线索{i}")


@pytest.mark.parametrize("view", ["list", "kanban"])
def test_list_and_kanban_query_counts_do_not_grow_with_rows(client, am, agent, view, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(client, am)
    params = {"view": "kanban"} if view == "kanban" else {}
    _fill(am, agent, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("opportunities:list"), params).status_code == 200
    _fill(am, agent, 12)
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("opportunities:list"), params)
    assert response.content.decode().count("/claim/") >= 6


# --- capture -----------------------------------------------------------------------------------------


def test_capture_page_renders_for_every_role_that_may_capture(client, am, agent, dispatcher, supervisor):
    for user in (am, agent, dispatcher, supervisor):
        response = as_user(client, user).get(reverse("opportunities:capture"))
        assert response.status_code == 200, user.role


def test_analyst_may_not_capture(client, analyst):
    assert as_user(client, analyst).get(reverse("opportunities:capture")).status_code == 403


def test_capture_for_an_existing_customer_redirects_to_the_detail_showing_routing_pending(
    client, agent, mine, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    client = as_user(client, agent)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("opportunities:capture"), {
            "kind": "opportunity", "title": "云专线", "customer": mine.pk, "products": [product.pk],
            "expected_value": "5000", "contact_name": "王总", "need_type": "new",
        })  # fmt: skip

    opp = Opportunity.objects.get(title="云专线")
    assert response.status_code == 302 and response.url == reverse("opportunities:detail", args=[opp.pk])
    assert opp.customer == mine and opp.captured_by == agent and list(opp.products.all()) == [product]
    assert opp.contact_channel == agent.channel_type
    detail = text(client.get(response.url))
    assert "Awaiting routing" in detail and "every 2s" in detail


def test_capture_prefills_the_customer_from_the_360_link(client, am, mine):
    page = text(as_user(client, am).get(reverse("opportunities:capture"), {"customer": mine.pk}))

    assert f'value="{mine.pk}" checked' in page


def test_capture_refuses_a_customer_the_user_may_not_see(client, outsider, mine):
    response = as_user(client, outsider).post(
        reverse("opportunities:capture"), {"kind": "lead", "title": "x", "customer": mine.pk}
    )

    assert response.status_code == 400
    assert not Opportunity.objects.exists()


def test_capture_for_a_prospect_warns_of_duplicates_and_confirm_creates(client, agent, mine):
    client = as_user(client, agent)
    data = {"kind": "lead", "title": "新客户需求", "prospect_name": "杭州西湖数码科技有限公司", "prospect_phone": ""}

    warned = client.post(reverse("opportunities:capture"), data)
    assert warned.status_code == 400
    assert 'id="duplicate-warning"' in text(warned) and mine.name in text(warned)
    assert not Opportunity.objects.exists()

    confirmed = client.post(reverse("opportunities:capture"), {**data, "confirm_not_duplicate": "on"})
    opp = Opportunity.objects.get()
    assert confirmed.status_code == 302
    assert opp.customer != mine and opp.customer.status == Customer.Status.PROSPECT


def test_choosing_a_duplicate_candidate_uses_that_customer(client, agent, mine):
    client = as_user(client, agent)
    data = {"kind": "lead", "title": "新客户需求", "prospect_name": "杭州西湖数码科技有限公司"}

    client.post(reverse("opportunities:capture"), data)
    response = client.post(reverse("opportunities:capture"), {**data, "customer": mine.pk})

    assert response.status_code == 302
    assert Opportunity.objects.get().customer == mine
    assert Customer.objects.count() == 1


def test_capture_customer_search_lists_only_visible_customers(client, am, mine, outsider):
    CustomerFactory(name="杭州西湖文旅集团有限公司", account_manager=outsider)

    page = text(as_user(client, am).get(reverse("opportunities:customer_search"), {"customer_q": "杭州西湖"}))

    assert mine.name in page and "西湖文旅" not in page


# --- detail and actions ------------------------------------------------------------------------------


def test_detail_shows_the_elements_and_the_routing(client, am, mine, agent):
    opp = routed(mine, by=agent, key_person="李总", informatisation="自建机房", need_type="expansion")

    page = text(as_user(client, am).get(reverse("opportunities:detail", args=[opp.pk])))

    assert opp.code in page and "李总" in page and "自建机房" in page
    assert "Sent, awaiting claim" in page and 'id="claim-button"' in page
    assert "Routed by rule" in page and "Captured" in page  # the timeline


def test_outsider_gets_404_on_the_detail_and_on_every_action(client, outsider, mine, agent, am):
    opp = routed(mine, by=agent)
    client = as_user(client, outsider)

    assert client.get(reverse("opportunities:detail", args=[opp.pk])).status_code == 404
    for action in ("claim", "return", "stage", "qualify", "close", "activity", "dispatch"):
        response = client.post(reverse(f"opportunities:{action}", args=[opp.pk]), {"reason": "x", "stage": "solution"})
        assert response.status_code == 404, action
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.DISPATCHED and opp.assigned_to == am


def test_an_am_cannot_claim_what_was_not_sent_to_them(client, supervisor, am, mine, agent):
    """The supervisor sees the team's opportunity, but it was sent to the account manager."""
    opp = routed(mine, by=agent)
    client = as_user(client, supervisor)

    page = text(client.get(reverse("opportunities:detail", args=[opp.pk])))
    response = client.post(reverse("opportunities:claim", args=[opp.pk]))

    assert 'id="claim-button"' not in page
    assert response.status_code == 403
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.DISPATCHED


def test_get_on_an_action_url_changes_nothing(client, am, mine, agent):
    opp = routed(mine, by=agent)

    response = as_user(client, am).get(reverse("opportunities:claim", args=[opp.pk]))

    assert response.status_code == 405
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.DISPATCHED


def test_actions_need_the_csrf_token(am, mine, agent):
    from django.test import Client

    opp = routed(mine, by=agent)
    client = Client(enforce_csrf_checks=True)
    client.force_login(am)

    response = client.post(reverse("opportunities:claim", args=[opp.pk]))

    assert response.status_code == 403
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.DISPATCHED


def test_claim_qualify_stage_activity_and_close_through_the_pages(client, am, mine, agent):
    opp = routed(mine, by=agent, title="园区网络")
    product = ProductFactory()
    client = as_user(client, am)
    url = reverse("opportunities:detail", args=[opp.pk])

    assert client.post(reverse("opportunities:claim", args=[opp.pk])).status_code == 302
    assert client.post(reverse("opportunities:qualify", args=[opp.pk]), {"products": [product.pk]}).url == url
    assert client.post(reverse("opportunities:stage", args=[opp.pk]), {"stage": "solution"}).url == url
    assert client.post(reverse("opportunities:activity", args=[opp.pk]), {
        "kind": "visit", "notes": "现场勘查完成", "next_action": "提交方案", "next_action_due": "2099-01-10",
    }).url == url  # fmt: skip
    lost = CloseReason.objects.get(code="price")
    assert client.post(reverse("opportunities:close", args=[opp.pk]), {"result": "lost", "reason": lost.pk}).url == url

    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.CLAIMED and opp.claimed_by == am
    assert opp.kind == Kind.OPPORTUNITY and opp.stage == Stage.LOST and opp.close_reason == lost
    assert opp.next_action == "提交方案"
    assert Activity.objects.filter(opportunity=opp, notes="现场勘查完成").exists()
    page = text(client.get(url))
    assert "现场勘查完成" in page and "Claimed" in page and "Solution" in page and "Lost" in page
    timeline = page[page.index('id="timeline"') :]
    assert timeline.index("Lost") < timeline.index("现场勘查完成") < timeline.index("Claimed")  # newest first


def test_a_move_to_a_stage_not_allowed_is_a_form_error_not_a_500(client, am, mine, agent):
    opp = claimed(mine, by=agent, owner=am)

    response = as_user(client, am).post(reverse("opportunities:stage", args=[opp.pk]), {"stage": "signed"})

    assert response.status_code == 400
    assert StageChange.objects.filter(opportunity=opp).count() == 1


def test_close_as_lost_without_a_reason_shows_the_services_error(client, am, mine, agent):
    opp = claimed(mine, by=agent, owner=am)

    response = as_user(client, am).post(reverse("opportunities:close", args=[opp.pk]), {"result": "lost"})

    assert response.status_code == 400 and "Choose the reason." in text(response)
    opp.refresh_from_db()
    assert opp.stage == Stage.IDENTIFIED


def test_a_second_claim_gets_a_clear_conflict(client, am, mine, agent):
    opp = routed(mine, by=agent)
    services.opportunity_claim(pk=opp.pk, by=am)

    response = as_user(client, am).post(reverse("opportunities:claim", args=[opp.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 409
    assert "Already claimed" in text(response) or "not waiting for a claim" in text(response)


def test_return_with_a_reason_goes_back_to_the_operations_center(client, am, mine, agent):
    opp = routed(mine, by=agent)
    client = as_user(client, am)

    empty = client.post(reverse("opportunities:return", args=[opp.pk]), {"reason": ""})
    done = client.post(reverse("opportunities:return", args=[opp.pk]), {"reason": "不在服务区域"})

    assert empty.status_code == 400 and done.status_code == 302
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.RETURNED
    assert Transfer.objects.filter(opportunity=opp, action="returned", reason="不在服务区域").exists()


def test_dispatcher_dispatches_to_a_person_and_others_may_not(client, dispatcher, am, teammate, mine, agent):
    opp = routed(mine, by=agent)
    services.opportunity_return(pk=opp.pk, by=am, reason="休假")

    refused = as_user(client, am).post(reverse("opportunities:dispatch", args=[opp.pk]), {"to_user": "mate"})
    page = text(as_user(client, dispatcher).get(reverse("opportunities:detail", args=[opp.pk])))
    done = client.post(reverse("opportunities:dispatch", args=[opp.pk]), {"to_user": "mate", "reason": "代班"})

    assert refused.status_code == 403 and 'id="dispatch-form"' in page and done.status_code == 302
    opp.refresh_from_db()
    assert opp.assigned_to == teammate and opp.routing_status == RoutingStatus.DISPATCHED


# --- notifications -----------------------------------------------------------------------------------


def test_notifications_page_lists_unread_first_and_marks_all_read(client, am, mine, agent):
    routed(mine, by=agent, title="新线索")  # the router notifies the receiver
    old = Notification.objects.create(recipient=am, kind="x", title="旧通知", read_at=timezone.now())
    client = as_user(client, am)

    page = text(client.get(reverse("channels:notifications")))
    assert page.index("新线索") < page.index("旧通知")
    assert 'id="unread-badge"' in page

    response = client.post(reverse("channels:notifications_read"))

    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=am, read_at__isnull=True).exists()
    assert old.pk and 'id="unread-badge"' not in text(client.get(reverse("channels:notifications")))


def test_navigation_fits_the_role(client, am, analyst, agent):
    am_page = text(as_user(client, am).get(reverse("home")))
    analyst_page = text(as_user(client, analyst).get(reverse("home")))
    agent_page = text(as_user(client, agent).get(reverse("home")))

    assert reverse("opportunities:list") in am_page and reverse("opportunities:capture") in am_page
    assert reverse("opportunities:capture") not in analyst_page
    assert (
        reverse("opportunities:capture") in agent_page and f'href="{reverse("opportunities:list")}"' not in agent_page
    )


# --- the 360 panel -----------------------------------------------------------------------------------


def test_the_360_panel_lists_open_opportunities_and_links_capture(client, am, mine, agent):
    opp = routed(mine, by=agent, title="360商机")

    page = page_with_panels(as_user(client, am), mine)

    assert 'id="panel-opportunities"' in page and "360商机" in page
    assert reverse("opportunities:detail", args=[opp.pk]) in page
    assert f"{reverse('opportunities:capture')}?customer={mine.pk}" in page


def test_the_360_panel_runs_the_same_queries_for_one_or_twelve_opportunities(client, am, mine, agent):
    routed(mine, by=agent, title="第一个")
    url = reverse("customers:panel", args=[mine.pk, "opportunities"])
    client = as_user(client, am)
    client.get(url, headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as one:
        client.get(url, headers={"HX-Request": "true"})
    for n in range(11):
        routed(mine, by=agent, title=f"商机{n}")
    with CaptureQueriesContext(connection) as twelve:
        page = text(client.get(url, headers={"HX-Request": "true"}))
    assert len(twelve) == len(one) and "商机10" in page


def test_partner_staff_sees_the_pages(client, agent):
    from tests.channels.factories import PartnerFactory

    partner = PartnerFactory()
    staff = UserFactory(role=Role.PARTNER, partner=partner)
    prospect = CustomerFactory(status="prospect", tier="")
    opp = routed(prospect, by=agent)

    assert opp.assigned_partner == partner
    page = text(as_user(client, staff).get(reverse("opportunities:list")))
    assert opp.title in page and reverse("opportunities:claim", args=[opp.pk]) in page


def test_capture_shows_prospect_and_form_errors_in_one_answer(client, agent):
    """A missing title and a malformed prospect phone are both reported on the first submit."""
    response = as_user(client, agent).post(
        reverse("opportunities:capture"),
        {"kind": "lead", "title": "", "prospect_name": "杭州西湖数码科技有限公司", "prospect_phone": "12ab"},
    )

    form = response.context["form"]
    assert response.status_code == 400
    assert form.has_error("title") and form.has_error("prospect_phone")
    assert not Customer.objects.exists()
