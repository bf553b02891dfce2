"""End-to-end, with the keyboard only: a caller's number typed on the service desk fills the screen with the
customer; the agent takes a complaint (Alt+N, the fields, Ctrl+Enter), answers it with the category's script
("Use", Enter), assigns it to the billing desk's engineer; the engineer resolves it from "My tickets"; the
customer answers the satisfaction page from the SMS link without logging in, and the ticket is closed.

Labels are looked up through gettext, so the test reads the interface in whatever the catalogue says."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from channels.models import Role
from service.models import FollowUp, KbArticle, KbScriptStep, Ticket, TicketCategory
from service.services import follow_up
from tests.channels.factories import UserFactory
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.orders.factories import WorkstationFactory

pytestmark = [pytest.mark.browser, pytest.mark.chinese, pytest.mark.django_db(transaction=True)]


def t(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def sign_in(page, live_server, username: str) -> None:
    """From the keyboard: the two fields, then Enter."""
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.locator("input[name=username]").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type("pw-123456")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/")


def press_button(page, scope, name: str) -> None:
    """Focus a button and press it with Enter (no mouse)."""
    scope.get_by_role("button", name=name, exact=True).focus()
    page.keyboard.press("Enter")


def test_agent_takes_a_complaint_with_a_script_and_the_customer_answers_the_follow_up(
    watched_page, live_server, reference_rows
):
    page = watched_page
    UserFactory(username="agent", role=Role.AGENT, display_name="王坐席")
    am = UserFactory(username="am", role=Role.ACCOUNT_MANAGER, display_name="李经理")
    billing = WorkstationFactory(code="billing-desk", name="计费支撑")
    UserFactory(username="eng", role=Role.WORKSTATION_EXECUTOR, workstation=billing, display_name="赵工")
    customer = CustomerFactory(account_manager=am, name="宁波北仑港口服务有限公司", tier="B1", service_tier="B1")
    ContactFactory(customer=customer, name="陈先生", mobile="13957133333", mobile_digits="13957133333")
    category = TicketCategory.objects.create(name="计费争议", kind="complaint", queue=billing)
    script = KbArticle.objects.create(title="计费争议应答", body="核对账单", kind="script", category=category)
    KbScriptStep.objects.create(article=script, sequence=1, question="核对账单", answer="您好，我们已核对您的账单")

    sign_in(page, live_server, "agent")
    page.goto(f"{live_server.url}/service/desk/")
    page.keyboard.type("139 5713 3333")  # the number box has the focus
    page.keyboard.press("Enter")
    expect(page.locator("#desk-customer")).to_contain_text("宁波北仑港口服务有限公司")
    expect(page.locator("#desk-customer")).to_contain_text("陈先生")

    page.keyboard.press("Alt+n")  # the new ticket's first field: its kind
    expect(page.locator("#desk-ticket-form select[name=kind]")).to_be_focused()
    page.locator("#desk-ticket-form select[name=kind]").select_option("complaint")
    page.locator("#desk-ticket-form select[name=category]").select_option(str(category.pk))
    page.locator("#desk-ticket-form input[name=subject]").focus()
    page.keyboard.type("月账单多收费用")
    page.keyboard.press("Control+Enter")

    expect(page).to_have_url(re.compile(r"/service/tickets/\d+/$"))
    ticket = Ticket.objects.get()
    assert (ticket.kind, ticket.category, ticket.caller_phone) == ("complaint", category, "13957133333")
    suggestions = page.locator("#kb-suggestions")
    expect(suggestions).to_contain_text("计费争议应答")
    press_button(page, suggestions, t("Use"))
    expect(page.locator("#id_text")).to_have_value("您好，我们已核对您的账单")
    press_button(page, page.locator("#ticket-actions"), t("Send to the customer"))
    expect(page.locator("#timeline")).to_contain_text("您好，我们已核对您的账单")

    page.locator("select[name=to_user]").select_option(label="赵工")
    press_button(page, page.locator("#ticket-actions"), t("Assign"))
    expect(page.locator("#timeline")).to_contain_text("赵工")

    sign_in(page, live_server, "eng")
    page.goto(f"{live_server.url}/service/tickets/mine/")
    page.get_by_role("link", name=ticket.number).focus()
    page.keyboard.press("Enter")
    page.locator("#id_text").focus()
    page.keyboard.type("已退还多收的费用")
    press_button(page, page.locator("#ticket-actions"), t("Resolve"))
    with translation.override("zh-hans"):
        resolved = str(Ticket.Status.RESOLVED.label)
    expect(page.locator("h1 .badge").first).to_have_text(resolved)

    # The customer's SMS link: no login.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/service/survey/{follow_up.token_for(FollowUp.objects.get(ticket=ticket))}/")
    expect(page.locator("#survey")).to_contain_text(ticket.number)
    page.get_by_role("radio", name=t("Satisfied"), exact=True).focus()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(page.locator("#survey-thanks")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED and FollowUp.objects.get(ticket=ticket).answer == "satisfied"
