"""Pages of the provisioning loop: the operations-center board, my steps, the workstation queue, a work order
with every step and its actions, an order's steps (live, htmx), the four-level assessment and the lists behind
its numbers, and the 360 panel "orders in flight".

Views stay thin: every work order and step comes through `visible_to(user)` (another's is a 404), every change
through orders.services.provisioning, whose errors become form errors (400), a conflict message (409) or 403."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from channels import roles
from channels.models import User, Workstation
from kam.form_helpers import run_service
from kam.http import safe_next
from kam.pagination import CappedPaginator, page_of
from orders import policy
from orders.forms_provisioning import AssessmentForm, StepActionForm
from orders.models import Order, OrderLine, WorkOrder, WorkStep
from orders.selectors import provisioning as selectors
from orders.services import provisioning as services

PAGE_SIZE = 50
PANEL_ROWS = 10
TAB_LABELS = {
    selectors.TAB_OVERDUE: gettext_lazy("Overdue"),
    selectors.TAB_BLOCKED: gettext_lazy("Blocked"),
    selectors.TAB_QUEUED: gettext_lazy("Waiting in a queue"),
    selectors.TAB_WORKING: gettext_lazy("Being worked"),
}
ACTIONS = ("claim", "complete", "reject", "block", "unblock", "hand-over")


def _page(request, queryset):
    paginator, page, _message = page_of(request, queryset, PAGE_SIZE)
    return page or paginator.page(1)


def _tabs(counts: dict[str, int]) -> list[dict]:
    cap = CappedPaginator([], 1).cap
    return [
        {"key": key, "label": TAB_LABELS[key], "count": f"{cap}+" if counts[key] > cap else str(counts[key])}
        for key in selectors.TABS
    ]


# --- boards ----------------------------------------------------------------------------------------------


@require_GET
def board(request):
    """Operations center: every open step, by tab (overdue, blocked, queued, being worked), most urgent first."""
    user = request.user
    if not policy.may_see_operations_board(user):
        raise PermissionDenied(_("Only the operations center and workstation managers may open this page."))
    tab = request.GET.get("tab", "")
    if tab not in selectors.TABS:
        tab = selectors.TAB_OVERDUE
    now = timezone.now()
    workstation = request.GET.get("workstation", "")
    workstation_id = int(workstation) if workstation.isdigit() and len(workstation) < 10 else None
    base = selectors.open_steps(user)
    if workstation_id:
        base = base.filter(workstation_id=workstation_id)
    counts = selectors.board_counts(user, cap=CappedPaginator([], 1).cap, now=now, base=base)
    page = _page(request, selectors.board_rows(user, tab=tab, now=now, workstation_id=workstation_id))
    context = {"tab": tab, "tab_label": TAB_LABELS[tab], "tabs": _tabs(counts), "page": page, "now": now,
               "title": _("Provisioning board"), "workstations": Workstation.objects.order_by("sort_order", "code"),
               "workstation_id": workstation_id}  # fmt: skip
    return render(request, "orders/provisioning/board.html", context)


@require_GET
def my_steps(request):
    """The steps in my hands, most urgent first (overdue and blocked ones marked)."""
    user = request.user
    if not (policy.works_steps(user) or policy.is_operations_center(user)):
        raise PermissionDenied(_("Only provisioning staff have steps."))
    now = timezone.now()
    tab = request.GET.get("tab", "")
    page = _page(request, selectors.my_steps(user, tab=tab))
    links = [(key, TAB_LABELS[key]) for key in (selectors.TAB_OVERDUE, selectors.TAB_BLOCKED)]
    context = {"page": page, "now": now, "title": _("My steps"), "mine": True, "tab": tab, "tab_links": links}
    return render(request, "orders/provisioning/steps.html", context)


@require_GET
def queue(request):
    """Steps waiting for a claim at my workstation, with a claim button each."""
    user = request.user
    if not policy.works_steps(user):
        raise PermissionDenied(_("Only provisioning staff have a workstation queue."))
    now = timezone.now()
    page = _page(request, selectors.workstation_queue(user))
    context = {"page": page, "now": now, "title": _("Workstation queue"), "queue": True}
    return render(request, "orders/provisioning/steps.html", context)


# --- a work order ----------------------------------------------------------------------------------------


def _work_order(user: User, pk: int) -> WorkOrder:
    try:
        return (
            WorkOrder.objects.visible_to(user)
            .select_related("customer__account_manager", "order_line__order", "order_line__product")
            .get(pk=pk)
        )
    except WorkOrder.DoesNotExist:
        raise Http404 from None


def _allowed(user: User, step: WorkStep) -> set[str]:
    """The actions `user` may offer on `step` now (the service checks again when one is sent)."""
    work, finish = policy.may_work_step(user, step), policy.may_finish_step(user, step)
    allowed = set()
    if step.status == WorkStep.Status.READY and work:
        allowed |= {"claim", "block"}
    if step.status == WorkStep.Status.IN_PROGRESS:
        if finish:
            allowed |= {"complete", "reject"}
        if work:
            allowed.add("block")
    if step.status == WorkStep.Status.BLOCKED and work:
        allowed.add("unblock")
    if step.status in (WorkStep.Status.IN_PROGRESS, WorkStep.Status.BLOCKED) and work and finish:
        allowed.add("hand-over")
    return allowed


def _colleagues(step: WorkStep):
    return User.objects.filter(is_active=True, role__in=list(roles.WORKSTATIONS), workstation_id=step.workstation_id)


def _detail_context(request, work_order: WorkOrder, *, failed: tuple[int, StepActionForm] | None = None) -> dict:
    user = request.user
    steps = list(selectors.work_order_steps([work_order.pk]))
    colleagues: dict[int, list[User]] = {}
    for colleague in User.objects.filter(
        is_active=True, role__in=list(roles.WORKSTATIONS), workstation_id__in={s.workstation_id for s in steps}
    ).order_by("display_name", "username"):
        colleagues.setdefault(colleague.workstation_id, []).append(colleague)
    for step in steps:
        step.allowed = _allowed(user, step)
        step.colleagues = [c for c in colleagues.get(step.workstation_id, []) if c.pk != step.assignee_id]
        step.form = failed[1] if failed and failed[0] == step.pk else None
    return {"work_order": work_order, "line": work_order.order_line, "order": work_order.order_line.order,
            "steps": steps, "now": timezone.now()}  # fmt: skip


@require_GET
def work_order_detail(request, pk: int):
    work_order = _work_order(request.user, pk)
    return render(request, "orders/provisioning/work_order_detail.html", _detail_context(request, work_order))


@require_POST
def step_action(request, pk: int, seq: int, action: str):
    """One step action from the work-order page: back to it on success; the page with the errors (400), the
    conflict (409) or 403 otherwise."""
    user = request.user
    work_order = _work_order(user, pk)
    step = WorkStep.objects.visible_to(user).filter(work_order=work_order, sequence=seq).first()
    if step is None or action not in ACTIONS:
        raise Http404
    form = StepActionForm(request.POST, colleagues=_colleagues(step))

    def act():
        data = form.cleaned_data
        common = {"by": user, "revision": data["revision"]}
        if action == "claim":
            services.step_claim(step, **common)
        elif action == "complete":
            services.step_complete(step, note=data["note"], **common)
        elif action == "reject":
            services.step_reject(step, reason=data["reason"], order_data_wrong=data["order_data_wrong"], **common)
        elif action == "block":
            services.step_block(step, reason=data["reason"], **common)
        elif action == "unblock":
            services.step_unblock(step, note=data["note"], **common)
        else:
            if data["to_user"] is None:
                raise ValidationError({"to_user": [_("Choose a colleague.")]})
            services.step_hand_over(step, to_user=data["to_user"], note=data["note"], **common)

    status = run_service(request, act, form=form, conflicts=(services.StepConflict,))
    if status is None:
        nxt = request.POST.get("next", "")
        if nxt in ("queue", "mine"):
            return redirect("orders:provisioning-queue" if nxt == "queue" else "orders:my-steps")
        return redirect("orders:work-order-detail", pk=work_order.pk)
    context = _detail_context(request, work_order, failed=(step.pk, form))
    return render(request, "orders/provisioning/work_order_detail.html", context, status=status)


@require_GET
def order_steps(request, pk: int):
    """The steps of one order (the fragment the order page and the 360 panel poll to stay live)."""
    order = Order.objects.visible_to(request.user).filter(pk=pk).first()
    if order is None:
        raise Http404
    return render(request, "orders/provisioning/_order_steps.html", {"order": order})


@require_POST
def retry_line(request, pk: int):
    """Send a failed BOSS activation again (operations center)."""
    line = OrderLine.objects.visible_to(request.user).select_related("order").filter(pk=pk).first()
    if line is None:
        raise Http404
    try:
        services.retry_activation(line, by=request.user)
    except services.StepConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Activation sent again."))
    return redirect(safe_next(request, reverse("orders:provisioning-board")))


# --- four-level assessment -------------------------------------------------------------------------------


def _month(request) -> tuple[AssessmentForm, dt.date]:
    form = AssessmentForm(request.GET)
    today = timezone.localdate()
    month = form.cleaned_data.get("month") if form.is_valid() else None
    return form, (month or today).replace(day=1)


@require_GET
def assessment(request):
    user = request.user
    if not policy.may_see_assessment(user):
        raise PermissionDenied(_("Only managers may open the assessment."))
    form, month = _month(request)
    figures = selectors.assessment(user, month)
    chart = {
        "label": _("On time (%)"),
        "workstations": [
            {"name": r["workstation__name"], "rate": round(100 * r["rate"])} for r in figures.workstations
        ],
        "executors": [
            {
                "name": r["completed_by__display_name"] or r["completed_by__username"] or "—",
                "rate": round(100 * r["rate"]),
            }
            for r in figures.executors
        ],
    }
    context = {"form": form, "figures": figures, "month": month, "month_param": month.strftime("%Y-%m"),
               "chart": chart}  # fmt: skip
    return render(request, "orders/provisioning/assessment.html", context)


@require_GET
def assessment_list(request):
    """The rows behind one number of the assessment: steps of a workstation or an executor (all, or the late
    ones), orders of an account manager (all, or those not right the first time), interface failures."""
    user = request.user
    if not policy.may_see_assessment(user):
        raise PermissionDenied(_("Only managers may open the assessment."))
    _form, month = _month(request)
    level, key, only = request.GET.get("level", ""), request.GET.get("key", ""), request.GET.get("only", "")
    key_id = int(key) if key.isdigit() and len(key) < 12 else None
    context = {"month": month, "level": level, "only": only}
    if level in ("workstation", "executor"):
        rows = selectors.done_in(month).filter(pk__in=WorkStep.objects.visible_to(user).values("pk"))
        rows = rows.filter(**{"workstation_id" if level == "workstation" else "completed_by_id": key_id})
        if only == "late":
            rows = rows.filter(on_time=False)
        context["steps"] = _page(request, rows.select_related(*selectors.STEP_RELATED, "completed_by").order_by(
            "-completed_at", "-id"))  # fmt: skip
    elif level == "manager":
        rows = selectors.orders_submitted_in(month).filter(pk__in=Order.objects.visible_to(user).values("pk"))
        rows = rows.filter(customer__account_manager_id=key_id)
        if only == "not_right":
            rows = rows.filter(first_time_right=False)
        context["orders"] = _page(request, rows.select_related("customer").order_by("-submitted_at", "-id"))
    elif level == "it":
        from orders.models import ProvisioningFailure

        rows = selectors.failures_in(month).filter(pk__in=ProvisioningFailure.objects.visible_to(user).values("pk"))
        if key_id:
            rows = rows.filter(line__product_id=key_id)
        context["failures"] = _page(request, rows.select_related("line__order__customer", "line__product",
                                                                 "retried_by"))  # fmt: skip
    else:
        raise Http404
    return render(request, "orders/provisioning/assessment_list.html", context)


# --- the 360 panel ---------------------------------------------------------------------------------------


def customer_panel_context(request, customer) -> dict:
    """Orders in flight with the step each stands at: three queries whatever the customer's orders."""
    count, rows = selectors.orders_in_flight(request.user, customer, limit=PANEL_ROWS)
    return {"in_flight_count": count, "in_flight": rows, "now": timezone.now()}
