"""End-to-end: an account manager enters a data leased line in the order wizard; provisioning opens its work
order; the workstations' staff claim and complete each step on their queue and work-order pages (one step is
sent back and redone); the account manager follows the current step on the customer's 360 page and the order
page, and finds the subscription with its service id on the 360 page after the customer's acceptance.

Labels are looked up through gettext, so the test reads the interface in whatever the catalogue says."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from channels.models import Role, Workstation
from orders.models import Agreement, AgreementItem, Order, Product, Subscription
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.orders.factories import ResourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.chinese, pytest.mark.django_db(transaction=True)]

# The workstations of a leased line's steps without construction (orders.reference_provisioning): resource check
# 资源核查, survey 现场勘察, design 方案设计, data build 数据制作, test 测试, acceptance 客户验收/交维.
WORKSTATIONS = ("resource_check", "survey", "design", "data_build", "test", "acceptance")


def t(message: str) -> str:
    """What the Chinese interface shows for `message` (the English msgid until the lead translates it)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def sign_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-123456")
    page.click("main form button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/")


def menu(page, label: str) -> None:
    page.get_by_role("navigation", name=t("Main navigation")).get_by_role("link", name=t(label), exact=True).click()


def label(message: str) -> re.Pattern:
    """A form label as rendered: the text, then Django's label suffix (and " *" on required template fields)."""
    return re.compile("^" + re.escape(message))


def panel(page, title: str):
    return page.locator("section").filter(has=page.get_by_role("heading", name=t(title), exact=True))


def step_item(scope, sequence: int, name: str):
    """One step of a work order's step list ("2. 现场勘察 · 工位 · 状态 …")."""
    return scope.get_by_role("listitem").filter(has_text=f"{sequence}. {name}")


def claim(page, live_server, username: str, step: str) -> None:
    """The executor takes the step from their workstation's queue."""
    sign_in(page, live_server, username)
    menu(page, "Workstation queue")
    page.get_by_role("row").filter(has_text=step).get_by_role(
        "button", name=translation.pgettext("work step", "Claim"), exact=True
    ).click()
    expect(page.get_by_role("row").filter(has_text=step)).to_have_count(0)  # claimed: out of the queue


def open_my_step(page, step: str) -> None:
    """From "my steps" to the work order's page."""
    menu(page, "My steps")
    page.get_by_role("row").filter(has_text=step).get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=t("Steps"))).to_be_visible()


def work(page, live_server, username: str, sequence: int, step: str) -> None:
    """Claim, open and complete one step; the next one becomes ready."""
    claim(page, live_server, username, step)
    open_my_step(page, step)
    page.get_by_role("textbox", name=t("Note"), exact=True).fill(f"{step}完成")
    page.get_by_role("button", name=t("Complete"), exact=True).click()
    expect(step_item(page, sequence, step)).to_contain_text(t("Done"))


def in_flight_shows(page, live_server, customer, step: str) -> None:
    """The account manager's 360 page: the order in flight, standing at `step`."""
    sign_in(page, live_server, "am")
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    expect(panel(page, "Orders in flight").get_by_role("row").filter(has_text=step)).to_be_visible()


def test_leased_line_order_is_entered_provisioned_step_by_step_and_accepted(
    watched_page, live_server, reference_rows, eager_celery
):
    page = watched_page
    am = UserFactory(username="am", role=Role.ACCOUNT_MANAGER, display_name="张经理")
    for code in WORKSTATIONS:
        UserFactory(username=f"ws-{code}", role=Role.WORKSTATION_EXECUTOR,
                    workstation=Workstation.objects.get(code=code))  # fmt: skip
    customer = CustomerFactory(name="杭州西湖数码科技有限公司", account_manager=am, tier="B1")
    ResourceFactory(kind="circuit", region_code="330100")  # the resource check reserves it
    product = Product.objects.get(code="DATA")
    today = timezone.localdate()
    agreement = Agreement.objects.create(
        customer=customer, title="数据专线框架协议", created_by=am, status=Agreement.Status.EFFECTIVE,
        starts_on=today - datetime.timedelta(days=30), ends_on=today + datetime.timedelta(days=300),
        discount_cap=Decimal("10"),
    )  # fmt: skip
    AgreementItem.objects.create(agreement=agreement, product=product, unit_price=Decimal("3000"),
                                 discount=Decimal("5"))  # fmt: skip

    # The account manager enters the order: customer, then agreement and product, then the template.
    sign_in(page, live_server, "am")
    menu(page, "Orders")
    main = page.get_by_role("main")
    main.get_by_role("link", name=t("New order")).click()
    main.get_by_label(label(t("Customer name or number"))).fill("西湖数码")
    main.get_by_role("button", name=t("Search"), exact=True).click()
    main.get_by_role("link", name=customer.name).click()
    main.get_by_label(label(t("Agreement"))).select_option(label=agreement.title)
    main.get_by_label(label(t("Product"))).select_option(label=f"{product.code} {product.name}")
    main.get_by_role("button", name=t("Next"), exact=True).click()
    main.get_by_label(label("带宽")).fill("100")  # the product's template fields (orders.reference_templates)
    main.get_by_label(label("A端地址")).fill("杭州市西湖区文三路 90 号")
    main.get_by_label(label("Z端地址")).fill("杭州市滨江区网商路 599 号")
    main.get_by_label(label("电路保障等级")).select_option("A")
    main.get_by_label(label("装机联系电话")).fill("13800001234")
    main.get_by_role("button", name=t("Review"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("4. Review"))
    main.get_by_role("button", name=t("Submit"), exact=True).click()

    # Submitted on commit, provisioning started (Celery eager): the order page shows the first step ready.
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    order = Order.objects.get(customer=customer)
    assert order.status == Order.Status.IN_PROGRESS and order.agreement == agreement
    expect(step_item(page, 1, "资源核查")).to_contain_text(t("Waiting in the queue"))
    expect(panel(page, "Lines").get_by_role("cell", name=f"{product.code} {product.name}", exact=True)).to_be_visible()
    page.get_by_role("link", name=customer.name).click()
    expect(panel(page, "Orders in flight").get_by_role("row").filter(has_text=order.number)).to_contain_text("资源核查")

    # The workstations move it on; design sends the survey back once, the survey is redone.
    work(page, live_server, "ws-resource_check", 1, "资源核查")
    work(page, live_server, "ws-survey", 2, "现场勘察")
    claim(page, live_server, "ws-design", "方案设计")
    open_my_step(page, "方案设计")
    send_back = page.locator("form").filter(has=page.get_by_role("button", name=t("Send back")))
    send_back.get_by_role("textbox", name=t("Reason")).fill("勘察缺少机房位置")
    send_back.get_by_role("button", name=t("Send back")).click()
    expect(step_item(page, 2, "现场勘察")).to_contain_text(t("Waiting in the queue"))
    expect(step_item(page, 3, "方案设计")).to_contain_text(t("Not started"))

    in_flight_shows(page, live_server, customer, "现场勘察")
    work(page, live_server, "ws-survey", 2, "现场勘察")
    with translation.override("zh-hans"):
        # Chinese has one plural form: "退回 %(counter)s 次" for every count
        sent_back_once = translation.ngettext("sent back once", "sent back %(counter)s times", 1) % {"counter": 1}
    expect(step_item(page, 2, "现场勘察")).to_contain_text(sent_back_once)
    work(page, live_server, "ws-design", 3, "方案设计")
    in_flight_shows(page, live_server, customer, "数据制作")
    page.get_by_role("link", name=order.number).click()  # the order page's live steps
    expect(step_item(page, 3, "方案设计")).to_contain_text(t("Done"))
    expect(step_item(page, 5, "数据制作")).to_contain_text(t("Waiting in the queue"))
    work(page, live_server, "ws-data_build", 5, "数据制作")  # 4 is construction: this order needs none
    work(page, live_server, "ws-test", 6, "测试")
    work(page, live_server, "ws-acceptance", 7, "客户验收/交维")

    # Accepted: the order is completed and the subscription is on the 360 page with its service id.
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    subscription = Subscription.objects.get(customer=customer)
    assert subscription.product == product and subscription.service_id
    sign_in(page, live_server, "am")
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    expect(panel(page, "Subscriptions").get_by_role("row").filter(has_text=subscription.service_id)).to_be_visible()
    expect(panel(page, "Orders in flight").get_by_role("row").filter(has_text=order.number)).to_have_count(0)
