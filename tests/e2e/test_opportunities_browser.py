"""End-to-end: a call-center agent captures a lead for a customer with an account manager; the router
places it; the account manager signs in, sees it, claims it, qualifies it and moves it a stage on the
kanban. Every page is watched for CSP violations and script errors (tests/e2e/conftest.py)."""

import re

import pytest
from playwright.sync_api import expect

from channels.models import Role
from opportunities import services
from opportunities.models import Opportunity, RoutingStatus, Stage
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.chinese, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-123456")
    page.click("main form button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/")


def test_captured_lead_is_routed_claimed_qualified_and_moved_on_the_kanban(watched_page, live_server, reference_rows):
    from channels.models import ChannelType

    page = watched_page
    am = UserFactory(username="am", role=Role.ACCOUNT_MANAGER, display_name="张经理",
                     channel_type=ChannelType.objects.get(code="account_manager"))  # fmt: skip
    UserFactory(username="agent", role=Role.AGENT, channel_type=ChannelType.objects.get(code="group_hotline"))
    customer = CustomerFactory(name="杭州西湖数码科技有限公司", account_manager=am, tier="B1")

    # The agent captures a lead, choosing the customer from the search.
    sign_in(page, live_server, "agent")
    page.click("nav a[href='/opportunities/new/']")
    page.locator("#id_customer_q").press_sequentially("西湖数码", delay=10)
    choice = page.locator(f"#customer-choices input[name=customer][value='{customer.pk}']")
    expect(choice).to_be_visible()
    choice.check()
    page.select_option("#id_kind", "lead")
    page.fill("#id_title", "园区专线扩容")
    page.fill("#id_contact_name", "王总")
    page.click("#capture-form button[type=submit]")

    expect(page).to_have_url(re.compile(r"/opportunities/\d+/$"))
    opp = Opportunity.objects.get(title="园区专线扩容")
    # Pending, unless a Celery worker on this machine's broker already routed it (the router is that quick).
    assert opp.customer == customer and opp.routing_status in (RoutingStatus.PENDING, RoutingStatus.DISPATCHED)

    # The router runs (the Celery task's body); the detail page's poll notices within seconds.
    services.opportunity_route(opp.pk)  # a no-op when a worker already placed it
    expect(page.locator("#routing-status .badge")).to_have_class(re.compile("routing-dispatched"))

    # The account manager sees it on "my opportunities" and claims it.
    sign_in(page, live_server, "am")
    page.click("nav a[href='/opportunities/']")
    row = page.locator(f"#opp-{opp.pk}")
    expect(row).to_contain_text("园区专线扩容")
    row.locator("button[type=submit]").click()
    expect(page.locator(f"#opp-{opp.pk} form[action$='/claim/']")).to_have_count(0)  # claimed: no button
    opp.refresh_from_db()
    assert opp.routing_status == RoutingStatus.CLAIMED and opp.claimed_by == am

    # Qualify it into an opportunity on the detail page.
    page.click(f"#opp-{opp.pk} a[href='/opportunities/{opp.pk}/']")
    page.select_option("#qualify-form select[name=need_type]", "expansion")
    page.click("#qualify-form button[type=submit]")
    expect(page.locator("#opp-stage")).to_contain_text("10%")
    opp.refresh_from_db()
    assert opp.kind == "opportunity" and opp.stage == Stage.IDENTIFIED

    # Move it a stage on the kanban.
    page.goto(f"{live_server.url}/opportunities/?view=kanban")
    card = page.locator(f"#column-identified #card-{opp.pk}")
    expect(card).to_be_visible()
    card.locator("select[name=stage]").select_option("clarifying")
    card.locator("button[type=submit]").click()
    expect(page.locator(f"#column-clarifying #card-{opp.pk}")).to_be_visible()
    opp.refresh_from_db()
    assert opp.stage == Stage.CLARIFYING
    expect(page.locator("#timeline")).to_have_count(0)  # still the kanban, not the detail
