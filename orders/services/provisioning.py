"""Provisioning: the closed loop from a submitted order to accepted subscriptions (seed 000 I.3, closed loops
1–4). BOSS-direct lines are activated through the provisioning-system interface at once; platform-review and
work-order lines get a work order whose steps pass the workstations one after another.

Races are settled in the database: every step action is one UPDATE ... WHERE revision = <what the actor saw>
AND status IN (...) that adds one to the revision, so of two people completing one step at once exactly one
wins and the other gets `StepConflict` (HTTP 409). The SLA sweep is set-based: a constant number of statements
whatever the number of open steps."""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Sum, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from channels import calendar as working_calendar
from channels import roles
from channels.models import User
from channels.notifications import Message, notify_many, notify_per_recipient
from kam.db import numbered_code
from kam.sms import send_sms
from orders import policy
from orders.models import (
    OPEN_STEP_STATES,
    Order,
    OrderLine,
    Product,
    ProvisioningFailure,
    StepEvent,
    StepTemplate,
    WorkOrder,
    WorkStep,
)
from orders.provisioning_backends import ProvisioningError, get_backend

logger = logging.getLogger("kam.provisioning")
CODE_PREFIX = "WO"
Status = WorkStep.Status
Action = StepEvent.Action


class StepConflict(Exception):
    """The step changed under the caller (claimed, completed or sent back by someone else): HTTP 409."""


# --- working-hour deadlines ------------------------------------------------------------------------------


class Deadlines:
    """`channels.calendar.add_working_hours` over one loaded calendar: a step's due time and warning time, or a
    sweep's projections for many work orders, cost one query instead of one per call."""

    def __init__(self, around: dt.datetime, *, years: int = 2):
        self.calendar = working_calendar.Calendar.around(timezone.localtime(around).date(), years=years)

    def add(self, start: dt.datetime, hours: float) -> dt.datetime:
        return self.calendar.add_working_hours(start, hours)

    def step_clock(self, start: dt.datetime, duration_hours: int) -> dict:
        """due_at and warn_at of a step that becomes ready at `start`: the warning when the warning share of its
        time limit is left (settings.KAM_PROVISIONING_WARNING_SHARE, 25 % by default)."""
        share = min(max(float(settings.KAM_PROVISIONING_WARNING_SHARE), 0.0), 1.0)
        return {
            "due_at": self.add(start, duration_hours),
            "warn_at": self.add(start, duration_hours * (1 - share)),
        }


def _ready_fields(now: dt.datetime, duration_hours: int, deadlines: Deadlines | None = None) -> dict:
    clock = (deadlines or Deadlines(now)).step_clock(now, duration_hours)
    return {"status": Status.READY, "ready_at": now, "warned_at": None, "escalated_at": None, **clock}


def _event(step: WorkStep, action: str, *, by: User | None, at: dt.datetime, note: str = "", to_user=None):
    return StepEvent.objects.create(step=step, action=action, actor=by, to_user=to_user, at=at, note=note[:300])


def work_order_link(work_order_id: int) -> str:
    return reverse("orders:work-order-detail", args=[work_order_id])


# --- starting an order -----------------------------------------------------------------------------------


def withdraw_order(order: Order, *, now: dt.datetime | None = None) -> int:
    """An order cancelled while in provisioning (the customer changed their mind during construction): its
    unfinished lines are cancelled, their work orders closed, their open steps skipped — with the revision moved
    on, so an executor acting on a page they loaded before gets a conflict, not a step of a dead order — and what
    the resource checks reserved goes back to the pool. Lines already accepted keep their subscriptions.
    Returns the number of lines withdrawn. Runs inside the caller's transaction (ordering.order_cancel)."""
    from orders.services import installed

    now = now or timezone.now()
    lines = list(OrderLine.objects.filter(order=order).exclude(status=OrderLine.Status.COMPLETED))
    ids = [line.pk for line in lines]
    WorkStep.objects.filter(
        work_order__order_line_id__in=ids, status__in=[WorkStep.Status.PENDING, *OPEN_STEP_STATES]
    ).update(status=WorkStep.Status.SKIPPED, revision=F("revision") + 1)
    WorkOrder.objects.filter(
        order_line_id__in=ids, status__in=[WorkOrder.Status.OPEN, WorkOrder.Status.BLOCKED]
    ).update(status=WorkOrder.Status.CANCELLED)
    for line in lines:
        installed.release_reservations(line, at=now)
    OrderLine.objects.filter(pk__in=ids).update(status=OrderLine.Status.CANCELLED)
    return len(ids)


def start_order_by_id(order_id: int) -> None:
    """The Celery task's entry: an order that no longer exists or is not submitted is left alone."""
    order = Order.objects.filter(pk=order_id).select_related("customer").first()
    if order is not None:
        start_order(order)


def start_order(order: Order, *, now: dt.datetime | None = None) -> bool:
    """Provision a submitted order, once: submitted → in_progress by compare-and-set, so a task delivered twice
    starts it once (False when it was not submitted). Each line by its product's provisioning type."""
    now = now or timezone.now()
    with transaction.atomic():
        if not Order.objects.filter(pk=order.pk, status=Order.Status.SUBMITTED).update(status=Order.Status.IN_PROGRESS):
            return False
        order.status = Order.Status.IN_PROGRESS
        lines = list(order.lines.filter(status=OrderLine.Status.PENDING).select_related("product"))
        templates: dict[int, list[StepTemplate]] = {}
        for template in StepTemplate.objects.filter(product_id__in={line.product_id for line in lines}).order_by(
            "product_id", "sequence"
        ):
            templates.setdefault(template.product_id, []).append(template)
        # Suspensions, resumptions and terminations act on a service that exists: one command to BOSS each
        # (stop, restart, remove it), whatever the product's installation flow; the installed base then follows
        # (a terminated line's resources are released). Field work to recover equipment is not modelled yet.
        by_command = order.kind in (Order.Kind.SUSPEND, Order.Kind.RESUME, Order.Kind.TERMINATE)
        for line in lines:
            kind = Product.Provisioning.BOSS_DIRECT if by_command else line.product.provisioning_type
            line.provisioning_type = kind
            if kind == Product.Provisioning.BOSS_DIRECT:
                OrderLine.objects.filter(pk=line.pk).update(
                    provisioning_type=kind, status=OrderLine.Status.PROVISIONING
                )
                line.status = OrderLine.Status.PROVISIONING
                _activate(line, by=order.created_by, now=now)
            else:
                _open_work_order(order, line, templates.get(line.product_id, []), now=now)
        _complete_order_if_done(order, now=now)
    return True


def _activate(line: OrderLine, *, by: User, now: dt.datetime) -> None:
    """BOSS direct activation: the backend answers a reference (line completed → installed base), or an interface
    failure (line failed, recorded for IT support; the operations center retries)."""
    try:
        reference = get_backend().activate(line)
    except ProvisioningError as exc:
        message = str(exc) or _("The provisioning system did not answer.")
        OrderLine.objects.filter(pk=line.pk).update(status=OrderLine.Status.FAILED)
        line.status = OrderLine.Status.FAILED
        ProvisioningFailure.objects.create(line=line, at=now, message=message[:300])
        logger.warning("Activation of order line %s failed: %s", line.pk, message)
        return
    OrderLine.objects.filter(pk=line.pk).update(
        status=OrderLine.Status.COMPLETED, external_ref=reference[:64], completed_at=now
    )
    line.status, line.external_ref, line.completed_at = OrderLine.Status.COMPLETED, reference[:64], now
    from orders.services import installed

    installed.apply_line(line, by=by, at=now)


def retry_activation(line: OrderLine, *, by: User, now: dt.datetime | None = None) -> OrderLine:
    """Send a failed BOSS activation again (failed → provisioning by compare-and-set: one retry at a time)."""
    if not policy.may_retry_activation(by):
        raise PermissionDenied(_("Only the operations center retries an activation."))
    now = now or timezone.now()
    with transaction.atomic():
        if not OrderLine.objects.filter(pk=line.pk, status=OrderLine.Status.FAILED).update(
            status=OrderLine.Status.PROVISIONING
        ):
            raise StepConflict(_("This line is not waiting for a retry."))
        ProvisioningFailure.objects.filter(line=line, retried_at__isnull=True).update(retried_at=now, retried_by=by)
        line.refresh_from_db()
        if line.provisioning_type == Product.Provisioning.BOSS_DIRECT:
            _activate(line, by=by, now=now)
        else:  # a work-order line that had no step templates: try again with today's templates
            OrderLine.objects.filter(pk=line.pk).update(status=OrderLine.Status.PENDING)
            templates = list(StepTemplate.objects.filter(product_id=line.product_id).order_by("sequence"))
            _open_work_order(line.order, line, templates, now=now)
        order = Order.objects.select_related("customer").get(pk=line.order_id)
        _complete_order_if_done(order, now=now)
    line.refresh_from_db()
    return line


def _open_work_order(order: Order, line: OrderLine, templates: list[StepTemplate], *, now: dt.datetime) -> None:
    """A work order with the product's steps (construction steps only when the order needs construction; a
    change order only the steps marked for changes), the first one ready in its workstation's queue."""
    chosen = [
        t for t in templates
        if (order.needs_construction or not t.only_with_construction)
        and (order.kind != Order.Kind.CHANGE or t.on_change)
    ]  # fmt: skip
    if not chosen:
        message = _("Product %(product)s has no work-order steps to follow.") % {"product": line.product_id}
        OrderLine.objects.filter(pk=line.pk).update(provisioning_type=line.provisioning_type,
                                                    status=OrderLine.Status.FAILED)  # fmt: skip
        line.status = OrderLine.Status.FAILED
        ProvisioningFailure.objects.create(line=line, at=now, message=message[:300])
        return
    OrderLine.objects.filter(pk=line.pk).update(
        provisioning_type=line.provisioning_type, status=OrderLine.Status.PROVISIONING
    )
    line.status = OrderLine.Status.PROVISIONING
    deadlines = Deadlines(now, years=2 + sum(t.duration_hours for t in chosen) // 1500)
    if order.committed_on:
        due = dt.datetime.combine(order.committed_on, dt.time(23, 59, 59), tzinfo=timezone.get_current_timezone())
    else:
        due = deadlines.add(now, sum(t.duration_hours for t in chosen))
    work_order = WorkOrder.objects.create(order_line=line, customer_id=order.customer_id, created_at=now, due_at=due)
    WorkOrder.objects.filter(pk=work_order.pk).update(number=numbered_code(CODE_PREFIX))
    steps = [
        WorkStep(
            work_order=work_order, customer_id=order.customer_id, sequence=t.sequence, name=t.name,
            name_en=t.name_en, action=t.action, workstation_id=t.workstation_id, duration_hours=t.duration_hours,
            **(_ready_fields(now, t.duration_hours, deadlines) if n == 0 else {}),
        )
        for n, t in enumerate(chosen)
    ]  # fmt: skip
    WorkStep.objects.bulk_create(steps)
    first = WorkStep.objects.get(work_order=work_order, sequence=chosen[0].sequence)
    _event(first, Action.READY, by=None, at=now)


# --- finishing lines and orders --------------------------------------------------------------------------


def _finish_line(line: OrderLine, *, by: User, now: dt.datetime) -> None:
    """One-point acceptance (seed 000 7.5): the line is completed and the installed base changes at once."""
    from orders.services import installed

    if not OrderLine.objects.filter(pk=line.pk, status=OrderLine.Status.PROVISIONING).update(
        status=OrderLine.Status.COMPLETED, completed_at=now
    ):
        return
    line.status, line.completed_at = OrderLine.Status.COMPLETED, now
    installed.apply_line(line, by=by, at=now)
    WorkOrder.objects.filter(order_line=line).exclude(status=WorkOrder.Status.COMPLETED).update(
        status=WorkOrder.Status.COMPLETED, completed_at=now
    )
    order = Order.objects.select_related("customer__account_manager").get(pk=line.order_id)
    _complete_order_if_done(order, now=now)


def _complete_order_if_done(order: Order, *, now: dt.datetime) -> bool:
    """The last line done → the order is completed and its account manager told."""
    unfinished = OrderLine.objects.filter(order=OuterRef("pk")).exclude(
        status__in=[OrderLine.Status.COMPLETED, OrderLine.Status.CANCELLED]
    )
    done = (
        Order.objects.filter(pk=order.pk, status=Order.Status.IN_PROGRESS)
        .filter(~Exists(unfinished))
        .update(status=Order.Status.COMPLETED, completed_at=now)
    )
    if not done:
        return False
    order.status, order.completed_at = Order.Status.COMPLETED, now
    manager = order.customer.account_manager if order.customer.account_manager_id else None
    notify_many([
        Message(
            [manager], kind="order_completed",
            title=_("Order %(number)s completed") % {"number": order.number or order.pk},
            body=_("Every line of the order for %(customer)s is provisioned.") % {"customer": order.customer},
        )
    ])  # fmt: skip
    return True


# --- step actions ----------------------------------------------------------------------------------------


def _step(step: WorkStep) -> WorkStep:
    """The step with what the rules read (its workstation, work order, line and order)."""
    return WorkStep.objects.select_related("workstation", "work_order__order_line__order__customer", "assignee").get(
        pk=step.pk
    )


def _cas(step: WorkStep, revision: int, states, **changes) -> None:
    """The one write of every action: it happens only if nobody changed the step since the caller saw it."""
    won = (
        WorkStep.objects.filter(pk=step.pk, revision=revision, status__in=list(states))
        .update(revision=F("revision") + 1, **changes)
    )  # fmt: skip
    if not won:
        now = WorkStep.objects.filter(pk=step.pk).values("status", "revision", "assignee__username").first() or {}
        raise StepConflict(
            _("The step changed meanwhile (now %(status)s, revision %(revision)s): reload it and try again.")
            % {"status": Status(now.get("status", step.status)).label, "revision": now.get("revision", "?")}
        )


def _set_work_order_status(work_order_id: int) -> None:
    """Blocked while one of its steps is blocked, open otherwise (completed and cancelled ones stay)."""
    blocked = WorkStep.objects.filter(work_order=OuterRef("pk"), status=Status.BLOCKED)
    WorkOrder.objects.filter(pk=work_order_id, status__in=[WorkOrder.Status.OPEN, WorkOrder.Status.BLOCKED]).update(
        status=Case(When(Exists(blocked), then=Value(WorkOrder.Status.BLOCKED)), default=Value(WorkOrder.Status.OPEN))
    )


def step_claim(step: WorkStep, *, by: User, revision: int, now: dt.datetime | None = None) -> WorkStep:
    """An executor takes a step waiting in their workstation's queue (ready → in progress)."""
    now = now or timezone.now()
    step = _step(step)
    if not policy.may_work_step(by, step):
        raise PermissionDenied(_("Only staff of the step's workstation may take it."))
    with transaction.atomic():
        _cas(step, revision, [Status.READY], status=Status.IN_PROGRESS, assignee=by, started_at=now)
        _event(step, Action.CLAIM, by=by, to_user=by, at=now)
    return _step(step)


def step_hand_over(step: WorkStep, *, by: User, to_user: User, revision: int, note: str = "",
                   now: dt.datetime | None = None) -> WorkStep:  # fmt: skip
    """The holder (or the workstation's manager, the operations center) gives the step to a colleague of the
    same workstation."""
    now = now or timezone.now()
    step = _step(step)
    if not (policy.may_finish_step(by, step) and policy.may_work_step(by, step)):
        raise PermissionDenied(_("Only the executor holding the step or its workstation's manager may hand it over."))
    if not (
        to_user.is_active
        and (to_user.workstation_id == step.workstation_id or step.workstation.manager_id == to_user.pk)
    ):
        raise ValidationError({"to_user": [_("Hand the step over to someone of its workstation.")]})
    if to_user.pk == step.assignee_id:
        raise ValidationError({"to_user": [_("The step is already in their hands.")]})
    with transaction.atomic():
        _cas(step, revision, [Status.READY, Status.IN_PROGRESS, Status.BLOCKED], assignee=to_user,
             status=F("status") if step.status != Status.READY else Status.IN_PROGRESS,
             started_at=step.started_at or now)  # fmt: skip
        _event(step, Action.HAND_OVER, by=by, to_user=to_user, at=now, note=note)
        notify_many([
            Message([to_user], kind="work_step", title=_("Step handed to you: %(step)s") % {"step": step.name},
                    body=_("%(who)s handed over step %(step)s of work order %(number)s.")
                    % {"who": by, "step": step.name, "number": step.work_order},
                    link=work_order_link(step.work_order_id))
        ])  # fmt: skip
    return _step(step)


def step_complete(step: WorkStep, *, by: User, revision: int, note: str = "",
                  now: dt.datetime | None = None) -> WorkStep:  # fmt: skip
    """Done (in progress → done, once: of two completing at once one wins). A resource-check step reserves the
    line's resources first — none free → the step is blocked with that reason instead; an acceptance step (or
    the last step) completes the line and creates the subscription; otherwise the next step becomes ready."""
    now = now or timezone.now()
    step = _step(step)
    if not policy.may_finish_step(by, step):
        raise PermissionDenied(_("Only the executor holding the step or its workstation's manager may complete it."))
    line = step.work_order.order_line
    with transaction.atomic():
        on_time = step.due_at is None or now <= step.due_at
        _cas(step, revision, [Status.IN_PROGRESS], status=Status.DONE, completed_at=now, completed_by=by,
             on_time=on_time)  # fmt: skip
        if step.action == StepTemplate.Action.RESOURCE_CHECK:
            from orders.services import installed

            try:
                with transaction.atomic():
                    installed.reserve_resources(line)
            except ValidationError as exc:
                reason = "; ".join(exc.messages)[:300] or _("No free resource.")
                WorkStep.objects.filter(pk=step.pk).update(
                    status=Status.BLOCKED, block_reason=reason, completed_at=None, completed_by=None, on_time=None
                )
                _event(step, Action.BLOCK, by=by, at=now, note=reason)
                _set_work_order_status(step.work_order_id)
                return _step(step)
        _event(step, Action.COMPLETE, by=by, at=now, note=note)
        following = (
            WorkStep.objects.filter(work_order_id=step.work_order_id, sequence__gt=step.sequence, status=Status.PENDING)
            .order_by("sequence")
            .first()
        )
        if step.action == StepTemplate.Action.ACCEPTANCE or following is None:
            # Steps after the acceptance (none in the templates) are not needed any more.
            WorkStep.objects.filter(work_order_id=step.work_order_id, status=Status.PENDING).update(
                status=Status.SKIPPED
            )
            _finish_line(line, by=by, now=now)
        else:
            WorkStep.objects.filter(pk=following.pk).update(
                revision=F("revision") + 1, **_ready_fields(now, following.duration_hours)
            )
            _event(following, Action.READY, by=by, at=now)
    return _step(step)


def step_reject(step: WorkStep, *, by: User, revision: int, reason: str, order_data_wrong: bool = False,
                now: dt.datetime | None = None) -> WorkStep:  # fmt: skip
    """Send the step back with a reason to the step before it (or, when the order's own data was wrong, to the
    first step — the order was then not right the first time: the account manager's assessment). The step sent
    back to is ready again with a new due time."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why you send the step back.")]})
    step = _step(step)
    if not policy.may_finish_step(by, step):
        raise PermissionDenied(_("Only the executor holding the step or its workstation's manager may send it back."))
    earlier = WorkStep.objects.filter(work_order_id=step.work_order_id, sequence__lt=step.sequence).exclude(
        status=Status.SKIPPED
    )
    target = earlier.order_by("sequence" if order_data_wrong else "-sequence").first()
    if target is None:
        raise ValidationError({"reason": [_("This is the first step: block it with the reason instead.")]})
    with transaction.atomic():
        _cas(step, revision, [Status.READY, Status.IN_PROGRESS], status=Status.PENDING, ready_at=None, due_at=None,
             warn_at=None, warned_at=None, escalated_at=None, started_at=None)  # fmt: skip
        # Every step between the target and this one runs again after it.
        WorkStep.objects.filter(
            work_order_id=step.work_order_id, sequence__gt=target.sequence, sequence__lt=step.sequence,
            status=Status.DONE,
        ).update(status=Status.PENDING, completed_at=None, completed_by=None, on_time=None,
                 revision=F("revision") + 1)  # fmt: skip
        WorkStep.objects.filter(pk=target.pk).update(
            times_rejected=F("times_rejected") + 1, revision=F("revision") + 1, completed_at=None,
            completed_by=None, on_time=None, started_at=None, **_ready_fields(now, target.duration_hours),
        )  # fmt: skip
        _event(step, Action.REJECT, by=by, at=now, note=reason, to_user=target.assignee)
        _event(target, Action.READY, by=by, at=now, note=reason)
        if order_data_wrong:
            Order.objects.filter(pk=step.work_order.order_line.order_id).update(first_time_right=False)
        if target.assignee_id:
            notify_many([
                Message([target.assignee], kind="work_step",
                        title=_("Step sent back to you: %(step)s") % {"step": target.name}, body=reason,
                        link=work_order_link(step.work_order_id))
            ])  # fmt: skip
    return _step(step)


def step_block(step: WorkStep, *, by: User, revision: int, reason: str, now: dt.datetime | None = None) -> WorkStep:
    """The step cannot go on (no resource, customer not ready…): blocked with the reason the customer is told."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the step is blocked.")]})
    step = _step(step)
    if not policy.may_work_step(by, step):
        raise PermissionDenied(_("Only staff of the step's workstation may block it."))
    with transaction.atomic():
        _cas(step, revision, [Status.READY, Status.IN_PROGRESS], status=Status.BLOCKED, block_reason=reason[:300])
        _event(step, Action.BLOCK, by=by, at=now, note=reason)
        _set_work_order_status(step.work_order_id)
    return _step(step)


def step_unblock(step: WorkStep, *, by: User, revision: int, note: str = "",
                 now: dt.datetime | None = None) -> WorkStep:  # fmt: skip
    """Back to work: in progress when someone holds it, in the queue otherwise."""
    now = now or timezone.now()
    step = _step(step)
    if not policy.may_work_step(by, step):
        raise PermissionDenied(_("Only staff of the step's workstation may unblock it."))
    with transaction.atomic():
        _cas(step, revision, [Status.BLOCKED], block_reason="",
             status=Status.IN_PROGRESS if step.assignee_id else Status.READY)  # fmt: skip
        _event(step, Action.UNBLOCK, by=by, at=now, note=note)
        _set_work_order_status(step.work_order_id)
    return _step(step)


# --- the SLA sweep ---------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    warned: int = 0
    escalated: int = 0
    customers_told: int = 0


def sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Warn before a step's deadline, escalate after it, tell the customer of an order that will be late — each
    once (warned_at, escalated_at, delay_notified_at). Rows are taken with FOR UPDATE SKIP LOCKED, so two sweeps
    at once never send one message twice."""
    now = now or timezone.now()
    return SweepResult(warned=_warn(now), escalated=_escalate(now), customers_told=_tell_customers(now))


# A recipient with more warnings (or escalations) than this in one sweep gets one summary of them instead of a
# message per step: a backlog after an outage must not bury a workstation manager under hundreds of messages.
DIGEST_AFTER = 5

_STEP_FIELDS = (
    "pk", "work_order_id", "work_order__number", "name", "due_at", "workstation_id", "workstation__name",
    "workstation__manager_id", "assignee_id", "customer__name", "customer__account_manager_id",
)  # fmt: skip


def _claim_due(now: dt.datetime, condition: Q, stamp: str, action: str) -> list[dict]:
    """Lock the open steps that meet `condition` (rows another sweep holds are skipped), stamp them and their
    work orders with `stamp` and record the events: a constant number of statements however many steps."""
    steps = list(
        WorkStep.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(condition, status__in=OPEN_STEP_STATES)
        .order_by("due_at", "id")
        .values(*_STEP_FIELDS)
    )
    if steps:
        WorkStep.objects.filter(pk__in=[s["pk"] for s in steps]).update(**{stamp: now})
        WorkOrder.objects.filter(pk__in={s["work_order_id"] for s in steps}, **{f"{stamp}__isnull": True}).update(
            **{stamp: now}
        )
        StepEvent.objects.bulk_create([StepEvent(step_id=s["pk"], action=action, at=now) for s in steps])
    return steps


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _step_title(template: str, step: dict) -> str:
    return template % {"step": step["name"], "number": step["work_order__number"]}


def _summary_link(user: User) -> str:
    """Workstation staff to their queue (most urgent first), everybody else to the orders in progress."""
    if policy.works_steps(user):
        return reverse("orders:provisioning-queue")
    return f"{reverse('orders:order-list')}?status={Order.Status.IN_PROGRESS}"


def _warn(now: dt.datetime) -> int:
    """Steps past their warning point: the assignee is told, or the workstation (its staff and manager) when
    the step waits in the queue."""
    with transaction.atomic():
        steps = _claim_due(now, Q(warned_at__isnull=True, warn_at__lte=now, due_at__gt=now), "warned_at", Action.WARN)
        if not steps:
            return 0
        staff: dict[int, list[int]] = {}
        for workstation_id, user_id in User.objects.filter(
            # every warned step's workstation (not only the unclaimed ones'): one statement whatever the mix
            workstation_id__in={s["workstation_id"] for s in steps},
            is_active=True, role__in=list(roles.WORKSTATIONS),
        ).values_list("workstation_id", "pk"):  # fmt: skip
            staff.setdefault(workstation_id, []).append(user_id)

        def recipients(step):
            if step["assignee_id"]:
                return [step["assignee_id"]]
            return [*staff.get(step["workstation_id"], []), step["workstation__manager_id"]]

        def one(step, users):
            return (
                _step_title(_("Step due soon: %(step)s (%(number)s)"), step),
                _("Due %(due)s, customer %(customer)s.")
                % {"due": _when(step["due_at"]), "customer": step["customer__name"]},
                work_order_link(step["work_order_id"]),
            )  # fmt: skip

        def summary(theirs, user, users):
            first = theirs[0]
            return (
                ngettext("%(count)d step due soon", "%(count)d steps due soon", len(theirs)) % {"count": len(theirs)},
                _("The first due: %(step)s (%(number)s) at %(due)s, customer %(customer)s.")
                % {"step": first["name"], "number": first["work_order__number"], "due": _when(first["due_at"]),
                   "customer": first["customer__name"]},
                _summary_link(user),
            )  # fmt: skip

        notify_per_recipient(steps, recipients, one, summary, kind="provisioning_warning", digest_after=DIGEST_AFTER)
    return len(steps)


def _escalate(now: dt.datetime) -> int:
    """Overdue steps: the workstation's manager and the customer's account manager are told (urgent)."""
    with transaction.atomic():
        steps = _claim_due(now, Q(escalated_at__isnull=True, due_at__lte=now), "escalated_at", Action.ESCALATE)
        if not steps:
            return 0

        def recipients(step):
            return [step["workstation__manager_id"], step["customer__account_manager_id"]]

        def one(step, users):
            holder = users.get(step["assignee_id"]) if step["assignee_id"] else None
            return (
                _step_title(_("Overdue: %(step)s (%(number)s)"), step),
                _("Due %(due)s at %(workstation)s, customer %(customer)s; held by %(who)s.")
                % {"due": _when(step["due_at"]), "workstation": step["workstation__name"],
                   "customer": step["customer__name"], "who": holder or _("nobody (in the queue)")},
                work_order_link(step["work_order_id"]),
            )  # fmt: skip

        def summary(theirs, user, users):
            first = theirs[0]
            return (
                ngettext("%(count)d step overdue", "%(count)d steps overdue", len(theirs)) % {"count": len(theirs)},
                _("The most overdue: %(step)s (%(number)s), due %(due)s at %(workstation)s, customer %(customer)s.")
                % {"step": first["name"], "number": first["work_order__number"], "due": _when(first["due_at"]),
                   "workstation": first["workstation__name"], "customer": first["customer__name"]},
                _summary_link(user),
            )  # fmt: skip

        assignees = {s["assignee_id"] for s in steps if s["assignee_id"]}
        notify_per_recipient(
            steps, recipients, one, summary, kind="provisioning_escalation", urgent=True, extra_users=assignees,
            digest_after=DIGEST_AFTER,
        )  # fmt: skip
    return len(steps)


def _tell_customers(now: dt.datetime) -> int:
    """An order whose work order will miss the committed date (a step blocked or overdue, and the remaining
    steps do not fit before it) → the customer's contact gets an SMS with the reason, the account manager a
    notification, once per order."""
    from customers.models import Contact

    trouble = WorkStep.objects.filter(work_order=OuterRef("pk")).filter(
        Q(status=Status.BLOCKED) | Q(status__in=OPEN_STEP_STATES, due_at__lte=now)
    )
    candidates = list(
        WorkOrder.objects.filter(
            status__in=[WorkOrder.Status.OPEN, WorkOrder.Status.BLOCKED],
            order_line__order__status=Order.Status.IN_PROGRESS,
            order_line__order__delay_notified_at__isnull=True,
            due_at__isnull=False,
        )
        .filter(Exists(trouble))
        .annotate(
            pending_hours=Sum("steps__duration_hours", filter=Q(steps__status=Status.PENDING)),
            blocked_hours=Sum("steps__duration_hours", filter=Q(steps__status=Status.BLOCKED)),
        )
        .values("pk", "number", "due_at", "pending_hours", "blocked_hours", "order_line__order_id")
    )
    if not candidates:
        return 0
    deadlines = Deadlines(now)
    late = {
        c["order_line__order_id"]: c
        for c in candidates
        if deadlines.add(now, (c["pending_hours"] or 0) + (c["blocked_hours"] or 0)) > c["due_at"]
    }
    if not late:
        return 0
    reasons: dict[int, str] = {}
    for s in (
        WorkStep.objects.filter(work_order_id__in=[c["pk"] for c in late.values()])
        .filter(Q(status=Status.BLOCKED) | Q(status__in=OPEN_STEP_STATES, due_at__lte=now))
        .values("work_order_id", "name", "status", "block_reason")
        .order_by("sequence")
    ):
        reasons.setdefault(
            s["work_order_id"],
            s["block_reason"] if s["status"] == Status.BLOCKED else _("step %(step)s overdue") % {"step": s["name"]},
        )
    with transaction.atomic():
        orders = list(
            Order.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=list(late), delay_notified_at__isnull=True)
            .select_related("customer__account_manager")
        )
        if not orders:
            return 0
        Order.objects.filter(pk__in=[o.pk for o in orders]).update(delay_notified_at=now)
        mobiles: dict[int, str] = {}
        for customer_id, mobile in (
            Contact.objects.filter(customer_id__in={o.customer_id for o in orders}, active_to__isnull=True)
            .exclude(mobile="")
            .order_by("customer_id", "-is_key_person", "id")
            .values_list("customer_id", "mobile")
        ):
            mobiles.setdefault(customer_id, mobile)
        texts, messages = [], []
        for order in orders:
            work_order = late[order.pk]
            reason = reasons.get(work_order["pk"], _("a step is overdue"))
            committed = order.committed_on.isoformat() if order.committed_on else ""
            text = _(
                "Your order %(number)s will be late (promised %(date)s): %(reason)s. Your manager will call you."
            ) % {"number": order.number or order.pk, "date": committed, "reason": reason}
            if order.customer_id in mobiles:
                texts.append((mobiles[order.customer_id], text))
            messages.append(
                Message(
                    [order.customer.account_manager if order.customer.account_manager_id else None],
                    kind="provisioning_delay",
                    title=_("Order %(number)s will be late") % {"number": order.number or order.pk},
                    body=_("%(customer)s was told: %(reason)s.") % {"customer": order.customer, "reason": reason}
                    if order.customer_id in mobiles
                    else _("%(customer)s has no contact mobile: tell them yourself (%(reason)s).")
                    % {"customer": order.customer, "reason": reason},
                    link=work_order_link(work_order["pk"]),
                )
            )
        notify_many(messages)

        def send():
            for mobile, text in texts:
                try:
                    send_sms(mobile, text)
                except Exception:  # noqa: BLE001 - any gateway error: logged, the notice is not repeated
                    logger.warning("Delay SMS to a customer contact not delivered", exc_info=True)

        transaction.on_commit(send)
    return len(orders)
