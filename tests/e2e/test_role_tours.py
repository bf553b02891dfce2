"""Every role's tour in a real browser: sign in on the login page, open every entry of the main menu, and
find each page answered, styled in Chinese, and free of script or Content-Security-Policy errors."""

import pytest
from playwright.sync_api import expect

from channels.models import Role, Workstation
from tests.channels.factories import PartnerFactory, TeamFactory, UserFactory
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.e2e.test_browser import reference_rows  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.chinese, pytest.mark.django_db(transaction=True)]


def test_every_role_opens_every_menu_entry(watched_page, live_server, reference_rows):  # noqa: F811
    from django.apps import apps

    from channels import reference

    reference.load(apps, None)  # transaction=True flushed the migrations' channel types: the partner needs one
    reference.load_workstations(apps, None)  # and the workstations: provisioning staff work at one
    workstation = Workstation.objects.get(code="survey")
    desk_roles = (Role.WORKSTATION_EXECUTOR, Role.WORKSTATION_MANAGER)
    page = watched_page
    supervisor = UserFactory(username="sup", role=Role.SUPERVISOR)
    team = TeamFactory(supervisor=supervisor)
    am = UserFactory(username="am", role=Role.ACCOUNT_MANAGER, team=team)
    ContactFactory(customer=CustomerFactory(name="杭州西湖数码科技有限公司", account_manager=am, tier="B1"))
    users = [am, supervisor] + [
        UserFactory(username=role.value, role=role, partner=PartnerFactory() if role == Role.PARTNER else None,
                    workstation=workstation if role in desk_roles else None)
        for role in (Role.PHONE_ACCOUNT_MANAGER, Role.AGENT, Role.DISPATCHER, Role.DATA_STEWARD, Role.ANALYST,
                     Role.PARTNER, *desk_roles)
    ]  # fmt: skip
    opened = {}
    for user in users:
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", "pw-123456")
        page.click("main form button[type=submit]")
        expect(page).to_have_url(f"{live_server.url}/")
        menu = page.locator("nav.mainnav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert menu, user.username
        for path in menu:
            response = page.goto(f"{live_server.url}{path}", wait_until="domcontentloaded")
            assert response.status < 400, (user.username, path, response.status)
            expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
            expect(page.locator("main h1").first).to_be_visible()
        opened[user.username] = menu
    # Each role's menu is its own: the agent captures, the account manager does not see the dispatch queue.
    assert any("capture" in p or "new" in p for p in opened[Role.AGENT.value])
    assert not any("dispatch" in p for p in opened["am"])
    # Provisioning staff have their desk (my steps, the queue); their manager also the board and the assessment.
    desk = {"/orders/provisioning/my-steps/", "/orders/provisioning/queue/"}
    assert desk <= set(opened[Role.WORKSTATION_EXECUTOR.value])
    board = {"/orders/provisioning/", "/orders/provisioning/assessment/"}
    assert desk | board <= set(opened[Role.WORKSTATION_MANAGER.value])
