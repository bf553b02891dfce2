"""Tier pages: the evaluation page (rules, dry run / evaluate / publish, past runs), one evaluation's
moves, the tier-change list behind the dashboard numbers, the manual override on a customer, and the
"tier and value" panel of the 360 page. Thin: customers.tiering.services writes (the engine evaluates),
customers.tiering.selectors reads; the forms are customers.forms.tiers. Who may do what comes from
customers.policy (may_view_evaluations, may_start_evaluation, may_approve_override); everyone else gets
a 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers import policy
from customers.forms.tiers import RunForm, TierChangeFilterForm, TierOverrideForm
from customers.models import (
    TIER_RANK,
    Customer,
    TierBand,
    TierEvaluation,
    TierOverride,
    TierPolicy,
    ValueFactor,
    portfolio_ids,
)
from customers.policy import can_edit, may_approve_override, may_change_tier_rules, may_see_spend, may_start_evaluation
from customers.tiering import engine, selectors, services
from kam.form_helpers import add_service_errors
from kam.pagination import CappedPaginator

PAGE_SIZE = 50
# Up to this many evaluated customers a run started from the page runs in the request (about a second);
# above it, the run is recorded and handed to the Celery worker (services.tier_evaluation_start).
INLINE_EVALUATION_LIMIT = 2000


def _page(request, items, paginator_class=CappedPaginator):
    paginator = paginator_class(items, PAGE_SIZE)
    try:
        return paginator.page(request.GET.get("page") or 1)
    except (PageNotAnInteger, EmptyPage):
        return paginator.page(1)


# --- the evaluation page ---------------------------------------------------------------------------


@require_GET
def tier_evaluations(request):
    user = request.user
    if not policy.may_view_evaluations(user):
        raise Http404
    bands = sorted(TierBand.objects.all(), key=lambda band: TIER_RANK[band.tier])
    context = {
        "tier_policy": TierPolicy.objects.order_by("pk").first(),
        "bands": bands,
        "factors": ValueFactor.objects.all(),
        "evaluations": _page(request, TierEvaluation.objects.select_related("started_by")),
        "run_kinds": [
            (value, label) for value, label in TierEvaluation.Kind.choices if may_start_evaluation(user, value)
        ],
        "run_form": RunForm(),
        "may_change_rules": may_change_tier_rules(user),
    }
    return render(request, "customers/tiers/evaluations.html", context)


@require_POST
def tier_evaluation_run(request):
    user = request.user
    form = RunForm(request.POST)
    kind = request.POST.get("kind", "")
    if kind not in TierEvaluation.Kind.values or not may_start_evaluation(user, kind):
        raise Http404
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("customers:tier-evaluations")
    period = form.cleaned_data["period"]
    evaluated = Customer.objects.filter(status__in=engine.EVALUATED_STATUSES)
    try:
        if evaluated[: INLINE_EVALUATION_LIMIT + 1].count() <= INLINE_EVALUATION_LIMIT:
            evaluation = engine.evaluate_tiers(kind=kind, period=period, by=user)
            messages.success(request, _("%(run)s finished.") % {"run": evaluation})
        else:
            evaluation = services.tier_evaluation_start(kind=kind, period=period, by=user)
            messages.success(request, _("%(run)s started; it appears here when the worker has finished.")
                             % {"run": evaluation})  # fmt: skip
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:tier-evaluations")
    return redirect("customers:tier-evaluation", pk=evaluation.pk)


@require_GET
def tier_evaluation_detail(request, pk: int):
    """One run: a dry run's would-be moves, or the moves a publication made (only customers the user may see)."""
    user = request.user
    if not policy.may_view_evaluations(user):
        raise Http404
    evaluation = get_object_or_404(TierEvaluation.objects.select_related("started_by"), pk=pk)
    context = {"evaluation": evaluation}
    if evaluation.kind == TierEvaluation.Kind.DRY_RUN:
        moves = evaluation.moves or []
        if not user.sees_all_customers:
            visible = set(portfolio_ids(user))
            moves = [move for move in moves if move["customer"] in visible]
        context["moves"] = _page(request, moves, Paginator)
        context["moves_kept"] = len(evaluation.moves or [])
        context["moves_total"] = evaluation.upgrades + evaluation.downgrades
    else:
        context["changes"] = _page(request, selectors.tier_changes(user=user).filter(evaluation=evaluation)
                                   .order_by("-id"))  # fmt: skip
    return render(request, "customers/tiers/evaluation_detail.html", context)


# --- the tier-change list --------------------------------------------------------------------------


@require_GET
def tier_change_list(request):
    user = request.user
    if not may_see_spend(user):  # the reasons quote revenue (selectors.tier_changes gives agents nothing)
        raise Http404
    form = TierChangeFilterForm(request.GET)
    page, customer = None, None
    if form.is_valid():
        filters = form.selector_filters()
        page = _page(request, selectors.tier_change_list(user=user, **filters))
        if filters.get("customer"):
            customer = Customer.objects.visible_to(user).filter(pk=filters["customer"]).first()
    return render(request, "customers/tiers/changes.html", {"form": form, "page": page, "customer": customer})


# --- manual override -------------------------------------------------------------------------------


def _overridable_customer(request, pk: int) -> Customer:
    if not may_approve_override(request.user):
        raise Http404
    return get_object_or_404(Customer.objects.editable_by(request.user).live(), pk=pk)


@require_http_methods(["GET", "POST"])
def tier_override_create(request, pk: int):
    user = request.user
    customer = _overridable_customer(request, pk)
    form = TierOverrideForm(request.POST or None, initial={"tier": customer.tier})
    if request.method == "POST" and form.is_valid():
        try:
            services.tier_override_create(customer=customer, requested_by=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            # The requester was checked above (404); what is left is an approver who does not look after it.
            form.add_error("approved_by", str(exc))
        else:
            messages.success(request, _("The tier of %(name)s is overridden.") % {"name": customer.name})
            return redirect(customer)
    open_override = TierOverride.objects.filter(customer=customer, revoked_at__isnull=True).first()
    context = {"form": form, "customer": customer, "open_override": open_override}
    return render(request, "customers/tiers/override_form.html", context)


@require_POST
def tier_override_revoke(request, pk: int, override_pk: int):
    customer = _overridable_customer(request, pk)
    override = get_object_or_404(TierOverride, pk=override_pk, customer=customer)
    try:
        services.tier_override_revoke(override=override, by=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The tier override of %(name)s is revoked.") % {"name": customer.name})
    return redirect(customer)


# --- the 360 page's panel --------------------------------------------------------------------------


def tier_panel_context(request, customer: Customer) -> dict:
    """Tier history, the open override and the value explanation for the "tier and value" panel. Finance
    figures (value explanation, lifetime value, the reasons that quote revenue) only for roles that may
    see spend. A fixed handful of queries."""
    user = request.user
    finance = may_see_spend(user)
    explanation = None
    if finance:
        try:
            explanation = selectors.customer_value_explanation(customer)
        except ValidationError:  # no tier rules (a database without the migrations' rows): the page still opens
            explanation = None
    return {
        "finance": finance,
        "explanation": explanation,
        # The page already checked the customer is visible; the reasons quote revenue (selectors.tier_changes).
        "tier_history": list(customer.tier_changes.all()[:20]) if finance else [],
        "open_override": TierOverride.objects.filter(customer=customer, revoked_at__isnull=True)
        .select_related("requested_by", "approved_by").first(),
        "may_override": may_approve_override(user) and customer.status != Customer.Status.MERGED
        and can_edit(user, customer),
        "today": timezone.localdate(),
    }  # fmt: skip
