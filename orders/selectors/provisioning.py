"""Reads of the provisioning loop: the boards (operations center, my steps, workstation queue), an order's steps,
the 360 panel's orders in flight and the four-level assessment. Every read starts from `visible_to(user)`;
lists cost a constant number of queries (rows with their relations, counts capped), aggregates are GROUP BY."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Prefetch, Q, QuerySet
from django.utils import timezone

from channels.models import User
from orders.models import OPEN_STEP_STATES, Order, OrderLine, ProvisioningFailure, StepEvent, WorkOrder, WorkStep

Status = WorkStep.Status

# The boards' tabs: what runs late, what is stuck, what waits in a queue, what is being worked.
TAB_OVERDUE, TAB_BLOCKED, TAB_QUEUED, TAB_WORKING = "overdue", "blocked", "queued", "working"
TABS = (TAB_OVERDUE, TAB_BLOCKED, TAB_QUEUED, TAB_WORKING)
STEP_RELATED = ("work_order", "workstation", "assignee", "customer")


def tab_q(tab: str, now: dt.datetime) -> Q:
    return {
        TAB_OVERDUE: Q(status__in=OPEN_STEP_STATES, due_at__lt=now),
        TAB_BLOCKED: Q(status=Status.BLOCKED),
        TAB_QUEUED: Q(status=Status.READY),
        TAB_WORKING: Q(status=Status.IN_PROGRESS),
    }[tab]


def open_steps(user: User) -> QuerySet[WorkStep]:
    return WorkStep.objects.visible_to(user).filter(status__in=OPEN_STEP_STATES)


def board_counts(user: User, *, cap: int, now: dt.datetime, base: QuerySet | None = None) -> dict[str, int]:
    """Open steps per tab, each counted up to cap + 1 (the page shows "cap+"), one query per tab."""
    rows = (base if base is not None else open_steps(user)).order_by()
    return {tab: rows.filter(tab_q(tab, now))[: cap + 1].count() for tab in TABS}


def board_rows(user: User, *, tab: str, now: dt.datetime, workstation_id: int | None = None) -> QuerySet[WorkStep]:
    """One tab of the operations-center board, most urgent first (the partial indexes on due time)."""
    rows = open_steps(user).filter(tab_q(tab, now))
    if workstation_id:
        rows = rows.filter(workstation_id=workstation_id)
    return rows.select_related(*STEP_RELATED).order_by("due_at", "id")


def my_steps(user: User, *, tab: str = "") -> QuerySet[WorkStep]:
    """Open steps in `user`'s hands, most urgent first."""
    rows = open_steps(user).filter(assignee=user)
    if tab in TABS:
        rows = rows.filter(tab_q(tab, timezone.now()))
    return rows.select_related(*STEP_RELATED).order_by("due_at", "id")


def workstation_queue(user: User) -> QuerySet[WorkStep]:
    """Steps waiting for a claim at `user`'s workstation (and at those they manage)."""
    ids = {user.workstation_id} if user.workstation_id else set()
    ids |= set(user.managed_workstations.values_list("pk", flat=True))
    return (
        WorkStep.objects.visible_to(user)
        .filter(status=Status.READY, workstation_id__in=ids)
        .select_related(*STEP_RELATED)
        .order_by("due_at", "id")
    )


def work_order_steps(work_order_ids) -> QuerySet[WorkStep]:
    """Steps of the given (visible) work orders with their events: three queries whatever their number."""
    events = StepEvent.objects.select_related("actor", "to_user").order_by("at", "id")
    return (
        WorkStep.objects.filter(work_order_id__in=list(work_order_ids))
        .select_related("workstation", "assignee", "completed_by")
        .prefetch_related(Prefetch("events", queryset=events))
        .order_by("work_order_id", "sequence")
    )


@dataclass
class LineProgress:
    line: OrderLine
    work_order: WorkOrder | None = None
    steps: list[WorkStep] = field(default_factory=list)


def order_progress(user: User, order: Order) -> list[LineProgress]:
    """Every line of a visible order with its work order and steps (four queries: lines, work orders, steps,
    events)."""
    lines = list(
        OrderLine.objects.visible_to(user)
        .filter(order_id=order.pk)
        .select_related("product")
        .prefetch_related("provisioning_failures")
        .order_by("id")
    )
    work_orders = {w.order_line_id: w for w in WorkOrder.objects.visible_to(user).filter(order_line__order_id=order.pk)}
    steps: dict[int, list[WorkStep]] = {}
    for step in work_order_steps([w.pk for w in work_orders.values()]):
        steps.setdefault(step.work_order_id, []).append(step)
    progress = []
    for line in lines:
        work_order = work_orders.get(line.pk)
        progress.append(LineProgress(line, work_order, steps.get(work_order.pk, []) if work_order else []))
    return progress


@dataclass
class OrderInFlight:
    order: Order
    current: list[WorkStep]


def orders_in_flight(user: User, customer, *, limit: int = 10) -> tuple[int, list[OrderInFlight]]:
    """A customer's open orders (submitted or provisioning) with the step each stands at: three queries."""
    rows = Order.objects.visible_to(user).filter(
        customer=customer, status__in=[Order.Status.SUBMITTED, Order.Status.IN_PROGRESS]
    )
    count = rows.count()
    orders = list(rows.order_by("-created_at", "-id")[:limit])
    current: dict[int, list[WorkStep]] = {}
    if orders:
        for step in (
            WorkStep.objects.filter(
                work_order__order_line__order_id__in=[o.pk for o in orders], status__in=OPEN_STEP_STATES
            )
            .select_related("workstation", "assignee", "work_order__order_line")
            .order_by("work_order_id", "sequence")
        ):
            current.setdefault(step.work_order.order_line.order_id, []).append(step)
    return count, [OrderInFlight(o, current.get(o.pk, [])) for o in orders]


# --- four-level assessment (seed 000 I.3 item 16) --------------------------------------------------------


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(month.replace(day=1), dt.time.min, tzinfo=zone)
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start, dt.datetime.combine(following, dt.time.min, tzinfo=zone)


def done_in(month: dt.date) -> QuerySet[WorkStep]:
    start, end = month_bounds(month)
    return WorkStep.objects.filter(status=Status.DONE, completed_at__gte=start, completed_at__lt=end)


def orders_submitted_in(month: dt.date) -> QuerySet[Order]:
    start, end = month_bounds(month)
    return Order.objects.filter(submitted_at__gte=start, submitted_at__lt=end).exclude(status=Order.Status.CANCELLED)


def failures_in(month: dt.date) -> QuerySet[ProvisioningFailure]:
    start, end = month_bounds(month)
    return ProvisioningFailure.objects.filter(at__gte=start, at__lt=end)


def _step_figures(rows: QuerySet, *group) -> list[dict]:
    took = ExpressionWrapper(F("completed_at") - F("ready_at"), output_field=DurationField())
    figures = list(
        rows.values(*group)
        .annotate(total=Count("id"), on_time=Count("id", filter=Q(on_time=True)), average=Avg(took))
        .order_by(*group)
    )
    for row in figures:
        row["rate"] = row["on_time"] / row["total"] if row["total"] else None
        row["late"] = row["total"] - row["on_time"]
        average = row["average"]
        if average is not None and not isinstance(average, dt.timedelta):  # SQLite answers microseconds
            average = dt.timedelta(microseconds=float(average))
        row["hours"] = average.total_seconds() / 3600 if average is not None else None
    return figures


@dataclass
class Assessment:
    month: dt.date
    workstations: list[dict]
    executors: list[dict]
    managers: list[dict]
    it_support: list[dict]
    failures_total: int


def _only_visible(queryset: QuerySet, user: User) -> QuerySet:
    """`queryset` narrowed to the rows `user` may see. Who sees every row gets it unfiltered: `pk IN (every id)`
    is a semi-join over the whole table, a Seq Scan growing with it (bench_orders, the assessment)."""
    visible = queryset.model.objects.visible_to(user)
    if not visible.query.where:
        return queryset
    return queryset.filter(pk__in=visible.values("pk"))


def assessment(user: User, month: dt.date) -> Assessment:
    """The four levels for one month, each a GROUP BY over what `user` may see: workstations and executors
    (on-time rate and average time of the steps completed), account managers (share of the orders submitted that
    were right the first time) and IT support (interface failures of the provisioning system)."""
    steps = _only_visible(done_in(month), user)
    orders = _only_visible(orders_submitted_in(month), user)
    failures = _only_visible(failures_in(month), user)
    managers = list(
        orders.values("customer__account_manager", "customer__account_manager__display_name",
                      "customer__account_manager__username")
        .annotate(total=Count("id"), right=Count("id", filter=Q(first_time_right=True)))
        .order_by("customer__account_manager__display_name", "customer__account_manager")
    )  # fmt: skip
    for row in managers:
        row["rate"] = row["right"] / row["total"] if row["total"] else None
    it_support = list(
        failures.values("line__product", "line__product__code", "line__product__name")
        .annotate(total=Count("id"), retried=Count("id", filter=Q(retried_at__isnull=False)))
        .order_by("-total", "line__product__code")
    )
    return Assessment(
        month=month,
        workstations=_step_figures(steps, "workstation", "workstation__name", "workstation__name_en"),
        executors=_step_figures(steps, "completed_by", "completed_by__display_name", "completed_by__username"),
        managers=managers,
        it_support=it_support,
        failures_total=sum(row["total"] for row in it_support),
    )
