"""Server-rendered pages of leads and opportunities: my opportunities (list and kanban), capture, detail
with its timeline and actions, notifications, and the customer 360 panel.

Views stay thin: every opportunity comes through Opportunity.objects.visible_to(user) (another person's
is a 404), every change through opportunities.services, whose errors become form errors (400), a clear
message for a conflict (409) or a 403."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels import roles
from channels.models import Role, User
from customers import selectors as customer_selectors
from customers.models import Customer, visible_ids_among
from customers.services import DuplicateWarning
from kam.form_helpers import add_service_errors, run_service
from kam.http import safe_next
from kam.pagination import page_of
from kam.validators import parse_id
from opportunities import policy, services
from opportunities.filters import MyOpportunityFilterSet
from opportunities.forms import (
    ActivityForm,
    CaptureForm,
    CloseForm,
    DispatchForm,
    QualifyForm,
    ReturnForm,
    StageForm,
)
from opportunities.models import (
    AWAITING_CLAIM,
    OPEN_STAGES,
    STAGE_MOVES,
    Kind,
    Opportunity,
    RoutingStatus,
    Stage,
    StageSetting,
    next_stage_forward,
)
from orders.models import Order

PAGE_SIZE = 25
KANBAN_CARDS = 30  # cards per column; the column header shows the full count
PANEL_ROWS = 10
# Roles whose "my opportunities" is a working set (claimed, to claim, pools); the others see what they may see.
LIST_RELATED = ("customer", "assigned_to", "claimed_by", "assigned_partner", "assigned_channel", "second_cover")


# --- helpers -----------------------------------------------------------------------------------------


def _visible(user: User):
    return Opportunity.objects.visible_to(user)


def _get_visible(user: User, pk: int) -> Opportunity:
    rows = _visible(user).select_related(
        "customer__region", "customer__industry", "customer__account_manager", "captured_by", "contact_channel",
        "assigned_to", "assigned_team", "assigned_partner", "assigned_channel", "second_cover", "claimed_by",
        "routed_by_rule", "close_reason", "order",
    )  # fmt: skip
    try:
        return rows.get(pk=pk)
    except Opportunity.DoesNotExist:
        raise Http404 from None


def _working_set(user: User):
    """What is on the user's desk: claimed by them, waiting for their claim (them, their pool, second
    cover); a supervisor also their teams'. Other roles: everything they may see."""
    rows = _visible(user)
    if user.role not in roles.SERVING or user.is_admin_role:
        return rows
    mine = Q(claimed_by=user) | (policy.receiver_q(user) & Q(routing_status__in=AWAITING_CLAIM))
    if user.role == Role.SUPERVISOR:
        teams = list(user.supervised_teams.values_list("pk", flat=True))
        if user.team_id:
            teams.append(user.team_id)
        mine |= Q(assigned_to__team_id__in=teams) | Q(assigned_team_id__in=teams)
    return rows.filter(mine)


def _stale_limits() -> dict[str, int]:
    return {s.stage: s.stale_days for s in StageSetting.objects.filter(stale_days__isnull=False)}


def _mark(rows, user: User, stale_limits: dict[str, int], now) -> None:
    """Per-row display flags, computed without queries."""
    for opp in rows:
        opp.may_claim = policy.may_claim(user, opp)
        opp.claim_overdue = bool(opp.may_claim and opp.claim_due_at and opp.claim_due_at < now)
        limit = stale_limits.get(opp.stage)
        opp.is_stale = bool(
            opp.stage in OPEN_STAGES and limit and opp.stage_changed_at and (now - opp.stage_changed_at).days > limit
        )
        opp.next_stages = [s for s in OPEN_STAGES if s in STAGE_MOVES.get(opp.stage, ())]
        opp.default_stage = next_stage_forward(opp.stage)  # selected: one click moves forward, never back
        opp.may_move = policy.may_move_stage(user, opp)


# --- my opportunities --------------------------------------------------------------------------------


@require_GET
def opportunity_list(request):
    user = request.user
    base = _working_set(user).select_related(*LIST_RELATED)
    filterset = MyOpportunityFilterSet(request.GET, queryset=base, request=request)
    rows = filterset.qs
    now = timezone.now()
    limits = _stale_limits()
    context = {"filterset": filterset, "view": "list", "may_capture": policy.may_capture(user)}
    if request.GET.get("view") == "kanban":
        context["view"] = "kanban"
        context["columns"] = _kanban(rows, user, limits, now)
        template = "opportunities/_kanban.html" if request.htmx else "opportunities/opportunity_list.html"
        return render(request, template, context)
    rows = rows.annotate(
        waiting=Case(When(routing_status__in=AWAITING_CLAIM, then=Value(0)), default=Value(1),
                     output_field=IntegerField())
    ).order_by("waiting", "claim_due_at", "-created_at", "-pk")  # fmt: skip
    paginator, page, page_error = page_of(request, rows, PAGE_SIZE)
    if page is not None:
        _mark(page.object_list, user, limits, now)
    context.update(page=page, paginator=paginator, page_error=page_error)
    template = "opportunities/_opportunity_table.html" if request.htmx else "opportunities/opportunity_list.html"
    return render(request, template, context)


@dataclass
class Column:
    key: str
    title: str
    count: int
    cards: list


def _kanban(rows, user: User, limits, now) -> list[Column]:
    """One column for the leads and one per open stage: one count query and one query per column."""
    counts = {(r["kind"], r["stage"]): r["n"] for r in rows.order_by().values("kind", "stage").annotate(n=Count("pk"))}
    columns = []
    lead_cards = list(rows.filter(kind=Kind.LEAD, stage="").order_by("-created_at", "-pk")[:KANBAN_CARDS])
    columns.append(Column("lead", _("Leads"), counts.get((Kind.LEAD, ""), 0), lead_cards))
    for stage in OPEN_STAGES:
        cards = list(rows.filter(stage=stage).order_by("expected_close", "-pk")[:KANBAN_CARDS])
        total = sum(n for (_kind, s), n in counts.items() if s == stage)
        columns.append(Column(stage.value, stage.label, total, cards))
    for column in columns:
        _mark(column.cards, user, limits, now)
    return columns


# --- capture -----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def capture(request):
    user = request.user
    if not policy.may_capture(user):
        raise PermissionDenied
    initial = {}
    chosen = None
    if request.method == "GET" and (customer_id := parse_id(request.GET.get("customer"))):
        chosen = Customer.objects.visible_to(user).live().filter(pk=customer_id).first()
        if chosen is not None:
            initial["customer"] = chosen.pk
    form = CaptureForm(request.POST or None, user=user, initial=initial)
    candidates = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = data.get("customer")
        prospect = services.Prospect.from_input(data) if chosen is None else None
        try:
            opp = services.opportunity_capture(
                by=user, kind=data["kind"], title=data["title"], customer=chosen, prospect=prospect,
                confirm_not_duplicate=data["confirm_not_duplicate"], products=list(data.get("products") or []),
                contact_channel=data.get("contact_channel"), **form.service_fields(),
            )  # fmt: skip
        except DuplicateWarning as warning:
            candidates = customer_selectors.duplicate_candidate_rows(user=user, candidates=warning.candidates)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(code)s captured; it is being routed.") % {"code": opp.code})
            return redirect("opportunities:detail", pk=opp.pk)
    elif request.method == "POST" and form.is_bound and "customer" in form.cleaned_data:
        chosen = form.cleaned_data.get("customer")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "candidates": candidates, "chosen": chosen}
    return render(request, "opportunities/capture.html", context, status=status)


@require_GET
def customer_search(request):
    """The capture page's customer search: radio buttons for up to 10 customers the user may see."""
    term = " ".join(request.GET.get("customer_q", "").split())
    results = []
    if len(term) >= 2:
        found = customer_selectors.customer_search_ranked(customer_selectors.customer_list(user=request.user), term)
        results = list(found[:10])  # best matches first (a sort by name would sort every match of 有限)
    return render(request, "opportunities/_customer_choices.html", {"results": results, "term": term})


# --- detail ------------------------------------------------------------------------------------------


@dataclass
class Event:
    at: datetime
    kind: str  # transfer, stage, activity
    row: object


def _timeline(opp: Opportunity) -> list[Event]:
    transfers = opp.transfers.select_related(
        "from_user", "from_channel", "to_user", "to_channel", "to_team", "to_partner", "by"
    )
    stages = opp.stage_changes.select_related("by")
    activities = opp.activities.select_related("by")[:200]
    events = [Event(t.at, "transfer", t) for t in transfers[:200]]
    events += [Event(s.at, "stage", s) for s in stages[:200]]
    events += [Event(a.at, "activity", a) for a in activities]
    return sorted(events, key=lambda e: (e.at, e.kind == "activity"), reverse=True)


def _detail_context(request, opp: Opportunity, bound: dict | None = None) -> dict:
    user = request.user
    bound = bound or {}
    may_work = policy.may_work(user, opp)
    is_open = not opp.is_closed
    context = {
        "opp": opp,
        "products": list(opp.products.all()),
        "timeline": _timeline(opp),
        "customer_linkable": bool(visible_ids_among(user, [opp.customer_id])),
        "claim_overdue": bool(
            opp.routing_status in AWAITING_CLAIM and opp.claim_due_at and opp.claim_due_at < timezone.now()
        ),
        "routing_pending": opp.routing_status == RoutingStatus.PENDING,
        "may_claim": policy.may_claim(user, opp),
        "may_return": policy.may_return(user, opp),
        "may_dispatch": policy.may_dispatch(user) and is_open,
        "may_stage": may_work and is_open and opp.kind == Kind.OPPORTUNITY,
        "may_reopen": may_work and opp.stage == Stage.SUSPENDED,
        "may_qualify": may_work and opp.kind == Kind.LEAD and not opp.stage,
        "may_close": may_work and is_open,
        "may_activity": may_work,
        # The draft order a win created: a link when the user may see it (Order.objects.visible_to).
        "order_visible": bool(opp.order_id) and Order.objects.visible_to(user).filter(pk=opp.order_id).exists(),
    }
    if context["may_return"]:
        context["return_form"] = bound.get("return") or ReturnForm()
    if context["may_stage"] or context["may_reopen"]:
        context["stage_form"] = bound.get("stage") or StageForm(opportunity=opp)
    if context["may_qualify"]:
        context["qualify_form"] = bound.get("qualify") or QualifyForm(
            initial={"need_type": opp.need_type, "expected_value": opp.expected_value,
                     "expected_close": opp.expected_close}
        )  # fmt: skip
    if context["may_close"]:
        context["close_form"] = bound.get("close") or CloseForm()
    if context["may_activity"]:
        context["activity_form"] = bound.get("activity") or ActivityForm(
            initial={"next_action": opp.next_action, "next_action_due": opp.next_action_due}
        )
    if context["may_dispatch"]:
        context["dispatch_form"] = bound.get("dispatch") or DispatchForm()
    return context


@require_GET
def detail(request, pk: int):
    opp = _get_visible(request.user, pk)
    if request.htmx and request.GET.get("part") == "routing":
        # the "routing pending" poll: swaps in the header once the router has placed it
        return render(request, "opportunities/_routing_status.html", {"opp": opp})
    return render(request, "opportunities/detail.html", _detail_context(request, opp))


# --- actions (POST only; CSRF protected by the middleware) -------------------------------------------


def _act(request, pk: int, call, *, form=None, form_key: str = "", success: str = ""):
    """Run a service action for a visible opportunity and answer: redirect on success; the detail page
    with the form's errors (400), a conflict message (409) or 403 otherwise."""
    user = request.user
    opp = _get_visible(user, pk)
    default = reverse("opportunities:detail", args=[pk])

    def act():
        try:
            call(opp, form.cleaned_data if form is not None else {})
        except Opportunity.DoesNotExist:
            raise Http404 from None

    status = run_service(request, act, form=form, conflicts=(services.Conflict,))
    if status is None:
        if success:
            messages.success(request, success)
        return redirect(safe_next(request, default))
    opp = _get_visible(user, pk)
    bound = {form_key: form} if form is not None else {}
    return render(request, "opportunities/detail.html", _detail_context(request, opp, bound), status=status)


@require_POST
def claim(request, pk: int):
    return _act(request, pk, lambda opp, data: services.opportunity_claim(pk=pk, by=request.user),
                success=_("Claimed: it is yours to work on."))  # fmt: skip


@require_POST
def return_view(request, pk: int):
    form = ReturnForm(request.POST)
    return _act(
        request, pk, lambda opp, data: services.opportunity_return(pk=pk, by=request.user, reason=data["reason"]),
        form=form, form_key="return", success=_("Returned to the operations center."),
    )  # fmt: skip


@require_POST
def stage(request, pk: int):
    opp = _get_visible(request.user, pk)
    form = StageForm(request.POST, opportunity=opp)
    return _act(
        request, pk, lambda opp, data: services.opportunity_move_stage(pk=pk, by=request.user, stage=data["stage"],
                                                            note=data.get("note") or ""),
        form=form, form_key="stage", success=_("Stage changed."),
    )  # fmt: skip


@require_POST
def qualify(request, pk: int):
    form = QualifyForm(request.POST)
    return _act(
        request, pk, lambda opp, data: services.opportunity_qualify(
            pk=pk, by=request.user, products=list(data.get("products") or []), need_type=data.get("need_type") or "",
            expected_value=data.get("expected_value"), expected_close=data.get("expected_close"),
        ),
        form=form, form_key="qualify", success=_("Qualified: it is an opportunity now."),
    )  # fmt: skip


@require_POST
def close(request, pk: int):
    form = CloseForm(request.POST)
    return _act(
        request, pk, lambda opp, data: services.opportunity_close(
            pk=pk, by=request.user, result=data["result"], reason=data.get("reason"),
            competitor=data.get("competitor") or "", note=data.get("note") or "",
        ),
        form=form, form_key="close", success=_("Closed."),
    )  # fmt: skip


@require_POST
def activity(request, pk: int):
    form = ActivityForm(request.POST)

    def call(opp, data):
        next_action = data.get("next_action")
        changed = next_action != (opp.next_action or "") or data.get("next_action_due") != opp.next_action_due
        services.activity_create(
            pk=pk, by=request.user, kind=data["kind"], notes=data["notes"], at=data.get("at"),
            next_action=next_action if changed else None, next_action_due=data.get("next_action_due"),
        )  # fmt: skip

    return _act(request, pk, call, form=form, form_key="activity", success=_("Activity recorded."))


@require_POST
def dispatch(request, pk: int):
    if not policy.may_dispatch(request.user):
        _get_visible(request.user, pk)  # an id the user may not see stays a 404
        raise PermissionDenied
    form = DispatchForm(request.POST)
    return _act(
        request, pk, lambda opp, data: services.opportunity_dispatch(
            pk=pk, by=request.user, to_user=data.get("to_user"), to_channel=data.get("to_channel") or None,
            reason=data.get("reason") or "",
        ),
        form=form, form_key="dispatch", success=_("Dispatched."),
    )  # fmt: skip


# --- the customer 360 panel --------------------------------------------------------------------------


def customer_panel_context(request, customer: Customer) -> dict:
    """Two queries: the count and the newest open opportunities of this customer the user may see."""
    rows = _visible(request.user).open().filter(customer=customer)
    return {
        "open_count": rows.count(),
        "open_rows": list(
            rows.select_related("assigned_to", "assigned_partner", "assigned_channel").order_by("-created_at", "-pk")[
                :PANEL_ROWS
            ]
        ),
        "may_capture": policy.may_capture(request.user) and customer.status != Customer.Status.MERGED,
    }
