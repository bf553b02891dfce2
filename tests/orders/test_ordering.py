"""Order entry: the product templates, submission against the template, the channel and the agreement,
approval, cancellation, orders acting on subscriptions, won opportunities and pre-acceptance forms."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from channels import calendar
from channels.models import ChannelType, Notification, Role
from opportunities import services as opportunity_services
from opportunities.models import CloseReason, Kind, RoutingStatus, Stage
from orders.models import Agreement, AgreementItem, Order, OrderField, PreAcceptance, Product, Subscription
from orders.order_fields import validate_values
from orders.services import ordering
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

INET_VALUES = {"bandwidth": 100, "a_end": "杭州市西湖区文三路 90 号", "ip_block": 29, "sla_class": "A",
               "install_phone": "13800001234"}  # fmt: skip


@pytest.fixture
def customer(am):
    return CustomerFactory(account_manager=am)


def product(code: str) -> Product:
    return Product.objects.get(code=code)


def agreement_for(customer, am, *, price="3000", discount="10", cap="15", max_quantity=None, **fields) -> Agreement:
    today = timezone.localdate()
    defaults = {"status": Agreement.Status.EFFECTIVE, "starts_on": today - datetime.timedelta(days=30),
                "ends_on": today + datetime.timedelta(days=300), "discount_cap": Decimal(cap)}  # fmt: skip
    agreement = Agreement.objects.create(customer=customer, title="互联网专线框架协议", created_by=am,
                                         **{**defaults, **fields})  # fmt: skip
    AgreementItem.objects.create(agreement=agreement, product=product("INET"), unit_price=Decimal(price),
                                 discount=Decimal(discount), max_quantity=max_quantity)  # fmt: skip
    return agreement


def inet_order(customer, am, *, agreement=None, values=None, **line) -> Order:
    row = {"product": product("INET"), "quantity": 1, "unit_price": Decimal("3000"), "discount": Decimal("0"),
           "values": INET_VALUES if values is None else values, **line}  # fmt: skip
    return ordering.order_create(customer, by=am, agreement=agreement, lines=[row])


# --- reference data ------------------------------------------------------------------------------------


def test_every_offered_product_has_a_template_lead_time_and_accepting_channels():
    for item in Product.objects.all():
        assert OrderField.objects.filter(product=item).exists(), item.code
        assert item.accepting_channels.exists(), item.code
    assert (product("INET").lead_time_days, product("INET").construction_lead_time_days) == (10, 30)
    assert (product("VPMN").lead_time_days, product("APN").lead_time_days) == (1, 3)
    hall = ChannelType.objects.get(code="service_hall")
    assert hall in product("VPMN").accepting_channels.all()
    assert hall not in product("INET").accepting_channels.all()


# --- template validation per field kind ----------------------------------------------------------------

CASES = [
    # (product, key, value, valid)
    ("INET", "bandwidth", 2, True), ("INET", "bandwidth", 10000, True), ("INET", "bandwidth", 1, False),
    ("INET", "bandwidth", 10001, False), ("INET", "bandwidth", "abc", False),
    ("SDWAN", "bandwidth", "100", True), ("SDWAN", "bandwidth", 150, False),
    ("VPMN", "members", 2, True), ("VPMN", "members", 10000, True), ("VPMN", "members", 1, False),
    ("VPMN", "members", 10001, False), ("VPMN", "members", 2.5, False), ("VPMN", "members", "1e999999", False),
    ("VPMN", "short_prefix", "61", True), ("VPMN", "short_prefix", "69", True), ("VPMN", "short_prefix", "60", False),
    ("VPMN", "short_digits", 3, True), ("VPMN", "short_digits", 6, True), ("VPMN", "short_digits", 7, False),
    ("INET", "ip_block", 24, True), ("INET", "ip_block", 30, True), ("INET", "ip_block", 23, False),
    ("INET", "ip_block", 31, False),
    ("CLOUD", "storage_tb", "0.1", True), ("CLOUD", "storage_tb", "1000", True), ("CLOUD", "storage_tb", "0.05", False),
    ("CLOUD", "storage_tb", "1000.01", False),
    ("APN", "apn_name", "hzbank.zj", True), ("APN", "apn_name", "-bad.zj", False), ("APN", "apn_name", "a.gprs", False),
    ("APN", "apn_name", "a" * 63, False),
    ("INET", "install_phone", "0571-8888 1234", True), ("INET", "install_phone", "12345", False),
    ("QXT", "signature", "杭州银行" * 5, True), ("QXT", "signature", "杭州银行" * 5 + "!", False),
    ("INET", "a_end", "文三路", False), ("INET", "a_end", 42, False),
    ("INET", "install_date", "2027-01-15", True), ("INET", "install_date", "15/01/2027", False),
]  # fmt: skip


@pytest.mark.parametrize(("code", "key", "value", "valid"), CASES)
def test_template_value_inside_at_and_outside_its_bounds(code, key, value, valid):
    specs = list(OrderField.objects.filter(product__code=code))
    _cleaned, errors = validate_values(specs, {key: value}, partial=True)
    assert (f"values.{key}" not in errors) == valid, errors


def test_template_refuses_unknown_keys_and_missing_required_fields_all_at_once():
    specs = list(OrderField.objects.filter(product__code="INET"))
    cleaned, errors = validate_values(specs, {"bandwidth": 20000, "colour": "red"})
    assert errors["values.colour"] == ["Unknown field “colour” for this product."]
    assert errors["values.bandwidth"] == ["Bandwidth (Mbit/s) must be at most 10000."]
    assert errors["values.a_end"] == ["A-end address is required."]
    assert {"values.ip_block", "values.sla_class", "values.install_phone"} <= errors.keys()
    assert "values.install_date" not in errors  # optional
    assert validate_values(specs, INET_VALUES) == ({**INET_VALUES}, {})


# --- submit --------------------------------------------------------------------------------------------


def test_a_clean_order_is_submitted_with_its_committed_date_and_provisioning_queued(
    customer, am, django_capture_on_commit_callbacks
):
    order = inet_order(customer, am, agreement=agreement_for(customer, am))
    assert order.number == f"OR{order.pk:08d}" and order.status == Order.Status.DRAFT
    with django_capture_on_commit_callbacks() as callbacks:
        order = ordering.order_submit(order, by=am)
    assert order.status == Order.Status.SUBMITTED
    assert order.committed_on == calendar.add_working_days(timezone.localdate(), 10)
    assert order.lines.get().provisioning_type == Product.Provisioning.WORK_ORDER
    assert len(callbacks) == 1  # start_provisioning, after commit


def test_an_admin_enters_orders_as_the_operations_center(customer, admin_user):
    line = {"product": product("VPMN"), "unit_price": Decimal("0"),
            "values": {"members": 30, "short_prefix": "61", "short_digits": 4}}  # fmt: skip
    order = ordering.order_create(customer, by=admin_user, lines=[line])
    assert order.intake_channel.code == "operations_center"
    order = ordering.order_submit(order, by=admin_user)
    assert order.committed_on == calendar.add_working_days(timezone.localdate(), 1)


def test_construction_takes_the_construction_lead_time(customer, am):
    order = inet_order(customer, am, agreement=agreement_for(customer, am))
    ordering.order_update(order, by=am, needs_construction=True)
    order = ordering.order_submit(order, by=am)
    assert order.committed_on == calendar.add_working_days(timezone.localdate(), 30)


def test_submit_fails_with_every_template_error_and_the_draft_stays(customer, am):
    order = inet_order(customer, am, values={"bandwidth": 100})
    with pytest.raises(ValidationError) as caught:
        ordering.order_submit(order, by=am)
    assert {"lines[0].values.a_end", "lines[0].values.ip_block", "lines[0].values.sla_class",
            "lines[0].values.install_phone"} <= caught.value.message_dict.keys()  # fmt: skip
    order.refresh_from_db()
    assert order.status == Order.Status.DRAFT


def test_a_channel_that_may_not_accept_the_product_cannot_submit_it(customer, am):
    order = inet_order(customer, am, agreement=agreement_for(customer, am))
    ordering.order_update(order, by=am, intake_channel=ChannelType.objects.get(code="service_hall"))
    with pytest.raises(ValidationError) as caught:
        ordering.order_submit(order, by=am)
    assert "cannot be accepted through the Service hall channel" in caught.value.message_dict["lines[0].product"][0]


# --- the agreement's terms -----------------------------------------------------------------------------

TERMS = [
    # (line changes, agreement changes, expected sentence or None)
    ({"discount": Decimal("9.99")}, {}, None),
    ({"discount": Decimal("10")}, {}, None),
    ({"discount": Decimal("10.01")}, {}, "above the 10% agreed for this product"),
    ({"discount": Decimal("8")}, {"cap": "8", "discount": "9"}, None),
    ({"discount": Decimal("8.01")}, {"cap": "8", "discount": "9"}, "above the agreement's discount cap of 8%"),
    ({"unit_price": Decimal("3000.01")}, {}, None),
    ({"unit_price": Decimal("3000")}, {}, None),
    ({"unit_price": Decimal("2999.99")}, {}, "below the agreed price of 3000.00 RMB"),
    ({"quantity": 4}, {"max_quantity": 5}, None),
    ({"quantity": 5}, {"max_quantity": 5}, None),
    ({"quantity": 6}, {"max_quantity": 5}, "above the agreement's maximum of 5"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "terms", "sentence"), TERMS)
def test_each_agreement_term_just_inside_at_and_outside(customer, am, supervisor, line, terms, sentence):
    order = inet_order(customer, am, agreement=agreement_for(customer, am, **terms), **line)
    order = ordering.order_submit(order, by=am)
    if sentence is None:
        assert (order.status, order.approval_reasons) == (Order.Status.SUBMITTED, [])
    else:
        assert order.status == Order.Status.IN_APPROVAL
        assert len(order.approval_reasons) == 1 and sentence in order.approval_reasons[0]
        assert order.approval_reasons[0].startswith("INET ")
        assert Notification.objects.filter(recipient=supervisor, kind="order").exists()


def test_agreement_running_dates_effectiveness_coverage_and_contract(customer, am):
    today = timezone.localdate()
    ended = agreement_for(customer, am, ends_on=today - datetime.timedelta(days=1))
    order = ordering.order_submit(inet_order(customer, am, agreement=ended), by=am)
    assert "outside its term" in order.approval_reasons[0]
    on_the_last_day = agreement_for(customer, am, ends_on=today)
    assert ordering.order_submit(inet_order(customer, am, agreement=on_the_last_day), by=am).approval_reasons == []

    draft = agreement_for(customer, am, status=Agreement.Status.DRAFT)
    assert "is not effective (it is draft)" in ordering.order_submit(inet_order(customer, am, agreement=draft),
                                                                     by=am).approval_reasons[0]  # fmt: skip
    other = Agreement.objects.create(customer=customer, title="其他协议", created_by=am,
                                     status=Agreement.Status.EFFECTIVE)  # fmt: skip
    assert "is not covered by agreement 其他协议" in ordering.order_submit(inet_order(customer, am, agreement=other),
                                                                          by=am).approval_reasons[0]  # fmt: skip
    none = ordering.order_submit(inet_order(customer, am), by=am)
    assert none.approval_reasons == ["INET Dedicated internet access needs a contract: no agreement is named."]


# --- approval ------------------------------------------------------------------------------------------


@pytest.fixture
def waiting(customer, am):
    order = inet_order(customer, am, agreement=agreement_for(customer, am), discount=Decimal("20"))
    order = ordering.order_submit(order, by=am)
    assert order.status == Order.Status.IN_APPROVAL
    return order


def test_only_the_customers_supervisor_or_an_admin_approves(waiting, am, teammate, outsider, supervisor):
    other_supervisor = UserFactory(role=Role.SUPERVISOR, team=outsider.team)
    for user in (am, teammate, other_supervisor):
        with pytest.raises(PermissionDenied):
            ordering.order_approve(waiting, by=user)
    order = ordering.order_approve(waiting, by=supervisor)
    assert (order.status, order.approved_by) == (Order.Status.SUBMITTED, supervisor)
    assert order.committed_on is not None
    with pytest.raises(ordering.Conflict):
        ordering.order_approve(waiting, by=supervisor)


def test_rejection_needs_a_reason_and_sends_the_order_back_to_draft(waiting, am, supervisor):
    with pytest.raises(ValidationError):
        ordering.order_reject(waiting, by=supervisor, reason="  ")
    order = ordering.order_reject(waiting, by=supervisor, reason="折扣超出授权")
    assert order.status == Order.Status.DRAFT
    assert order.approval_reasons[0].endswith("折扣超出授权")
    assert Notification.objects.filter(recipient=am, kind="order", body="折扣超出授权").exists()


def test_cancel_needs_a_reason_and_only_before_provisioning(waiting, am):
    with pytest.raises(ValidationError):
        ordering.order_cancel(waiting, by=am, reason="")
    order = ordering.order_cancel(waiting, by=am, reason="客户改期")
    assert (order.status, order.cancel_reason) == (Order.Status.CANCELLED, "客户改期")
    with pytest.raises(ordering.Conflict):
        ordering.order_cancel(order, by=am, reason="again")


# --- orders on subscriptions ---------------------------------------------------------------------------


def subscription(customer, status=Subscription.Status.ACTIVE) -> Subscription:
    return Subscription.objects.create(customer=customer, product=product("INET"), status=status,
                                       service_id=f"HZ-INET-{Subscription.objects.count() + 1}",
                                       monthly_price=Decimal("3000"))  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "state", "ok"),
    [
        (Order.Kind.SUSPEND, Subscription.Status.ACTIVE, True),
        (Order.Kind.SUSPEND, Subscription.Status.SUSPENDED, False),
        (Order.Kind.RESUME, Subscription.Status.SUSPENDED, True),
        (Order.Kind.RESUME, Subscription.Status.ACTIVE, False),
        (Order.Kind.TERMINATE, Subscription.Status.TERMINATED, False),
    ],
)
def test_orders_on_subscriptions_need_one_of_the_customer_in_the_right_state(customer, am, kind, state, ok):
    line = {"product": product("INET"), "unit_price": Decimal("0"), "subscription": subscription(customer, state)}
    if ok:
        assert ordering.order_create(customer, by=am, kind=kind, lines=[line]).kind == kind
    else:
        with pytest.raises(ValidationError) as caught:
            ordering.order_create(customer, by=am, kind=kind, lines=[line])
        assert "lines[0].subscription" in caught.value.message_dict


def test_a_subscription_of_another_customer_or_none_is_refused(customer, am):
    other = subscription(CustomerFactory(account_manager=am))
    for sub in (other, None):
        line = {"product": product("INET"), "unit_price": Decimal("0"), "subscription": sub}
        with pytest.raises(ValidationError) as caught:
            ordering.order_create(customer, by=am, kind=Order.Kind.TERMINATE, lines=[line])
        assert "lines[0].subscription" in caught.value.message_dict


# --- won opportunity → draft order ---------------------------------------------------------------------


def test_a_won_opportunity_creates_its_draft_order_and_keeps_the_link(customer, am):
    opp = OpportunityFactory(customer=customer, kind=Kind.OPPORTUNITY, stage=Stage.BIDDING,
                             routing_status=RoutingStatus.CLAIMED, claimed_by=am, assigned_to=am,
                             stage_changed_at=timezone.now(), expected_value=Decimal("9000"))  # fmt: skip
    opp.products.set([product("INET"), product("VPMN")])
    won = opportunity_services.opportunity_close(pk=opp.pk, by=am, result=Stage.WON,
                                                 reason=CloseReason.objects.get(code="solution_fit"))  # fmt: skip
    order = won.order
    assert (order.customer, order.status, order.source, order.created_by) == (
        customer, Order.Status.DRAFT, Order.Source.OPPORTUNITY, am)  # fmt: skip
    lines = {line.product.code: line for line in order.lines.select_related("product")}
    assert lines.keys() == {"INET", "VPMN"}
    assert (lines["INET"].unit_price, lines["INET"].discount, lines["INET"].values) == (Decimal("3000"), 0, {})
    opp.refresh_from_db()
    assert opp.order_id == order.pk


# --- pre-acceptance forms ------------------------------------------------------------------------------


def test_pre_acceptance_is_checked_against_the_channel_then_converted_or_refused(customer, agent, dispatcher, am):
    with pytest.raises(ValidationError) as caught:
        ordering.pre_acceptance_submit(customer, by=agent, product=product("INET"), details="要一条专线")
    assert "Group hotline" in caught.value.message_dict["product"][0]
    form = ordering.pre_acceptance_submit(customer, by=agent, product=product("GCRBT"), details="集团彩铃 80 人",
                                          values={"members": 80}, contact_phone="13800001234")  # fmt: skip
    assert form.channel.code == "group_hotline" and form.status == PreAcceptance.Status.QUEUED
    with pytest.raises(PermissionDenied):
        ordering.pre_acceptance_convert(form, by=am)
    order = ordering.pre_acceptance_convert(form, by=dispatcher)
    form.refresh_from_db()
    assert (form.status, form.order, form.handled_by) == (PreAcceptance.Status.CONVERTED, order, dispatcher)
    assert (order.source, order.intake_channel.code, order.status) == ("pre_acceptance", "group_hotline", "draft")
    assert order.lines.get().values == {"members": 80}
    with pytest.raises(ordering.Conflict):
        ordering.pre_acceptance_refuse(form, by=dispatcher, reason="重复")


def test_refusing_a_pre_acceptance_form_needs_a_reason_the_submitter_is_told(customer, agent, dispatcher):
    form = ordering.pre_acceptance_submit(customer, by=agent, product=product("VPMN"), details="V网")
    with pytest.raises(ValidationError):
        ordering.pre_acceptance_refuse(form, by=dispatcher, reason=" ")
    form = ordering.pre_acceptance_refuse(form, by=dispatcher, reason="客户已有V网")
    assert (form.status, form.refusal_reason) == (PreAcceptance.Status.REFUSED, "客户已有V网")
    assert Notification.objects.filter(recipient=agent, kind="pre_acceptance", body="客户已有V网").exists()
