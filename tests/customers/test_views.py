"""The server-rendered pages of the key-account database: each page for the owner and for someone
who must not see it, form errors, the duplicate confirmation flow, htmx fragments, the language
switch and query budgets that do not grow with the rows."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels.models import User
from customers import panels, services
from customers.models import AccountManagerAssignment, Contact, Customer, MergeRecord, Visit
from tests.customers.factories import (
    ContactFactory,
    CustomerFactory,
    MemberFactory,
    SpendFactory,
    VisitFactory,
    credit_code,
)
from tests.customers.panels_support import page_with_panels

pytestmark = pytest.mark.django_db

# Measured and pinned (an account manager's request, session and user included). The point of the tests
# below is that 3 rows and 30 rows cost the same; panels registered by later apps add their own queries.
LIST_QUERY_BUDGET = 9  # + the unread-notifications badge of the navigation
# Constant in the number of rows, with the navigation's unread-notifications badge. The registered panels (tier
# and value, open opportunities, agreements, orders in flight, subscriptions) are lazy: the page fetches each from
# its own URL, tested for constancy where the panel is defined.
DETAIL_QUERY_BUDGET = 16


def page_text(response) -> str:
    return response.content.decode()


@pytest.fixture
def mine(am):
    return CustomerFactory(name="杭州西湖数码科技有限公司", short_name="西湖数码", account_manager=am, tier="A1",
                           annual_budget=Decimal("777.50"), main_business="数据中心运营")  # fmt: skip


@pytest.fixture
def foreign(outsider):
    return CustomerFactory(name="宁波北仑港务集团有限公司", account_manager=outsider, tier="B1")


def as_user(client, user):
    client.force_login(user)
    return client


# --- login, layout, home ---------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_renders_and_signs_in(client, am):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "am", "password": "pw-123456"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_layout_shows_role_navigation_user_and_logout_form(client, am, steward):
    text = page_text(as_user(client, am).get(reverse("home")))
    assert reverse("customers:list") in text
    assert reverse("customers:duplicates") not in text  # a data steward's page
    assert f'action="{reverse("logout")}"' in text and 'method="post"' in text
    assert str(am) in text
    text = page_text(as_user(client, steward).get(reverse("home")))
    assert reverse("customers:duplicates") in text


def test_home_counts_own_customers_by_tier_and_lists_visits_due(client, am, mine, foreign):
    CustomerFactory(account_manager=am, tier="C")
    response = as_user(client, am).get(reverse("home"))
    tiers = {row["tier"]: row["count"] for row in response.context["dashboard"].distribution}
    assert tiers["A1"] == 1 and tiers["C"] == 1 and tiers["B1"] == 0  # the outsider's B1 is not counted
    assert response.context["total"] == 2
    # A tiered customer never visited is due today.
    assert mine.pk in {c.pk for c, _due in response.context["visits_due"]}
    assert foreign.pk not in {c.pk for c, _due in response.context["visits_due"]}


# --- list -----------------------------------------------------------------------------------------------


def test_list_shows_own_customers_and_not_other_peoples(client, am, mine, foreign):
    text = page_text(as_user(client, am).get(reverse("customers:list")))
    assert mine.name in text
    assert foreign.name not in text


def test_list_search_finds_by_short_name_and_by_code(client, am, mine):
    CustomerFactory(name="温州瓯海电子有限公司", account_manager=am)
    client = as_user(client, am)
    text = page_text(client.get(reverse("customers:list"), {"q": "西湖数码"}))
    assert mine.name in text and "温州瓯海电子有限公司" not in text
    text = page_text(client.get(reverse("customers:list"), {"q": mine.code}))
    assert mine.name in text and "温州瓯海电子有限公司" not in text


def test_list_search_shows_the_best_matches_first_unless_a_sort_is_chosen(client, am):
    prefix = CustomerFactory(name="北仑港集装箱码头有限公司", account_manager=am)
    inside = CustomerFactory(name="宁波北仑第三集装箱码头有限公司", account_manager=am)  # newer
    client = as_user(client, am)

    response = client.get(reverse("customers:list"), {"q": "北仑"})
    assert list(response.context["page"].object_list) == [prefix, inside]
    assert response.context["paginator"].count == 2
    response = client.get(reverse("customers:list"), {"q": "北仑", "ordering": "-code"})
    assert list(response.context["page"].object_list) == [inside, prefix]


def test_list_filters_by_tier_and_sorts_by_name(client, am, mine):
    CustomerFactory(name="安吉白茶有限公司", account_manager=am, tier="C")
    CustomerFactory(name="余杭丝绸有限公司", account_manager=am, tier="C")
    response = as_user(client, am).get(reverse("customers:list"), {"tier": "C", "ordering": "name"})
    names = [c.name for c in response.context["page"].object_list]
    assert names == sorted(["安吉白茶有限公司", "余杭丝绸有限公司"])


def test_list_htmx_request_gets_only_the_table_fragment(client, am, mine):
    response = as_user(client, am).get(reverse("customers:list"), {"q": "西湖"}, HTTP_HX_REQUEST="true")
    text = page_text(response)
    assert 'id="customer-table"' in text and mine.name in text
    assert "<html" not in text and "<form" not in text


def test_list_count_is_capped_and_pages_past_the_cap_are_refused_politely(client, am, settings):
    settings.KAM_LIST_COUNT_CAP = 30
    CustomerFactory.create_batch(31, account_manager=am)
    client = as_user(client, am)
    response = client.get(reverse("customers:list"))
    assert response.context["paginator"].count_display == "30+"
    assert "30+" in page_text(response)
    response = client.get(reverse("customers:list"), {"page": 3})  # 25 a page: page 2 is the last inside the cap
    assert response.status_code == 200
    assert response.context["page"] is None
    assert "Narrow the search" in response.context["page_error"]


@pytest.mark.parametrize(
    "params",
    [{"page": "abc"}, {"page": "-1"}, {"page": "99"}, {"tier": "ZZ"}, {"ordering": "password"}, {"industry": "999"},
     {"region": "nowhere"}, {"account_manager": "x"}, {"is_strategic": "maybe"}],
)  # fmt: skip
def test_list_answers_bad_parameters_with_a_page_not_an_error(client, am, mine, params):
    response = as_user(client, am).get(reverse("customers:list"), params)
    assert response.status_code == 200


def test_list_query_count_does_not_grow_with_rows(client, am, django_assert_max_num_queries):
    client = as_user(client, am)
    CustomerFactory.create_batch(3, account_manager=am)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("customers:list"))
    assert len(few) <= LIST_QUERY_BUDGET
    CustomerFactory.create_batch(27, account_manager=am, parent=Customer.objects.filter(account_manager=am).first())
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("customers:list"))
    assert len(response.context["page"].object_list) == 25


def test_supervisor_list_includes_the_teams_customers(client, supervisor, mine, foreign):
    text = page_text(as_user(client, supervisor).get(reverse("customers:list")))
    assert mine.name in text and foreign.name not in text


# --- the 360 page -----------------------------------------------------------------------------------


def test_detail_is_shown_to_the_owner_and_the_supervisor(client, am, supervisor, mine):
    assert as_user(client, am).get(mine.get_absolute_url()).status_code == 200
    assert as_user(client, supervisor).get(mine.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("persona", ["outsider", "teammate"])
def test_detail_of_someone_elses_customer_is_404(client, request, persona, mine):
    user = request.getfixturevalue(persona)
    assert as_user(client, user).get(mine.get_absolute_url()).status_code == 404


def test_detail_shows_header_hierarchy_contacts_visits_and_chart(client, am, mine, foreign):
    group = CustomerFactory(name="浙江数码控股集团有限公司", account_manager=None)
    mine.parent = group
    mine.save()
    child = CustomerFactory(name="西湖数码滨江分公司", parent=mine, account_manager=am)
    ContactFactory(customer=mine, name="王芳", is_key_person=False)
    ContactFactory(customer=mine, name="李强", is_key_person=True)
    ContactFactory(customer=mine, name="赵离", active_to=datetime.date(2020, 1, 1))
    VisitFactory(customer=mine, visited_on=datetime.date(2020, 5, 1), visited_by=am, purpose="年度回访")
    response = as_user(client, am).get(mine.get_absolute_url())
    text = page_text(response)
    assert mine.code in text and "A1" in text
    assert group.name in text and f'href="{group.get_absolute_url()}"' not in text  # the group is not the AM's
    assert f'href="{child.get_absolute_url()}"' in text
    assert text.index("李强") < text.index("王芳") < text.index("赵离")  # key person first, who left last
    assert "Left on 2020-01-01" in text
    assert response.context["visit_overdue"] is True and "overdue-note" in text
    assert 'id="chart-data"' in text and 'id="spend-chart"' in text and "chart.umd.min.js" in text


def test_detail_shows_assignment_and_change_history(client, am, teammate, supervisor):
    customer = services.customer_create(by=supervisor, name="绍兴柯桥纺织印染有限公司", account_manager=am)
    services.customer_update(customer=customer, by=supervisor, short_name="柯桥纺织", reason="补充简称")
    text = page_with_panels(as_user(client, am), customer)
    assert 'id="panel-history"' in text and "柯桥纺织" in text and "补充简称" in text
    assert AccountManagerAssignment.objects.filter(customer=customer).exists()
    assert str(am) in text


def test_agent_sees_no_sensitive_field_anywhere_on_the_page(client, agent, am, mine):
    services.customer_update(customer=mine, by=am, annual_budget=Decimal("888.25"), telecom_budget=Decimal("66.00"))
    ContactFactory(customer=mine, name="钱多", hobbies="高尔夫")
    SpendFactory(customer=mine, month=datetime.date.today().replace(day=1), amount=Decimal("4321.00"))
    mine.refresh_from_db()
    text = page_with_panels(as_user(client, agent), mine).lower()  # the page and every panel it fetches
    assert mine.name in text
    for hidden in ("888.25", "888", "annual budget", "telecom budget", "数据中心运营", "高尔夫", "hobbies",
                   "4321", "4,321", "spend-chart"):  # fmt: skip
        assert hidden not in text, hidden
    text = page_with_panels(as_user(client, am), mine).lower()
    assert "888.25" in text and "annual budget" in text and "高尔夫" in text
    assert "4321" in text and "spend-chart" in text


def test_merged_record_shows_a_banner_linking_the_survivor(client, steward, am, mine):
    duplicate = CustomerFactory(name="杭州西湖数码科技公司", account_manager=am)
    services.customer_merge(survivor=mine, duplicate=duplicate, by=steward)
    text = page_text(as_user(client, am).get(duplicate.get_absolute_url()))
    assert "banner merged" in text and f'href="{mine.get_absolute_url()}"' in text
    assert reverse("customers:edit", args=[duplicate.pk]) not in text


def test_detail_query_count_does_not_grow_with_contacts_visits_and_spend(
    client, am, mine, django_assert_max_num_queries
):
    def add_rows(n, offset):
        for i in range(offset, offset + n):
            contact = ContactFactory(customer=mine, is_key_person=i % 2 == 0)
            day = datetime.date(2026, 1, 1) - datetime.timedelta(days=i)
            visit = VisitFactory(customer=mine, visited_by=am, visited_on=day)
            visit.contacts.add(contact)
            SpendFactory(customer=mine, month=datetime.date(2026 - i // 12, 12 - i % 12, 1), category="voice")
            MemberFactory(customer=mine)
            services.contact_update(contact=contact, by=am, title=f"经理{i}")

    client = as_user(client, am)
    add_rows(3, 0)
    with CaptureQueriesContext(connection) as few:
        assert client.get(mine.get_absolute_url()).status_code == 200
    assert len(few) <= DETAIL_QUERY_BUDGET
    add_rows(27, 3)
    with django_assert_max_num_queries(len(few)):
        response = client.get(mine.get_absolute_url())
    assert len(response.context["contacts"]) == 30 and len(response.context["visits"]) == 20


PANEL_TEMPLATE = "<p>orders of {{ customer.code }}: {{ n }}</p>"


@pytest.fixture
def sample_panel(settings):
    """A panel registered the way later apps do it, with its template in memory."""
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "APP_DIRS": False,
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "loaders": [
                    ("django.template.loaders.locmem.Loader", {"test/panel.html": PANEL_TEMPLATE}),
                    "django.template.loaders.filesystem.Loader",
                    "django.template.loaders.app_directories.Loader",
                ],
            },
        }
    ]
    panels.register_panel("orders-test", title="Open orders", template="test/panel.html",
                          context=lambda request, customer: {"n": 42}, order=10)  # fmt: skip
    panels.register_panel("churn-test", title="Churn risk", template="test/panel.html",
                          context=lambda request, customer: {"n": 7}, roles=["supervisor"])  # fmt: skip
    yield
    panels.unregister_panel("orders-test")
    panels.unregister_panel("churn-test")


def test_registered_panels_render_on_the_360_page_for_their_roles(client, am, supervisor, mine, sample_panel):
    text = page_text(as_user(client, am).get(mine.get_absolute_url()))
    assert "Open orders" in text and f"orders of {mine.code}: 42" in text
    assert "Churn risk" not in text
    text = page_text(as_user(client, supervisor).get(mine.get_absolute_url()))
    assert "Churn risk" in text and ": 7" in text


def test_a_lazy_panel_is_fetched_by_the_page_through_the_same_visibility_check(
    client, am, supervisor, mine, foreign, sample_panel
):
    panels.register_panel(
        "slow-test", title="Installed base", template="test/panel.html", context=lambda request, customer: {"n": 99},
        roles=["account_manager"], lazy=True,
    )  # fmt: skip
    try:
        url = reverse("customers:panel", args=[mine.pk, "slow-test"])
        client = as_user(client, am)
        page = page_text(client.get(mine.get_absolute_url()))
        assert "Installed base" in page and url in page and ": 99" not in page  # the frame, not the content
        fragment = page_text(client.get(url, headers={"HX-Request": "true"}))
        assert f"orders of {mine.code}: 99" in fragment and "<html" not in fragment
        assert f"orders of {mine.code}: 99" in page_text(client.get(url))  # without htmx: a page of its own
        # A customer the user may not see, a panel of another role, a panel that does not exist: all 404.
        assert client.get(reverse("customers:panel", args=[foreign.pk, "slow-test"])).status_code == 404
        assert client.get(reverse("customers:panel", args=[mine.pk, "churn-test"])).status_code == 404
        assert client.get(reverse("customers:panel", args=[mine.pk, "no-such-panel"])).status_code == 404
        assert as_user(client, supervisor).get(url).status_code == 404
    finally:
        panels.unregister_panel("slow-test")


# --- create and edit ----------------------------------------------------------------------------------


def test_account_manager_creates_a_customer_into_own_portfolio(client, am):
    data = {"name": "湖州南浔木业有限公司", "status": "prospect", "credit_code": credit_code(77)}
    response = as_user(client, am).post(reverse("customers:create"), data)
    customer = Customer.objects.get(name="湖州南浔木业有限公司")
    assert response.status_code == 302 and response.url == customer.get_absolute_url()
    assert customer.account_manager == am


@pytest.mark.parametrize("persona", ["agent", "analyst", "dispatcher"])
def test_roles_that_may_not_create_get_404_on_the_create_page(client, request, persona):
    client = as_user(client, request.getfixturevalue(persona))
    assert client.get(reverse("customers:create")).status_code == 404
    assert client.post(reverse("customers:create"), {"name": "某某公司", "status": "prospect"}).status_code == 404
    assert not Customer.objects.exists()


def test_bad_credit_code_and_bad_phone_are_shown_as_field_errors_and_nothing_is_saved(client, am):
    response = as_user(client, am).post(
        reverse("customers:create"),
        {"name": "丽水云和玩具有限公司", "status": "prospect", "credit_code": "91330100MA0000000X", "phone": "12-34"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["credit_code"] and form.errors["phone"]
    text = page_text(response)
    assert 'class="errorlist' in text
    assert not Customer.objects.filter(name="丽水云和玩具有限公司").exists()


def test_every_field_error_shows_in_one_answer_on_create_and_edit(client, am, mine):
    # Given a bad e-mail (the form's check) with a bad credit code and postal code (the service's checks)
    bad = {"status": "active", "email": "not-an-address", "credit_code": "91330100MA0000000X", "postal_code": "31"}
    client = as_user(client, am)

    # When the create and the edit page are sent once
    created = client.post(reverse("customers:create"), {"name": "丽水云和玩具有限公司", **bad})
    edited = client.post(reverse("customers:edit", args=[mine.pk]), {"name": mine.name, **bad})

    # Then each answer names all three, and nothing changed
    for response in (created, edited):
        assert response.status_code == 200
        assert {"email", "credit_code", "postal_code"} <= set(response.context["form"].errors)
        assert "A postal code has 6 digits." in page_text(response)
    assert not Customer.objects.filter(name="丽水云和玩具有限公司").exists()
    mine.refresh_from_db()
    assert mine.postal_code != "31" and mine.email != "not-an-address"


def test_duplicate_is_confirmed_before_anything_is_saved(client, am, foreign):
    client = as_user(client, am)
    data = {"name": foreign.name, "status": "prospect"}
    response = client.post(reverse("customers:create"), data)
    assert response.status_code == 200
    text = page_text(response)
    assert "This customer may already exist." in text
    # Another manager's customer: counted, never named (its code and manager stay hidden).
    assert foreign.code not in text and str(foreign.account_manager) not in text
    assert "1 likely duplicate is in a portfolio you do not serve" in text
    assert 'name="confirm_not_duplicate"' in text
    assert Customer.objects.filter(name=foreign.name).count() == 1

    response = client.post(reverse("customers:create"), {**data, "confirm_not_duplicate": "on"})
    assert response.status_code == 302
    assert Customer.objects.filter(name=foreign.name).count() == 2


def test_duplicate_check_returns_a_fragment_and_changes_nothing(client, am, foreign):
    before = Customer.objects.count()
    response = as_user(client, am).get(reverse("customers:duplicate-check"), {"name": foreign.name})
    text = page_text(response)
    assert response.status_code == 200 and "<html" not in text
    assert foreign.name not in text and foreign.code not in text  # not the AM's: counted, not named
    assert "1 likely duplicate is in a portfolio you do not serve" in text
    assert Customer.objects.count() == before
    assert as_user(client, am).post(reverse("customers:duplicate-check"), {"name": foreign.name}).status_code == 405


def test_create_form_has_the_name_hint_wired_to_the_duplicate_check(client, am):
    text = page_text(as_user(client, am).get(reverse("customers:create")))
    assert f'hx-get="{reverse("customers:duplicate-check")}"' in text and 'id="duplicate-hint"' in text


def form_data(form) -> dict:
    """What a browser posts back for an unchanged form."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is True:
            data[name] = "on"
        elif value not in (None, False):
            data[name] = value
    return data


def test_owner_edits_a_customer(client, am, mine):
    client = as_user(client, am)
    form = client.get(reverse("customers:edit", args=[mine.pk])).context["form"]
    data = {**form_data(form), "short_name": "西湖", "tier": "A2", "reason": "年审"}
    response = client.post(reverse("customers:edit", args=[mine.pk]), data)
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.short_name == "西湖" and mine.tier == "A2"
    assert mine.annual_budget == Decimal("777.50") and mine.account_manager == am
    assert mine.history.first().history_change_reason == "年审"


@pytest.mark.parametrize("persona", ["outsider", "teammate", "agent", "analyst", "dispatcher"])
def test_edit_is_404_for_anyone_who_may_not_change_the_customer(client, request, persona, mine):
    client = as_user(client, request.getfixturevalue(persona))
    url = reverse("customers:edit", args=[mine.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "改名", "status": "active"}).status_code == 404
    mine.refresh_from_db()
    assert mine.name != "改名"


def test_only_a_data_steward_sees_the_credit_code_exception_field(client, am, steward, mine):
    text = page_text(as_user(client, am).get(reverse("customers:edit", args=[mine.pk])))
    assert 'name="credit_code_exception"' not in text
    assert 'name="account_manager"' not in text  # an AM cannot move customers to someone else
    text = page_text(as_user(client, steward).get(reverse("customers:edit", args=[mine.pk])))
    assert 'name="credit_code_exception"' in text and 'name="account_manager"' in text


def test_data_steward_keeps_a_nonconforming_credit_code_with_a_reason(client, steward, mine):
    response = as_user(client, steward).post(
        reverse("customers:edit", args=[mine.pk]),
        {"name": mine.name, "status": "active", "credit_code": "91350203M0001QAY9B",
         "credit_code_exception": "营业执照原件如此"},
    )  # fmt: skip
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.credit_code == "91350203M0001QAY9B"


# --- contacts and visits --------------------------------------------------------------------------


def test_owner_adds_a_contact_and_bad_mobile_is_a_field_error(client, am, mine):
    client = as_user(client, am)
    response = client.post(reverse("customers:contact-create", args=[mine.pk]), {"name": "孙敏", "mobile": "1234"})
    assert response.status_code == 200 and response.context["form"].errors["mobile"]
    assert not Contact.objects.filter(name="孙敏").exists()
    data = {"name": "孙敏", "mobile": "138 0000 9999", "is_key_person": "on"}
    response = client.post(reverse("customers:contact-create", args=[mine.pk]), data)
    assert response.status_code == 302
    assert Contact.objects.get(name="孙敏").mobile_digits == "13800009999"


def test_contact_who_left_is_kept_with_the_date(client, am, mine):
    contact = ContactFactory(customer=mine)
    response = as_user(client, am).post(reverse("customers:contact-left", args=[mine.pk, contact.pk]))
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.active_to == datetime.date.today()
    assert as_user(client, am).get(reverse("customers:contact-left", args=[mine.pk, contact.pk])).status_code == 405


def test_visit_form_offers_only_this_customers_contacts_and_logs_the_visit(client, am, mine, foreign):
    own = ContactFactory(customer=mine, name="周全")
    other = ContactFactory(customer=foreign, name="吴外")
    client = as_user(client, am)
    text = page_text(client.get(reverse("customers:visit-create", args=[mine.pk])))
    assert "周全" in text and "吴外" not in text
    data = {"visited_on": "2026-01-05", "kind": "on_site", "purpose": "方案交流", "contacts": [other.pk]}
    response = client.post(reverse("customers:visit-create", args=[mine.pk]), data)
    assert response.status_code == 200 and response.context["form"].errors["contacts"]
    response = client.post(reverse("customers:visit-create", args=[mine.pk]), {**data, "contacts": [own.pk]})
    assert response.status_code == 302
    assert list(Visit.objects.get(customer=mine).contacts.all()) == [own]


def test_contact_and_visit_urls_with_foreign_ids_are_404(client, am, mine, foreign):
    foreign_contact = ContactFactory(customer=foreign)
    client = as_user(client, am)
    urls = [
        reverse("customers:contact-create", args=[foreign.pk]),
        reverse("customers:contact-edit", args=[foreign.pk, foreign_contact.pk]),
        reverse("customers:contact-edit", args=[mine.pk, foreign_contact.pk]),  # my customer, their contact
        reverse("customers:visit-create", args=[foreign.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "x", "purpose": "x", "visited_on": "2026-01-01"}).status_code == 404, url
    left = reverse("customers:contact-left", args=[mine.pk, foreign_contact.pk])
    assert client.post(left).status_code == 404
    foreign_contact.refresh_from_db()
    assert foreign_contact.active_to is None


# --- merge and duplicates -------------------------------------------------------------------------


def test_steward_merges_a_duplicate_after_seeing_what_moves(client, steward, am, mine):
    duplicate = CustomerFactory(name="西湖数码科技", account_manager=am)
    ContactFactory.create_batch(2, customer=duplicate)
    client = as_user(client, steward)
    response = client.get(reverse("customers:merge"), {"survivor": mine.pk, "duplicate": duplicate.pk})
    assert response.status_code == 200
    counts = dict(response.context["sides"][1][1])
    assert counts["contacts"] == 2
    response = client.post(reverse("customers:merge"), {"survivor": mine.pk, "duplicate": duplicate.pk, "reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    response = client.post(
        reverse("customers:merge"), {"survivor": mine.pk, "duplicate": duplicate.pk, "reason": "同一法人"}
    )
    assert response.status_code == 302 and response.url == mine.get_absolute_url()
    assert MergeRecord.objects.filter(survivor=mine, duplicate=duplicate).exists()
    assert mine.contacts.count() == 2


def test_merge_search_lists_candidates(client, steward, mine):
    text = page_text(as_user(client, steward).get(reverse("customers:merge"), {"q": "西湖数码"}))
    assert mine.name in text and f"survivor={mine.pk}" in text


@pytest.mark.parametrize("persona", ["am", "supervisor", "agent", "analyst"])
def test_merge_and_duplicate_pages_are_404_for_everyone_but_stewards(client, request, persona, mine, foreign):
    client = as_user(client, request.getfixturevalue(persona))
    assert client.get(reverse("customers:duplicates")).status_code == 404
    assert client.get(reverse("customers:merge")).status_code == 404
    data = {"survivor": mine.pk, "duplicate": foreign.pk, "reason": "x"}
    assert client.post(reverse("customers:merge"), data).status_code == 404
    assert not MergeRecord.objects.exists()


def test_duplicates_page_lists_probable_groups_with_merge_links(client, steward, am):
    first = CustomerFactory(name="嘉兴南湖电子科技有限公司", account_manager=am)
    second = CustomerFactory(name="嘉兴南湖电子科技有限责任公司", account_manager=am)
    text = page_text(as_user(client, steward).get(reverse("customers:duplicates")))
    assert first.name in text and second.name in text
    assert reverse("customers:merge") in text


# --- handover -------------------------------------------------------------------------------------


def test_supervisor_hands_over_all_customers_of_a_team_member(client, supervisor, am, teammate, mine):
    other = CustomerFactory(account_manager=am)
    client = as_user(client, supervisor)
    response = client.get(reverse("customers:handover"), {"from_user": am.pk})
    assert response.status_code == 200 and mine.name in page_text(response)
    response = client.post(
        reverse("customers:handover"),
        {"from_user": am.pk, "to_user": teammate.pk, "scope": "all", "reason": "岗位调整"},
        follow=True,
    )
    assert "2 customers handed over" in page_text(response)
    assert set(Customer.objects.filter(account_manager=teammate)) == {mine, other}


def test_supervisor_hands_over_a_selection(client, supervisor, am, teammate, mine):
    other = CustomerFactory(account_manager=am)
    client = as_user(client, supervisor)
    data = {"from_user": am.pk, "to_user": teammate.pk, "scope": "selected", "reason": "分担"}
    response = client.post(reverse("customers:handover"), data)
    assert response.status_code == 200 and response.context["form"].errors["customers"]
    response = client.post(reverse("customers:handover"), {**data, "customers": [other.pk]})
    assert response.status_code == 302
    other.refresh_from_db()
    mine.refresh_from_db()
    assert other.account_manager == teammate and mine.account_manager == am


def test_supervisor_cannot_hand_over_another_teams_manager(client, supervisor, outsider, teammate, foreign):
    response = as_user(client, supervisor).post(
        reverse("customers:handover"),
        {"from_user": outsider.pk, "to_user": teammate.pk, "scope": "all", "reason": "x"},
    )
    assert response.status_code == 200 and response.context["form"].errors["from_user"]
    foreign.refresh_from_db()
    assert foreign.account_manager == outsider


@pytest.mark.parametrize("persona", ["am", "agent", "steward", "analyst"])
def test_handover_page_is_404_for_non_supervisors(client, request, persona):
    assert as_user(client, request.getfixturevalue(persona)).get(reverse("customers:handover")).status_code == 404


# --- caller lookup ----------------------------------------------------------------------------------


def test_agent_finds_the_caller_by_phone_with_service_fields_only(client, agent, mine):
    ContactFactory(customer=mine, name="郑来电", mobile="139 1234 5678", mobile_digits="13912345678", hobbies="钓鱼")
    text = page_text(as_user(client, agent).get(reverse("customers:lookup"), {"phone": "+86 139-1234-5678"}))
    assert mine.name in text and "郑来电" in text and str(mine.account_manager) in text
    assert "钓鱼" not in text and "777.50" not in text


def test_lookup_does_not_reveal_other_peoples_customers(client, outsider, mine):
    ContactFactory(customer=mine, mobile="13912345678", mobile_digits="13912345678")
    text = page_text(as_user(client, outsider).get(reverse("customers:lookup"), {"phone": "13912345678"}))
    assert mine.name not in text and "No customer is known by this number." in text


# --- language -------------------------------------------------------------------------------------


@pytest.mark.chinese
def test_language_switch_changes_the_page_to_english(client, am, mine):
    client = as_user(client, am)
    text = page_text(client.get(reverse("customers:list")))
    assert 'lang="zh-hans"' in text and "未知" in text  # Django's own catalogue: the strategic filter's "Unknown"
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("customers:list")})
    assert response.status_code == 302
    text = page_text(client.get(reverse("customers:list")))
    assert 'lang="en"' in text and "Unknown" in text and "未知" not in text


@pytest.mark.parametrize(
    ("persona", "url_name", "params"),
    [
        ("steward", "customers:merge", {"survivor": "abc", "duplicate": "-1", "q": "  "}),
        ("supervisor", "customers:handover", {"from_user": "abc"}),
        ("am", "customers:duplicate-check", {"name": "x", "exclude": "abc", "credit_code": "???"}),
        ("agent", "customers:lookup", {"phone": "abc"}),
    ],
)
def test_tool_pages_answer_bad_parameters_with_a_page_not_an_error(client, request, persona, url_name, params):
    response = as_user(client, request.getfixturevalue(persona)).get(reverse(url_name), params)
    assert response.status_code == 200


def test_list_page_for_everyone_seeing_roles_offers_teams_not_every_manager(client, steward, am, teammate, outsider):
    from django.urls import reverse

    client.force_login(steward)
    page = client.get(reverse("customers:list"))
    form = page.context["filterset"].form
    assert "team" in form.fields and "account_manager" not in form.fields

    chosen = client.get(reverse("customers:list"), {"team": am.team_id})
    options = {u.pk for u in chosen.context["filterset"].form.fields["account_manager"].queryset}
    assert options == {am.pk, teammate.pk} | ({am.team.supervisor_id} if am.team.supervisor_id else set())
    assert outsider.pk not in options


def test_team_options_are_cached_and_the_chosen_team_stays_selected(client, steward, am, django_assert_max_num_queries):
    from django.urls import reverse

    client.force_login(steward)
    client.get(reverse("customers:list"))  # renders and caches the option list
    with django_assert_max_num_queries(8):  # 7 + the unread-notifications badge
        page = client.get(reverse("customers:list"), {"team": am.team_id})
    html = page.content.decode()
    assert f'<option value="{am.team_id}" selected>{am.team}</option>' in html
    assert html.count(f'<option value="{am.team_id}"') == 2  # selected copy + the cached list


def test_the_data_steward_sees_every_likely_duplicate_named(client, steward, foreign):
    text = page_text(as_user(client, steward).get(reverse("customers:duplicate-check"), {"name": foreign.name}))
    assert foreign.name in text and foreign.code in text and "portfolio you do not serve" not in text


def test_a_used_credit_code_names_the_customer_only_to_who_may_see_it(am, foreign, mine):
    from django.core.exceptions import ValidationError

    from customers import services

    foreign.credit_code = credit_code(91)
    foreign.save()
    mine.credit_code = credit_code(92)
    mine.save()
    for taken, named in ((foreign, False), (mine, True)):
        with pytest.raises(ValidationError) as exc:
            services.customer_create(by=am, name="温州新开电器有限公司", credit_code=taken.credit_code)
        message = " ".join(exc.value.message_dict["credit_code"])
        assert (taken.code in message) is named and "already used by" in message


def test_the_receiving_manager_is_picked_from_a_list_grouped_by_team(client, supervisor, am, teammate, outsider):
    page = page_text(as_user(client, supervisor).get(reverse("customers:handover"), {"from_user": am.pk}))

    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', page, re.S)
    by_team = {label: re.findall(r'<option value="(\d+)"', options) for label, options in groups}
    assert by_team[am.team.name] == sorted(
        [str(u.pk) for u in (am, teammate, supervisor)], key=lambda pk: User.objects.get(pk=pk).display_name
    )
    assert str(outsider.pk) in by_team[outsider.team.name]
