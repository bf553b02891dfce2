"""The provisioning loop (seed 000 I.3): starting an order per provisioning type, the step actions and who may
take them, and the SLA sweep (warning, escalation, customer delay notice — once each, in a constant number of
statements)."""

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels.models import Notification, Role, User, Workstation
from orders.models import (
    Order,
    OrderLine,
    Product,
    ProvisioningFailure,
    StepEvent,
    StepTemplate,
    WorkOrder,
    WorkStep,
)  # fmt: skip
from orders.provisioning_backends import ProvisioningBackend, ProvisioningError
from orders.services import provisioning
from tests.channels.factories import UserFactory
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.orders.factories import (
    ProductFactory,
    ProvisioningLineFactory,
    ProvisioningOrderFactory,
    StepTemplateFactory,
    WorkstationFactory,
)

ZONE = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZONE)  # a working Monday, 10:00 in Shanghai
Status = WorkStep.Status


@dataclass
class Desk:
    workstation: Workstation
    manager: User
    executor: User
    colleague: User


def desk(code: str) -> Desk:
    manager = UserFactory(role=Role.WORKSTATION_MANAGER)
    workstation = WorkstationFactory(code=code, manager=manager)
    manager.workstation = workstation
    manager.save(update_fields=["workstation"])
    return Desk(
        workstation, manager,
        UserFactory(role=Role.WORKSTATION_EXECUTOR, workstation=workstation),
        UserFactory(role=Role.WORKSTATION_EXECUTOR, workstation=workstation),
    )  # fmt: skip


@dataclass
class World:
    survey: Desk
    build: Desk
    accept: Desk
    product: Product
    customer: object


@pytest.fixture
def world(am):
    survey, build, accept = desk("t-survey"), desk("t-build"), desk("t-accept")
    product = ProductFactory(provisioning_type=Product.Provisioning.WORK_ORDER)
    StepTemplateFactory(product=product, sequence=1, name="现场勘察", workstation=survey.workstation)
    StepTemplateFactory(product=product, sequence=2, name="工程施工", workstation=build.workstation,
                        duration_hours=120, only_with_construction=True)  # fmt: skip
    StepTemplateFactory(product=product, sequence=3, name="数据制作", workstation=build.workstation)
    StepTemplateFactory(product=product, sequence=4, name="客户验收", workstation=accept.workstation,
                        action="acceptance")  # fmt: skip
    return World(survey, build, accept, product, CustomerFactory(account_manager=am))


def submitted_order(world: World, *, products=None, committed_on=None, **fields) -> Order:
    order = ProvisioningOrderFactory(customer=world.customer, committed_on=committed_on, **fields)
    for product in products or [world.product]:
        ProvisioningLineFactory(order=order, product=product)
    return order


def started(world: World, **fields) -> WorkOrder:
    order = submitted_order(world, **fields)
    assert provisioning.start_order(order, now=MONDAY)
    return WorkOrder.objects.get(order_line__order=order)


def steps_of(work_order: WorkOrder) -> list[WorkStep]:
    return list(work_order.steps.order_by("sequence"))


def fresh(step: WorkStep) -> WorkStep:
    step.refresh_from_db()
    return step


# --- start_order -----------------------------------------------------------------------------------------


def test_a_change_order_skips_the_steps_not_marked_for_changes(world):
    StepTemplate.objects.filter(product=world.product, name="现场勘察").update(on_change=False)
    work_order = started(world, kind=Order.Kind.CHANGE)
    steps = steps_of(work_order)
    assert [s.name for s in steps] == ["数据制作", "客户验收"] and steps[0].status == Status.READY
    assert [s.name for s in steps_of(started(world))] == ["现场勘察", "数据制作", "客户验收"]  # a new order: all


def test_the_shipped_line_products_skip_survey_and_design_on_change(db):
    names = set(StepTemplate.objects.filter(product__code="INET", on_change=True).values_list("name", flat=True))
    assert names == {"资源核查", "工程施工", "数据制作", "测试", "客户验收/交维"}


def test_a_work_order_line_gets_a_numbered_work_order_with_the_first_step_queued(world):
    work_order = started(world, committed_on=dt.date(2026, 12, 18))
    assert work_order.number == f"WO{work_order.pk:08d}"
    assert work_order.customer_id == world.customer.pk
    assert timezone.localtime(work_order.due_at, ZONE).replace(tzinfo=None) == dt.datetime(2026, 12, 18, 23, 59, 59)
    steps = steps_of(work_order)
    # No construction needed: the construction step is not copied.
    assert [s.name for s in steps] == ["现场勘察", "数据制作", "客户验收"]
    assert [s.status for s in steps] == [Status.READY, Status.PENDING, Status.PENDING]
    first = steps[0]
    # 8 working hours from Monday 10:00 (office 08:30–17:30): Tuesday 09:00; warned with 25 % left.
    assert timezone.localtime(first.due_at, ZONE) == dt.datetime(2026, 12, 8, 9, 0, tzinfo=ZONE)
    assert timezone.localtime(first.warn_at, ZONE) == dt.datetime(2026, 12, 7, 16, 0, tzinfo=ZONE)
    assert list(first.events.values_list("action", flat=True)) == [StepEvent.Action.READY]
    order = work_order.order_line.order
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS
    assert work_order.order_line.status == OrderLine.Status.PROVISIONING


def test_construction_steps_are_copied_when_the_order_needs_construction(world):
    work_order = started(world, needs_construction=True)
    assert [s.name for s in steps_of(work_order)] == ["现场勘察", "工程施工", "数据制作", "客户验收"]


def test_starting_twice_starts_once(world):
    order = submitted_order(world)
    assert provisioning.start_order(order, now=MONDAY)
    assert not provisioning.start_order(Order.objects.get(pk=order.pk), now=MONDAY)
    assert WorkOrder.objects.filter(order_line__order=order).count() == 1


def test_a_platform_review_line_gets_a_work_order_too(world):
    review = desk("t-review")
    product = ProductFactory(provisioning_type=Product.Provisioning.PLATFORM_REVIEW)
    StepTemplateFactory(product=product, sequence=1, name="平台审核", workstation=review.workstation)
    order = submitted_order(world, products=[product])
    provisioning.start_order(order, now=MONDAY)
    step = WorkStep.objects.get(work_order__order_line__order=order)
    assert (step.name, step.status, step.workstation_id) == ("平台审核", Status.READY, review.workstation.pk)


class RefusingBackend(ProvisioningBackend):
    def activate(self, line):
        raise ProvisioningError("HLR timeout")


def test_an_interface_failure_marks_the_line_failed_and_is_recorded_for_it_support(world, settings):
    settings.KAM_PROVISIONING_BACKEND = "tests.orders.test_provisioning.RefusingBackend"
    order = submitted_order(world, products=[ProductFactory(provisioning_type=Product.Provisioning.BOSS_DIRECT)])
    provisioning.start_order(order, now=MONDAY)
    line = order.lines.get()
    assert line.status == OrderLine.Status.FAILED
    assert ProvisioningFailure.objects.get(line=line).message == "HLR timeout"
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS  # not completed while a line failed


def test_a_product_without_steps_fails_its_line_instead_of_waiting_forever(world):
    order = submitted_order(world, products=[ProductFactory(provisioning_type=Product.Provisioning.WORK_ORDER)])
    provisioning.start_order(order, now=MONDAY)
    assert order.lines.get().status == OrderLine.Status.FAILED
    assert not WorkOrder.objects.filter(order_line__order=order).exists()


# --- step actions ----------------------------------------------------------------------------------------


def test_claim_by_workstation_staff_then_a_second_claim_conflicts(world):
    first = steps_of(started(world))[0]
    provisioning.step_claim(first, by=world.survey.executor, revision=first.revision)
    first = fresh(first)
    assert (first.status, first.assignee_id) == (Status.IN_PROGRESS, world.survey.executor.pk)
    with pytest.raises(provisioning.StepConflict):
        provisioning.step_claim(first, by=world.survey.colleague, revision=0)  # the revision they saw


@pytest.mark.parametrize("who", ["other_executor", "outsider", "analyst"])
def test_only_the_steps_workstation_may_claim(world, who, request):
    first = steps_of(started(world))[0]
    user = world.build.executor if who == "other_executor" else request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        provisioning.step_claim(first, by=user, revision=first.revision)
    assert fresh(first).status == Status.READY


def test_the_workstation_manager_and_the_dispatcher_may_claim(world, dispatcher):
    work_order = started(world)
    first = steps_of(work_order)[0]
    provisioning.step_claim(first, by=world.survey.manager, revision=first.revision)
    assert fresh(first).assignee_id == world.survey.manager.pk
    other = steps_of(started(world))[0]
    provisioning.step_claim(other, by=dispatcher, revision=other.revision)
    assert fresh(other).assignee_id == dispatcher.pk


def test_hand_over_within_the_workstation_only(world):
    first = steps_of(started(world))[0]
    provisioning.step_claim(first, by=world.survey.executor, revision=0)
    with pytest.raises(ValidationError) as refused:
        provisioning.step_hand_over(first, by=world.survey.executor, to_user=world.build.executor, revision=1)
    assert "to_user" in refused.value.message_dict
    provisioning.step_hand_over(first, by=world.survey.executor, to_user=world.survey.colleague, revision=1)
    first = fresh(first)
    assert (first.assignee_id, first.status) == (world.survey.colleague.pk, Status.IN_PROGRESS)
    event = first.events.get(action=StepEvent.Action.HAND_OVER)
    assert (event.actor_id, event.to_user_id) == (world.survey.executor.pk, world.survey.colleague.pk)
    assert Notification.objects.filter(recipient=world.survey.colleague, kind="work_step").exists()


def test_only_the_holder_completes_and_the_next_step_is_queued_with_its_due_time(world):
    first, second, _third = steps_of(started(world))
    provisioning.step_claim(first, by=world.survey.executor, revision=0)
    with pytest.raises(PermissionDenied):
        provisioning.step_complete(first, by=world.survey.colleague, revision=1)
    later = MONDAY + dt.timedelta(hours=1)
    provisioning.step_complete(first, by=world.survey.executor, revision=1, now=later)
    first, second = fresh(first), fresh(second)
    assert (first.status, first.completed_by_id, first.on_time) == (Status.DONE, world.survey.executor.pk, True)
    assert second.status == Status.READY
    assert timezone.localtime(second.due_at, ZONE) == dt.datetime(2026, 12, 8, 10, 0, tzinfo=ZONE)
    assert second.events.filter(action=StepEvent.Action.READY).exists()


def test_a_step_completed_after_its_due_time_is_late(world):
    first = steps_of(started(world))[0]
    provisioning.step_claim(first, by=world.survey.executor, revision=0)
    provisioning.step_complete(first, by=world.survey.executor, revision=1, now=MONDAY + dt.timedelta(days=2))
    assert fresh(first).on_time is False


def test_reject_sends_back_to_the_step_before_with_a_new_due_time(world):
    first, second, _third = steps_of(started(world))
    provisioning.step_claim(first, by=world.survey.executor, revision=0)
    provisioning.step_complete(first, by=world.survey.executor, revision=1)
    second = fresh(second)
    provisioning.step_claim(second, by=world.build.executor, revision=second.revision)
    with pytest.raises(ValidationError):
        provisioning.step_reject(second, by=world.build.executor, revision=second.revision + 1, reason=" ")
    back = MONDAY + dt.timedelta(days=1)
    provisioning.step_reject(second, by=world.build.executor, revision=second.revision + 1, reason="地址不符",
                             now=back)  # fmt: skip
    first, second = fresh(first), fresh(second)
    assert (first.status, first.times_rejected) == (Status.READY, 1)
    assert first.due_at == provisioning.Deadlines(back).add(back, 8)
    assert second.status == Status.PENDING
    assert second.events.get(action=StepEvent.Action.REJECT).note == "地址不符"
    order = Order.objects.get(lines__work_order__steps=first)
    assert order.first_time_right is True  # sent back for the survey's work, not the order's data


def test_reject_for_wrong_order_data_goes_to_the_first_step_and_counts_against_the_order(world):
    first, second, third = steps_of(started(world))
    for step, person in ((first, world.survey.executor), (second, world.build.executor)):
        step = fresh(step)
        provisioning.step_claim(step, by=person, revision=step.revision)
        provisioning.step_complete(step, by=person, revision=step.revision + 1)
    third = fresh(third)
    provisioning.step_claim(third, by=world.accept.executor, revision=third.revision)
    provisioning.step_reject(third, by=world.accept.executor, revision=third.revision + 1, reason="带宽填错",
                             order_data_wrong=True)  # fmt: skip
    assert [s.status for s in map(fresh, (first, second, third))] == [Status.READY, Status.PENDING, Status.PENDING]
    assert Order.objects.get(lines__work_order__steps=first).first_time_right is False


def test_block_needs_a_reason_blocks_the_work_order_and_unblock_resumes(world):
    work_order = started(world)
    first = steps_of(work_order)[0]
    provisioning.step_claim(first, by=world.survey.executor, revision=0)
    with pytest.raises(ValidationError):
        provisioning.step_block(first, by=world.survey.executor, revision=1, reason="")
    provisioning.step_block(first, by=world.survey.executor, revision=1, reason="客户机房未就绪")
    first = fresh(first)
    assert (first.status, first.block_reason) == (Status.BLOCKED, "客户机房未就绪")
    work_order.refresh_from_db()
    assert work_order.status == WorkOrder.Status.BLOCKED
    with pytest.raises(provisioning.StepConflict):
        provisioning.step_complete(first, by=world.survey.executor, revision=2)
    provisioning.step_unblock(first, by=world.survey.executor, revision=2)
    first = fresh(first)
    assert (first.status, first.block_reason) == (Status.IN_PROGRESS, "")
    work_order.refresh_from_db()
    assert work_order.status == WorkOrder.Status.OPEN
    assert list(first.events.order_by("id").values_list("action", flat=True)) == ["ready", "claim", "block", "unblock"]


# --- SLA sweep -------------------------------------------------------------------------------------------


def test_warning_then_escalation_then_customer_notice_once_each(world, am, caplog, django_capture_on_commit_callbacks):
    contact = ContactFactory(customer=world.customer, is_key_person=True)
    work_order = started(world, committed_on=MONDAY.date())
    first = steps_of(work_order)[0]
    provisioning.step_claim(first, by=world.survey.executor, revision=0)

    with time_machine.travel(MONDAY.replace(hour=16, minute=30), tick=False):
        assert provisioning.sweep() == provisioning.SweepResult(warned=1)
        assert provisioning.sweep() == provisioning.SweepResult()
    warning = Notification.objects.get(kind="provisioning_warning")
    assert warning.recipient == world.survey.executor  # the holder, not the whole workstation

    caplog.set_level("INFO", logger="kam.sms")
    tuesday = MONDAY + dt.timedelta(days=1)
    with time_machine.travel(tuesday, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert provisioning.sweep() == provisioning.SweepResult(escalated=1, customers_told=1)
        assert provisioning.sweep() == provisioning.SweepResult()
    escalations = Notification.objects.filter(kind="provisioning_escalation")
    assert {n.recipient_id for n in escalations} == {world.survey.manager.pk, am.pk}
    assert fresh(first).escalated_at == tuesday
    order = Order.objects.get(pk=work_order.order_line.order_id)
    assert order.delay_notified_at == tuesday
    sms = [r.getMessage() for r in caplog.records if r.name == "kam.sms"]
    assert len(sms) == 1 and contact.mobile in sms[0] and "现场勘察" in sms[0]
    assert Notification.objects.filter(kind="provisioning_delay", recipient=am).count() == 1
    actions = list(first.events.values_list("action", flat=True))
    assert actions.count("warn") == 1 and actions.count("escalate") == 1


def test_an_unclaimed_step_warns_its_workstation_staff_and_manager(world):
    started(world)
    provisioning.sweep(now=MONDAY.replace(hour=16, minute=30))
    assert set(Notification.objects.filter(kind="provisioning_warning").values_list("recipient_id", flat=True)) == {
        world.survey.executor.pk, world.survey.colleague.pk, world.survey.manager.pk,
    }  # fmt: skip


def test_a_backlog_of_overdue_steps_reaches_each_person_as_one_summary(world, am):
    many = provisioning.DIGEST_AFTER + 2
    for _ in range(many):
        started(world)
    assert provisioning.sweep(now=MONDAY + dt.timedelta(days=2)).escalated == many

    escalations = Notification.objects.filter(kind="provisioning_escalation")
    assert sorted(escalations.values_list("recipient_id", flat=True)) == sorted([world.survey.manager.pk, am.pk])
    summary = escalations.get(recipient=world.survey.manager)
    assert str(many) in summary.title and "现场勘察" in summary.body and summary.urgent
    assert summary.link == reverse("orders:provisioning-queue")
    assert escalations.get(recipient=am).link.startswith(reverse("orders:order-list"))
    # every step is still escalated on its own: stamped and in its history
    assert WorkStep.objects.filter(escalated_at__isnull=False).count() == many
    assert StepEvent.objects.filter(action="escalate").count() == many


def test_a_blocked_step_tells_the_customer_the_blocking_reason(world, caplog, django_capture_on_commit_callbacks):
    ContactFactory(customer=world.customer)
    work_order = started(world, committed_on=MONDAY.date())
    first = steps_of(work_order)[0]
    provisioning.step_block(first, by=world.survey.executor, revision=0, reason="客户机房未就绪")
    caplog.set_level("INFO", logger="kam.sms")
    with django_capture_on_commit_callbacks(execute=True):
        assert provisioning.sweep(now=MONDAY + dt.timedelta(hours=1)).customers_told == 1
    assert any("客户机房未就绪" in r.getMessage() for r in caplog.records if r.name == "kam.sms")


def test_an_order_that_still_fits_its_committed_date_is_not_reported_late(world):
    work_order = started(world, committed_on=dt.date(2026, 12, 31))
    first = steps_of(work_order)[0]
    provisioning.step_block(first, by=world.survey.executor, revision=0, reason="等待客户")
    assert provisioning.sweep(now=MONDAY + dt.timedelta(hours=1)).customers_told == 0


def sweep_statements(world, n: int) -> int:
    """Statements of one sweep that warns, escalates and tells about `n` steps' orders."""
    for _ in range(n):
        ContactFactory(customer=world.customer)
    for _ in range(n):
        started(world, committed_on=MONDAY.date())
    with CaptureQueriesContext(connection) as queries:
        result = provisioning.sweep(now=MONDAY + dt.timedelta(days=1))
    assert result.escalated == n and result.customers_told == n
    with CaptureQueriesContext(connection) as warn_queries:
        later = [s.pk for s in WorkStep.objects.filter(status=Status.READY)]
        WorkStep.objects.filter(pk__in=later).update(
            warned_at=None, warn_at=MONDAY, due_at=MONDAY + dt.timedelta(days=9)
        )
        assert provisioning.sweep(now=MONDAY + dt.timedelta(days=1)).warned == n
    return len(queries) + len(warn_queries)


def test_the_sweep_runs_a_constant_number_of_statements(world):
    few = sweep_statements(world, 10)
    WorkStep.objects.all().delete()
    many = sweep_statements(world, 100)
    assert few == many


# --- the closed loop with the installed base -------------------------------------------------------------


def walk(step: WorkStep, person: User) -> WorkStep:
    """Claim and complete a step as `person`."""
    step = fresh(step)
    provisioning.step_claim(step, by=person, revision=step.revision)
    provisioning.step_complete(step, by=person, revision=step.revision + 1)
    return fresh(step)


def test_acceptance_completes_the_line_creates_the_subscription_and_tells_the_account_manager(world, am):
    work_order = started(world)
    first, second, third = steps_of(work_order)
    walk(first, world.survey.executor)
    walk(second, world.build.executor)
    walk(third, world.accept.executor)
    line = OrderLine.objects.select_related("subscription", "order").get(pk=work_order.order_line_id)
    assert line.status == OrderLine.Status.COMPLETED
    assert line.subscription is not None and line.subscription.customer_id == world.customer.pk
    assert line.subscription.started_on == timezone.localdate()  # billing starts on the acceptance date
    assert line.order.status == Order.Status.COMPLETED
    work_order.refresh_from_db()
    assert work_order.status == WorkOrder.Status.COMPLETED
    assert Notification.objects.filter(recipient=am, kind="order_completed").exists()


def test_a_boss_direct_order_completes_at_once_with_its_subscription(world):
    order = submitted_order(world, products=[ProductFactory(provisioning_type=Product.Provisioning.BOSS_DIRECT)])
    provisioning.start_order(order, now=MONDAY)
    order.refresh_from_db()
    line = order.lines.get()
    assert (order.status, line.status) == (Order.Status.COMPLETED, OrderLine.Status.COMPLETED)
    assert line.external_ref.startswith("PV") and line.subscription_id


def test_a_failed_activation_is_retried_by_the_operations_center(world, dispatcher, settings):
    settings.KAM_PROVISIONING_BACKEND = "tests.orders.test_provisioning.RefusingBackend"
    order = submitted_order(world, products=[ProductFactory(provisioning_type=Product.Provisioning.BOSS_DIRECT)])
    provisioning.start_order(order, now=MONDAY)
    line = order.lines.get()
    with pytest.raises(PermissionDenied):
        provisioning.retry_activation(line, by=world.survey.executor)
    settings.KAM_PROVISIONING_BACKEND = "orders.provisioning_backends.LoggingProvisioningBackend"
    line = provisioning.retry_activation(line, by=dispatcher)
    assert line.status == OrderLine.Status.COMPLETED
    assert ProvisioningFailure.objects.get(line=line).retried_by == dispatcher  # still counted for IT support
    with pytest.raises(provisioning.StepConflict):
        provisioning.retry_activation(line, by=dispatcher)


@pytest.fixture
def resource_world(world):
    """The survey step checks resources: the product needs a circuit id from the customer's region."""
    from orders.models import ProductResourceNeed

    world.product.step_templates.filter(sequence=1).update(action="resource_check")
    ProductResourceNeed.objects.create(product=world.product, kind="circuit", region_matters=True)
    return world


def test_resource_check_without_a_free_circuit_blocks_the_step_with_the_reason(resource_world):
    first = steps_of(started(resource_world))[0]
    first = walk(first, resource_world.survey.executor)
    assert first.status == Status.BLOCKED
    assert "No free" in first.block_reason
    assert first.work_order.status == WorkOrder.Status.BLOCKED


def test_resource_check_reserves_the_circuit_that_becomes_the_service_id(resource_world):
    from tests.orders.factories import ResourceFactory

    circuit = ResourceFactory(region_code=resource_world.customer.region_id)
    first, second, third = steps_of(started(resource_world))
    assert walk(first, resource_world.survey.executor).status == Status.DONE
    circuit.refresh_from_db()
    assert circuit.status == "reserved"
    walk(second, resource_world.build.executor)
    walk(third, resource_world.accept.executor)
    circuit.refresh_from_db()
    assert circuit.status == "in_use"
    assert circuit.subscription.service_id == circuit.identifier


def test_the_tasks_start_an_order_and_sweep_on_the_beat(world, settings):
    from orders import tasks

    assert settings.CELERY_BEAT_SCHEDULE["provisioning-sweep"]["task"] == "orders.tasks.provisioning_sweep"
    order = submitted_order(world)
    tasks.start_provisioning(order.pk)
    tasks.start_provisioning(order.pk)  # delivered twice: started once
    assert WorkOrder.objects.filter(order_line__order=order).count() == 1
    with time_machine.travel(MONDAY + dt.timedelta(days=30), tick=False):
        assert tasks.provisioning_sweep()["escalated"] >= 1


def test_an_order_cancelled_during_provisioning_is_withdrawn_from_the_workstations(world, am):
    """The customer changes their mind during the survey: the work order closes, its steps leave the queues,
    the circuit the resource check reserved goes back to the pool, and a page loaded before gets a conflict."""
    from orders.models import Resource
    from orders.services import ordering
    from tests.orders.factories import ResourceFactory

    work_order = started(world)
    first = steps_of(work_order)[0]
    provisioning.step_claim(first, by=world.survey.executor, revision=first.revision)
    circuit = ResourceFactory(identifier="HZ-CANCEL-1", status="reserved", reserved_for=work_order.order_line)
    order = ordering.order_cancel(work_order.order_line.order, by=am, reason="客户取消建设")
    assert order.status == Order.Status.CANCELLED
    work_order.refresh_from_db()
    assert work_order.status == WorkOrder.Status.CANCELLED
    assert {s.status for s in steps_of(work_order)} == {Status.SKIPPED}
    assert Resource.objects.get(pk=circuit.pk).status == Resource.Status.FREE
    with pytest.raises(provisioning.StepConflict):
        provisioning.step_complete(fresh(first), by=world.survey.executor, revision=first.revision + 1)
