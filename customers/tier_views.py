"""Tier pages: the evaluation page (rules, dry run / evaluate / publish, past runs), one evaluation's
moves, the tier-change list behind the dashboard numbers, the manual override on a customer, and the
"tier and value" panel of the 360 page. Thin: customers.tiering decides and writes, customers.dashboard
reads the lists. Who may do what comes from customers.tiering (may_view_evaluations,
may_start_evaluation, may_approve_override); everyone else gets a 404."""

import re
from datetime import date

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels import roles
from channels.models import User
from customers import dashboard, policy, tiering
from customers.models import (
    TIER_RANK,
    Customer,
    Tier,
    TierBand,
    TierEvaluation,
    TierOverride,
    TierPolicy,
    ValueFactor,
    portfolio_ids,
)
from customers.policy import can_edit, may_see_spend
from kam.forms import DATE, TEXT, add_service_errors
from kam.pagination import CappedPaginator

PAGE_SIZE = 50
# Up to this many evaluated customers a run started from the page runs in the request (about a second);
# above it, the run is recorded and handed to the Celery worker (tiering.tier_evaluation_start).
INLINE_EVALUATION_LIMIT = 2000
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{1,2})$")
NO_TIER = "none"  # how "untiered" is spelt in the from/to filters


def _page(request, items, paginator_class=CappedPaginator):
    paginator = paginator_class(items, PAGE_SIZE)
    try:
        return paginator.page(request.GET.get("page") or 1)
    except (PageNotAnInteger, EmptyPage):
        return paginator.page(1)


def parse_month(value: str) -> date | None:
    match = MONTH_PATTERN.match((value or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


class MonthField(forms.CharField):
    default_error_messages = {"invalid": gettext_lazy('Give the month as "YYYY-MM".')}

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        month = parse_month(value)
        if month is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return month


# --- the evaluation page ---------------------------------------------------------------------------


class RunForm(forms.Form):
    kind = forms.ChoiceField(choices=TierEvaluation.Kind.choices)
    period = MonthField(
        required=False, label=gettext_lazy("Billing month"),
        help_text=gettext_lazy("YYYY-MM; empty: the latest billed month"),
    )  # fmt: skip


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
            (value, label) for value, label in TierEvaluation.Kind.choices if tiering.may_start_evaluation(user, value)
        ],
        "run_form": RunForm(),
        "may_change_rules": tiering.may_change_tier_rules(user),
    }
    return render(request, "customers/tiers/evaluations.html", context)


@require_POST
def tier_evaluation_run(request):
    user = request.user
    form = RunForm(request.POST)
    kind = request.POST.get("kind", "")
    if kind not in TierEvaluation.Kind.values or not tiering.may_start_evaluation(user, kind):
        raise Http404
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("customers:tier-evaluations")
    period = form.cleaned_data["period"]
    evaluated = Customer.objects.filter(status__in=tiering.EVALUATED_STATUSES)
    try:
        if evaluated[: INLINE_EVALUATION_LIMIT + 1].count() <= INLINE_EVALUATION_LIMIT:
            evaluation = tiering.evaluate_tiers(kind=kind, period=period, by=user)
            messages.success(request, _("%(run)s finished.") % {"run": evaluation})
        else:
            evaluation = tiering.tier_evaluation_start(kind=kind, period=period, by=user)
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
        context["changes"] = _page(request, tiering.tier_changes(user=user).filter(evaluation=evaluation)
                                   .order_by("-id"))  # fmt: skip
    return render(request, "customers/tiers/evaluation_detail.html", context)


# --- the tier-change list --------------------------------------------------------------------------


TIER_FILTER_CHOICES = [("", "---------"), *Tier.choices, (NO_TIER, gettext_lazy("No tier"))]


class TierChangeFilterForm(forms.Form):
    month = MonthField(required=False, label=gettext_lazy("Month"), help_text="YYYY-MM")
    direction = forms.ChoiceField(
        required=False, label=gettext_lazy("Direction"),
        choices=[("", gettext_lazy("Both")), (dashboard.DIRECTION_UP, gettext_lazy("Upgrades")),
                 (dashboard.DIRECTION_DOWN, gettext_lazy("Downgrades"))],
    )  # fmt: skip
    from_tier = forms.ChoiceField(required=False, label=gettext_lazy("From"), choices=TIER_FILTER_CHOICES)
    to_tier = forms.ChoiceField(required=False, label=gettext_lazy("To"), choices=TIER_FILTER_CHOICES)
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def selector_filters(self) -> dict:
        data = self.cleaned_data

        def tier(value):
            return None if not value else "" if value == NO_TIER else value

        return {"month": data["month"], "direction": data["direction"], "customer": data["customer"],
                "from_tier": tier(data["from_tier"]), "to_tier": tier(data["to_tier"])}  # fmt: skip


@require_GET
def tier_change_list(request):
    user = request.user
    if not may_see_spend(user):  # the reasons quote revenue (tiering.tier_changes gives agents nothing)
        raise Http404
    form = TierChangeFilterForm(request.GET)
    page, customer = None, None
    if form.is_valid():
        filters = form.selector_filters()
        page = _page(request, dashboard.tier_change_list(user=user, **filters))
        if filters.get("customer"):
            customer = Customer.objects.visible_to(user).filter(pk=filters["customer"]).first()
    return render(request, "customers/tiers/changes.html", {"form": form, "page": page, "customer": customer})


# --- manual override -------------------------------------------------------------------------------


def approvers():
    """Who may approve a tier override (tiering.may_approve_override): supervisors and administrators."""
    approving = Q(role__in=roles.APPROVERS) | Q(is_superuser=True)
    return User.objects.filter(approving, is_active=True).order_by("username")


class TierOverrideForm(forms.Form):
    tier = forms.ChoiceField(label=gettext_lazy("Tier"), choices=Tier.choices)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, widget=TEXT)
    approved_by = forms.ModelChoiceField(label=gettext_lazy("Approved by"), queryset=User.objects.none())
    expires_on = forms.DateField(
        label=gettext_lazy("Expires"), required=False, widget=DATE,
        help_text=gettext_lazy("Empty: after the months the tier rules give an override."),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approved_by"].queryset = approvers()


def _overridable_customer(request, pk: int) -> Customer:
    if not tiering.may_approve_override(request.user):
        raise Http404
    return get_object_or_404(Customer.objects.editable_by(request.user).live(), pk=pk)


@require_http_methods(["GET", "POST"])
def tier_override_create(request, pk: int):
    user = request.user
    customer = _overridable_customer(request, pk)
    form = TierOverrideForm(request.POST or None, initial={"tier": customer.tier})
    if request.method == "POST" and form.is_valid():
        try:
            tiering.tier_override_create(customer=customer, requested_by=user, **form.cleaned_data)
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
        tiering.tier_override_revoke(override=override, by=request.user)
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
            explanation = tiering.customer_value_explanation(customer)
        except ValidationError:  # no tier rules (a database without the migrations' rows): the page still opens
            explanation = None
    return {
        "finance": finance,
        "explanation": explanation,
        # The page already checked the customer is visible; the reasons quote revenue (tiering.tier_changes).
        "tier_history": list(customer.tier_changes.all()[:20]) if finance else [],
        "open_override": TierOverride.objects.filter(customer=customer, revoked_at__isnull=True)
        .select_related("requested_by", "approved_by").first(),
        "may_override": tiering.may_approve_override(user) and customer.status != Customer.Status.MERGED
        and can_edit(user, customer),
        "today": timezone.localdate(),
    }  # fmt: skip
