"""End-to-end flows in a real browser: sign in, find a customer and open its 360 page, create a
customer through the duplicate warning, and switch the interface to English."""

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from channels.models import Role, User
from customers.models import Customer, Industry, Region, SpendRecord
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory

# The browser sees the real default language (Chinese), like a user on a fresh install.
pytestmark = [pytest.mark.browser, pytest.mark.chinese, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reference_rows():
    """transaction=True flushes the migrations' reference rows after each test: ensure the factories' rows exist."""
    province, _ = Region.objects.get_or_create(
        code="330000", defaults={"name": "浙江省", "name_en": "Zhejiang", "level": Region.Level.PROVINCE}
    )
    city = {"name": "杭州市", "name_en": "Hangzhou", "level": Region.Level.CITY, "parent": province}
    Region.objects.get_or_create(code="330100", defaults=city)
    Industry.objects.get_or_create(code="I", defaults={"name": "信息传输、软件和信息技术服务业", "name_en": "IT"})


@pytest.fixture
def am(reference_rows):
    return UserFactory(username="am", role=Role.ACCOUNT_MANAGER, display_name="张经理")


@pytest.fixture
def signed_in(watched_page, live_server, am):
    page = watched_page
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "am")
    page.fill("input[name=password]", "pw-123456")
    page.click("main form button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/")
    return page


def test_sign_in_search_and_open_the_360_page_with_its_charts(signed_in, live_server, am):
    page = signed_in
    target = CustomerFactory(name="杭州西湖数码科技有限公司", account_manager=am, tier="A1")
    for name in ("杭州钱塘化工有限公司", "杭州萧山纺织有限公司"):
        CustomerFactory(name=name, account_manager=am)
    this_month = datetime.date.today().replace(day=1)
    for category, amount in (("voice", "1200.00"), ("data", "3400.00")):
        SpendRecord.objects.create(customer=target, month=this_month, category=category, amount=Decimal(amount))

    page.click("nav a[href='/customers/']")
    expect(page.locator("#customer-table tbody tr")).to_have_count(3)
    page.click("#customer-table thead a[href*='ordering=name']")  # sort by name: htmx swaps the table
    expect(page).to_have_url(re.compile(r"ordering=name"))
    page.fill("#id_q", "西湖数码")  # htmx replaces the table as the user types, keeping the sort
    expect(page.locator("#customer-table tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/customers/\?q=%E8%A5%BF%E6%B9%96%E6%95%B0%E7%A0%81.*ordering=name"))
    page.click(f"#customer-table a:text('{target.name}')")

    expect(page).to_have_url(f"{live_server.url}{target.get_absolute_url()}")
    expect(page.locator("h1")).to_contain_text(target.name)
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('spend-chart'))"
        " && Chart.getChart(document.getElementById('members-chart'))"
    )
    datasets = page.evaluate("() => Chart.getChart(document.getElementById('spend-chart')).data.datasets.length")
    assert datasets == 2
    assert page.locator("#spend-chart").bounding_box()["height"] > 100


def test_create_a_customer_through_the_duplicate_warning(signed_in, live_server, reference_rows):
    page = signed_in
    other = UserFactory(username="other", role=Role.ACCOUNT_MANAGER, display_name="李经理")
    theirs = CustomerFactory(name="宁波北仑港务集团有限公司", account_manager=other)
    mine = CustomerFactory(name="宁波北仑港务集团股份有限公司", account_manager=User.objects.get(username="am"))

    page.goto(f"{live_server.url}/customers/new/")
    page.locator("input[name=name]").press_sequentially(theirs.name, delay=10)
    hint = page.locator("#duplicate-hint")  # the check-as-you-type hint
    expect(hint).to_contain_text(mine.code)  # the account manager's own: named
    expect(hint.locator(".hidden-duplicates")).to_be_visible()  # another manager's: only counted
    expect(hint).not_to_contain_text(theirs.code)
    page.click("form.form button[type=submit]")

    warning = page.locator("#duplicate-warning")
    expect(warning).to_contain_text(mine.name)
    expect(warning.locator(".hidden-duplicates")).to_be_visible()
    expect(warning).not_to_contain_text("李经理")
    assert Customer.objects.filter(name=theirs.name).count() == 1  # nothing saved yet

    page.check("input[name=confirm_not_duplicate]")
    page.click("form.form button[type=submit]")
    expect(page.locator("h1")).to_contain_text(theirs.name)
    created = Customer.objects.exclude(pk=theirs.pk).get(name=theirs.name)
    expect(page).to_have_url(f"{live_server.url}{created.get_absolute_url()}")
    assert created.account_manager.username == "am"


def test_switch_the_interface_to_english(signed_in, live_server):
    page = signed_in
    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#id_is_strategic option").first).to_have_text("未知")  # Django's own catalogue

    page.click("button[name=language][value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{live_server.url}/customers/")
    expect(page.locator("#id_is_strategic option").first).to_have_text("Unknown")
    expect(page.locator("button[name=language][value=en]")).to_have_attribute("aria-pressed", "true")
