"""Agreements (协议): the term checks, drafting and versioned changes, the internal approval, numbering, the
daily sweep (reminders, expiry, automatic renewal, renewal opportunities), the pages and the 360 panel."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels.models import Notification
from opportunities.models import NeedType, Opportunity
from orders.models import Agreement, AgreementVersion, Product
from orders.services import agreements as svc
from orders.views.agreements import customer_panel_context
from tests.customers.factories import CustomerFactory
from tests.orders.factories import AgreementTemplateFactory

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = datetime.date(2027, 3, 1)


@pytest.fixture
def inet():
    return Product.objects.get(code="INET")  # list price 3000–8000


@pytest.fixture
def data_line():
    return Product.objects.get(code="DATA")  # list price 3000–10000


@pytest.fixture
def customer(am):
    return CustomerFactory(account_manager=am, name="杭州协议测试集团有限公司")


def item(product, price="4000", discount="0", **extra):
    return {"product": product, "unit_price": D(price), "discount": D(discount), **extra}


def draft(customer, by, *products, **terms):
    terms.setdefault("title", "专线协议")
    terms.setdefault("discount_cap", D("10"))
    items = terms.pop("items", None) or [item(p) for p in products]
    return svc.agreement_create(customer, by=by, items=items, **terms)


def effective(customer, am, supervisor, *products, editors=(), **terms):
    """An agreement taken through the whole approval: submitted, approved, signed and made effective."""
    agreement = draft(customer, am, *products, editors=editors, **terms)
    svc.agreement_submit(agreement, by=am)
    svc.agreement_approve(agreement, by=supervisor)
    svc.agreement_sign(agreement, by=am)
    return svc.agreement_activate(agreement, by=am)


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


# --- the term checks: just inside, at, outside ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("2999.99", "Price 2999.99 is below the list price range 3000.00–8000.00 of INET."),
        ("3000", None),
        ("3000.01", None),
        ("7999.99", None),
        ("8000", None),
        ("8000.01", "Price 8000.01 is above the list price range 3000.00–8000.00 of INET."),
    ],
)
def test_unit_price_within_the_products_list_price_range(customer, am, inet, price, message):
    if message is None:
        assert draft(customer, am, items=[item(inet, price)]).items.get().unit_price == D(price)
    else:
        with pytest.raises(ValidationError) as excinfo:
            draft(customer, am, items=[item(inet, price)])
        assert errors_of(excinfo) == {"items": [message]}


@pytest.mark.parametrize(("discount", "ok"), [("9.99", True), ("10", True), ("10.01", False)])
def test_discount_at_most_the_agreements_cap(customer, am, inet, discount, ok):
    if ok:
        draft(customer, am, items=[item(inet, discount=discount)])
        return
    with pytest.raises(ValidationError) as excinfo:
        draft(customer, am, items=[item(inet, discount=discount)])
    assert errors_of(excinfo)["items"] == ["Discount 10.01% on INET is above the agreement's discount cap 10.00%."]


@pytest.mark.parametrize(("months", "ok"), [(0, False), (1, True), (2, True), (119, True), (120, True), (121, False)])
def test_term_months_from_1_to_120(customer, am, inet, months, ok):
    if ok:
        assert draft(customer, am, inet, term_months=months).term_months == months
        return
    with pytest.raises(ValidationError) as excinfo:
        draft(customer, am, inet, term_months=months)
    assert errors_of(excinfo)["term_months"] == [f"The term is 1 to 120 months (given: {months})."]


@pytest.mark.parametrize(("days", "ok"), [(-1, False), (0, False), (1, True)])
def test_the_agreement_ends_after_it_starts(customer, am, inet, days, ok):
    starts = datetime.date(2027, 1, 1)
    ends = starts + datetime.timedelta(days=days)
    if ok:
        draft(customer, am, inet, starts_on=starts, ends_on=ends)
        return
    with pytest.raises(ValidationError) as excinfo:
        draft(customer, am, inet, starts_on=starts, ends_on=ends)
    assert "must end after it starts" in errors_of(excinfo)["ends_on"][0]


def test_every_violation_is_reported_at_once_and_a_product_only_once(customer, am, inet):
    with pytest.raises(ValidationError) as excinfo:
        draft(customer, am, items=[item(inet), item(inet, "100")], term_months=0, title=" ")

    errors = errors_of(excinfo)
    assert set(errors) == {"items", "term_months", "title"}
    assert errors["items"] == ["INET is listed twice: an agreement covers a product once."]
    assert not Agreement.objects.exists()


def test_submitting_needs_at_least_one_item(customer, am):
    agreement = draft(customer, am, items=[])

    with pytest.raises(ValidationError) as excinfo:
        svc.agreement_submit(agreement, by=am)

    assert errors_of(excinfo) == {"items": ["List at least one product before submitting the agreement."]}
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT


def test_the_template_gives_the_defaults_and_products(customer, am, inet):
    template = AgreementTemplateFactory(auto_renewal=True, body="标准条款")
    template.products.add(inet)

    agreement = svc.agreement_create(customer, by=am, template=template, title="模板协议")

    assert (agreement.term_months, agreement.discount_cap, agreement.sla_class) == (24, D("10"), "AA")
    assert agreement.auto_renewal and agreement.terms == "标准条款"
    assert [(i.product.code, i.unit_price) for i in agreement.items.all()] == [("INET", D("3000"))]


# --- drafts and versions -------------------------------------------------------------------------------------


def test_a_draft_is_edited_freely_without_versions(customer, am, inet, data_line):
    agreement = draft(customer, am, inet)

    svc.agreement_update(agreement, by=am, discount_cap=D("5"), items=[item(data_line, "9000", "5")])

    agreement.refresh_from_db()
    assert agreement.version == 1 and agreement.discount_cap == D("5")
    assert [i.product.code for i in agreement.items.all()] == ["DATA"]
    assert not AgreementVersion.objects.exists()


def test_a_teammate_may_not_edit_someone_elses_draft(customer, am, teammate, inet):
    agreement = draft(customer, am, inet)

    with pytest.raises(PermissionDenied):
        svc.agreement_update(agreement, by=teammate, title="改")


def test_named_editors_must_see_the_customer(customer, am, teammate, inet):
    with pytest.raises(ValidationError) as excinfo:
        draft(customer, am, inet, editors=[teammate])

    assert errors_of(excinfo)["editors"] == [f"{teammate} cannot see this customer: name people who serve it."]


def test_once_effective_only_a_named_editor_changes_it(customer, am, supervisor, inet):
    agreement = effective(customer, am, supervisor, inet, editors=[supervisor])

    with pytest.raises(PermissionDenied):  # the account manager is not a named editor
        svc.agreement_update(agreement, by=am, reason="调价", discount_cap=D("5"))
    with pytest.raises(ValidationError) as excinfo:  # the editor must say why
        svc.agreement_update(agreement, by=supervisor, discount_cap=D("5"))
    assert list(errors_of(excinfo)) == ["reason"]

    svc.agreement_update(
        agreement, by=supervisor, reason="客户续签调价", discount_cap=D("5"), items=[item(inet, "3500", "5")]
    )

    agreement.refresh_from_db()
    assert agreement.version == 2
    change = agreement.versions.get(version=2)
    assert change.changed_by == supervisor and change.reason == "客户续签调价"
    assert change.changes == {
        "discount_cap": ["10.00", "5.00"],
        "item:INET": [
            {"unit_price": "4000.00", "discount": "0.00", "max_quantity": None, "note": ""},
            {"unit_price": "3500.00", "discount": "5.00", "max_quantity": None, "note": ""},
        ],
    }
    assert change.snapshot["discount_cap"] == "5.00" and change.snapshot["items"]["INET"]["unit_price"] == "3500.00"


# --- approval, signature, numbering --------------------------------------------------------------------------


def test_the_supervisor_approves_and_the_people_are_told(customer, am, supervisor, teammate, outsider, inet):
    agreement = draft(customer, am, inet)
    svc.agreement_submit(agreement, by=am)
    assert Notification.objects.filter(recipient=supervisor, kind="agreement").count() == 1

    for stranger in (teammate, outsider):
        with pytest.raises(PermissionDenied):
            svc.agreement_approve(agreement, by=stranger)
    with pytest.raises(svc.InvalidTransition):  # not approved yet: nothing to sign
        svc.agreement_sign(agreement, by=am)

    svc.agreement_approve(agreement, by=supervisor)

    agreement.refresh_from_db()
    assert agreement.approved_by == supervisor and agreement.status == Agreement.Status.IN_APPROVAL
    assert Notification.objects.filter(recipient=am, kind="agreement", title__contains="approved").count() == 1
    with pytest.raises(svc.InvalidTransition):
        svc.agreement_approve(agreement, by=supervisor)


def test_rejection_sends_it_back_to_draft_with_the_reason(customer, am, supervisor, inet):
    agreement = draft(customer, am, inet)
    svc.agreement_submit(agreement, by=am)

    with pytest.raises(ValidationError):
        svc.agreement_reject(agreement, by=supervisor, reason="")
    svc.agreement_reject(agreement, by=supervisor, reason="折扣过高")

    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT and agreement.approval_note == "折扣过高"
    assert Notification.objects.filter(recipient=am, body="折扣过高").exists()


@time_machine.travel(datetime.datetime(2027, 3, 1, 10, tzinfo=datetime.UTC), tick=False)
def test_activation_numbers_it_and_sets_its_term(customer, am, supervisor, inet):
    agreement = effective(customer, am, supervisor, inet, term_months=12)

    agreement.refresh_from_db()
    assert agreement.number == f"AG{agreement.pk:08d}"
    assert (agreement.starts_on, agreement.ends_on) == (datetime.date(2027, 3, 1), datetime.date(2028, 2, 29))
    assert agreement.versions.get().reason == "Became effective"
    with pytest.raises(svc.InvalidTransition):
        svc.agreement_activate(agreement, by=am)


def test_wrong_transitions_are_refused_clearly(customer, am, supervisor, inet):
    agreement = draft(customer, am, inet)

    with pytest.raises(
        svc.InvalidTransition, match=r"Only a signed agreement can be made effective \(this one is Draft\)"
    ):
        svc.agreement_activate(agreement, by=am)
    agreement = effective(customer, am, supervisor, inet)
    svc.agreement_terminate(agreement, by=am, reason="客户销户")
    with pytest.raises(svc.InvalidTransition):
        svc.agreement_update(agreement, by=am, reason="x", title="y")
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.TERMINATED and agreement.end_reason == "客户销户"


# --- the daily sweep -----------------------------------------------------------------------------------------


def on(day: datetime.date):
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(8), tzinfo=datetime.UTC), tick=False)


def sweep(day: datetime.date) -> dict:
    with on(day):
        return svc.agreement_sweep()


def ending(customer, am, supervisor, product, ends_on, **terms):
    """An effective 12-month agreement that ends on `ends_on`."""
    starts_on = svc.add_months(ends_on + datetime.timedelta(days=1), -12)
    agreement = effective(customer, am, supervisor, product, term_months=12, starts_on=starts_on, **terms)
    agreement.refresh_from_db()
    assert agreement.ends_on == ends_on
    return agreement


def reminders(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, title__contains="ends in")
        .order_by("id")
        .values_list("title", flat=True)
    )


@pytest.fixture
def renewal_handler_off():
    """The sweep without opportunities' renewal handler (tests of the reminders and the expiry only)."""
    from opportunities.renewals import open_renewals

    svc.unregister_renewal_handler(open_renewals)
    yield
    svc.register_renewal_handler(open_renewals)


def test_reminders_go_once_per_threshold_to_the_manager_and_editors(
    renewal_handler_off, customer, am, supervisor, inet
):
    agreement = ending(customer, am, supervisor, inet, datetime.date(2027, 12, 31), editors=[supervisor])
    end = agreement.ends_on

    sweep(end - datetime.timedelta(days=91))
    assert reminders(am) == []
    sweep(end - datetime.timedelta(days=90))
    sweep(end - datetime.timedelta(days=89))
    sweep(end - datetime.timedelta(days=60))
    sweep(end - datetime.timedelta(days=45))
    sweep(end - datetime.timedelta(days=25))  # the 30-day run was missed: it goes out late, once
    sweep(end - datetime.timedelta(days=24))

    number = agreement.number
    expected = [f"Agreement {number} ends in {d} days" for d in (90, 60, 30)]
    assert reminders(am) == expected and reminders(supervisor) == expected


def test_a_late_first_reminder_is_only_the_closest_threshold(renewal_handler_off, customer, am, supervisor, inet):
    agreement = ending(customer, am, supervisor, inet, datetime.date(2027, 12, 31))

    sweep(agreement.ends_on - datetime.timedelta(days=20))

    assert reminders(am) == [f"Agreement {agreement.number} ends in 30 days"]


def test_an_agreement_expires_the_day_after_its_end(renewal_handler_off, customer, am, supervisor, inet):
    agreement = ending(customer, am, supervisor, inet, datetime.date(2027, 12, 31))

    sweep(agreement.ends_on)
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.EFFECTIVE

    assert sweep(agreement.ends_on + datetime.timedelta(days=1))["expired"] == 1
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.EXPIRED and agreement.ended_at is not None


def test_auto_renewal_extends_the_term_as_a_new_version(renewal_handler_off, customer, am, supervisor, inet):
    agreement = ending(customer, am, supervisor, inet, datetime.date(2027, 12, 31), auto_renewal=True)
    sweep(agreement.ends_on - datetime.timedelta(days=30))  # reminded at 30 days

    assert sweep(datetime.date(2028, 1, 1)) == {"renewed": 1, "expired": 0, "reminded": 0, "renewals_requested": 0}

    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.EFFECTIVE and agreement.ends_on == datetime.date(2028, 12, 31)
    assert agreement.version == 2 and agreement.reminded_days is None  # the new term is reminded again
    version = agreement.versions.get(version=2)
    assert version.reason == "Renewed automatically"
    assert version.changes == {"ends_on": ["2027-12-31", "2028-12-31"]}


def test_a_renewal_opportunity_is_opened_once_for_the_account_manager(customer, am, supervisor, inet, data_line):
    first = ending(customer, am, supervisor, inet, datetime.date(2027, 12, 31))
    second = ending(customer, am, supervisor, data_line, datetime.date(2027, 12, 15))

    sweep(datetime.date(2027, 9, 1))  # more than 90 days ahead: nothing yet
    assert not Opportunity.objects.exists()
    assert sweep(datetime.date(2027, 10, 15))["renewals_requested"] == 2
    sweep(datetime.date(2027, 10, 16))

    opp = Opportunity.objects.get()  # one per customer: the second agreement is part of the same renewal
    assert opp.customer == customer and opp.captured_by == am and opp.need_type == NeedType.RENEWAL
    assert opp.title in (f"Renewal of agreement {first.number}", f"Renewal of agreement {second.number}")
    assert Agreement.objects.filter(renewal_requested_at__isnull=False).count() == 2


def test_sweep_statements_do_not_grow_with_the_agreements(renewal_handler_off, am, supervisor, inet):
    customers = [CustomerFactory(account_manager=am) for _ in range(4)]
    for c in customers[:1]:
        ending(c, am, supervisor, inet, datetime.date(2027, 12, 31))
    with on(datetime.date(2027, 11, 1)), CaptureQueriesContext(connection) as one:
        svc.agreement_sweep()
    for c in customers[1:]:
        ending(c, am, supervisor, inet, datetime.date(2027, 12, 30))
    Agreement.objects.update(reminded_days=None)
    with on(datetime.date(2027, 11, 1)), CaptureQueriesContext(connection) as four:
        svc.agreement_sweep()

    assert len(four.captured_queries) == len(one.captured_queries)


# --- pages ---------------------------------------------------------------------------------------------------


def test_outsiders_get_404_on_every_agreement_page(client, customer, am, outsider, inet):
    agreement = draft(customer, am, inet)
    client.force_login(outsider)

    for name in ("orders:agreement-detail", "orders:agreement-edit"):
        assert client.get(reverse(name, args=[agreement.pk])).status_code == 404
    assert client.post(reverse("orders:agreement-action", args=[agreement.pk, "submit"])).status_code == 404
    assert client.get(reverse("orders:agreement-create"), {"customer": customer.pk}).status_code == 404
    page = client.get(reverse("orders:agreement-list")).content.decode()
    assert agreement.title not in page


def test_the_pages_draft_submit_and_show_the_version_diff(client, customer, am, supervisor, inet):
    client.force_login(am)
    form = {
        "customer": customer.pk, "title": "页面协议", "term_months": 12, "discount_cap": "10", "sla_class": "A",
        "items-TOTAL_FORMS": 1, "items-INITIAL_FORMS": 0, "items-0-product": inet.pk, "items-0-unit_price": "100",
        "items-0-discount": "0",
    }  # fmt: skip
    refused = client.post(reverse("orders:agreement-create") + f"?customer={customer.pk}", form)
    assert refused.status_code == 400
    assert "Price 100.00 is below the list price range 3000.00–8000.00 of INET." in refused.content.decode()

    form["items-0-unit_price"] = "3200"
    response = client.post(reverse("orders:agreement-create") + f"?customer={customer.pk}", form)
    agreement = Agreement.objects.get(title="页面协议")
    assert response.status_code == 302 and agreement.items.get().unit_price == D("3200")

    client.post(reverse("orders:agreement-action", args=[agreement.pk, "submit"]))
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.IN_APPROVAL
    svc.agreement_approve(agreement, by=supervisor)
    svc.agreement_sign(agreement, by=am)
    svc.agreement_activate(agreement, by=am)
    agreement.editors.add(supervisor)
    svc.agreement_update(agreement, by=supervisor, reason="客户要求调价", items=[item(inet, "3100")])

    page = client.get(reverse("orders:agreement-detail", args=[agreement.pk])).content.decode()
    assert 'id="version-2"' in page and "客户要求调价" in page and "Item INET" in page
    assert "3200.00" in page and "3100.00" in page
    assert 'id="edit-button"' not in page  # the account manager is not a named editor


def test_the_list_filters_expiring_agreements(client, customer, am, supervisor, inet):
    soon = ending(customer, am, supervisor, inet, datetime.date(2027, 5, 1))
    later = ending(customer, am, supervisor, inet, datetime.date(2028, 5, 1))
    with on(datetime.date(2027, 3, 1)):
        client.force_login(am)
        page = client.get(reverse("orders:agreement-list"), {"expiring": "1"}).content.decode()

    assert soon.number in page and later.number not in page


def test_the_360_panel_counts_effective_and_pending_in_constant_queries(customer, am, supervisor, inet):
    request = RequestFactory().get("/")
    request.user = am
    draft(customer, am, inet, title="草稿一")
    with CaptureQueriesContext(connection) as few:
        context = customer_panel_context(request, customer)
    assert context["agreement_count"] == 1
    for n in range(3):
        effective(customer, am, supervisor, inet, title=f"生效{n}")
    svc.agreement_terminate(Agreement.objects.filter(status="effective").first(), by=am, reason="终止")
    request = RequestFactory().get("/")
    request.user = am

    with CaptureQueriesContext(connection) as many:
        context = customer_panel_context(request, customer)

    assert context["agreement_count"] == 3  # the terminated one is not shown
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_create_page_takes_the_templates_defaults(client, customer, am, inet):
    template = AgreementTemplateFactory(default_term_months=36, default_sla_class="AAA")
    template.products.add(inet)
    client.force_login(am)

    page = client.get(reverse("orders:agreement-create"), {"customer": customer.pk, "template": template.pk})

    html = page.content.decode()
    assert page.status_code == 200 and customer.name in html
    assert 'name="term_months" value="36"' in html and '<option value="AAA" selected>' in html
    assert f'<option value="{inet.pk}" selected>' in html


def test_editing_an_effective_agreement_asks_for_the_reason(client, customer, am, supervisor, inet):
    agreement = effective(customer, am, supervisor, inet, editors=[supervisor])
    client.force_login(supervisor)
    url = reverse("orders:agreement-edit", args=[agreement.pk])
    assert 'name="reason"' in client.get(url).content.decode()
    form = {
        "title": agreement.title, "term_months": 12, "discount_cap": "10", "sla_class": "standard",
        "editors": [supervisor.pk], "items-TOTAL_FORMS": 1, "items-INITIAL_FORMS": 0, "items-0-product": inet.pk,
        "items-0-unit_price": "4000", "items-0-discount": "2",
    }  # fmt: skip

    refused = client.post(url, form)
    assert refused.status_code == 400 and "Say why the effective agreement changes." in refused.content.decode()
    assert client.post(url, {**form, "reason": "加折扣"}).status_code == 302

    agreement.refresh_from_db()
    assert agreement.version == 2 and agreement.items.get().discount == D("2")
    client.force_login(am)  # not a named editor: no edit page
    assert client.get(url).status_code == 403


def test_the_detail_page_runs_the_same_queries_for_more_items_and_versions(
    client, customer, am, supervisor, inet, data_line
):
    agreement = effective(customer, am, supervisor, inet, editors=[supervisor])
    client.force_login(am)
    url = reverse("orders:agreement-detail", args=[agreement.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for price in ("3100", "3200", "3300"):
        svc.agreement_update(agreement, by=supervisor, reason="调价", items=[item(inet, price), item(data_line, price)])

    with CaptureQueriesContext(connection) as more:
        page = client.get(url).content.decode()

    assert 'id="version-4"' in page
    assert len(more.captured_queries) == len(few.captured_queries)


def test_the_customer_page_shows_the_agreements_panel_and_the_menu_item(client, customer, am, inet):
    agreement = draft(customer, am, inet, title="三六零协议")
    client.force_login(am)

    page = client.get(customer.get_absolute_url()).content.decode()
    panel_url = reverse("customers:panel", args=[customer.pk, "agreements"])
    panel = client.get(panel_url, headers={"HX-Request": "true"}).content.decode()

    assert 'id="panel-agreements"' in page and panel_url in page and "三六零协议" not in page  # fetched lazily
    assert "三六零协议" in panel and reverse("orders:agreement-detail", args=[agreement.pk]) in panel
    assert f'href="{reverse("orders:agreement-list")}"' in page


def test_the_admin_shows_an_agreement_with_its_items_and_read_only_versions(client, admin_user, customer, am,
                                                                            supervisor, inet):  # fmt: skip
    agreement = effective(customer, am, supervisor, inet)
    client.force_login(admin_user)

    change = client.get(reverse("admin:orders_agreement_change", args=[agreement.pk])).content.decode()

    assert agreement.number in change and "Became effective" in change and 'name="items-0-unit_price"' in change
    assert 'name="versions-0-reason"' not in change  # the history is read-only
    for name in ("admin:orders_agreement_changelist", "admin:orders_agreementtemplate_add"):
        assert client.get(reverse(name)).status_code == 200
