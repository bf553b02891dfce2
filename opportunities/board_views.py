"""Operations-center pages: dispatch board, what I passed on, pipeline, routing-rule tester.

Thin: opportunities.selectors and opportunities.pipeline read, opportunities.services writes,
opportunities.routing.decide() answers the dry run. Lists are paged with the capped paginator and
carry what a row shows, so each page is a fixed number of queries whatever the rows."""

import datetime
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from channels import roles
from channels.models import ChannelType, Team, User
from customers.models import Customer, Industry, Region, Tier
from kam.form_helpers import RefuseControlCharacters
from kam.pagination import CappedPaginator, page_of
from opportunities import pipeline as analytics
from opportunities import policy, routing, selectors, services
from opportunities.models import Kind, Opportunity, RoutingStatus

BOARD_PAGE_SIZE = 20
LIST_PAGE_SIZE = 25
TEAM_CHOICES_KEY = "opportunities:pipeline-teams"
TEAM_CHOICES_LIMIT = 500

DISPATCH_CHANNELS = [
    ("account_manager", gettext_lazy("The customer's account manager")),
    ("social_channel", gettext_lazy("Core partner agent (phone account manager as second cover)")),
    ("phone_account_manager", gettext_lazy("Phone account managers (least loaded)")),
]
BUCKET_LABELS = {
    selectors.BUCKET_UNROUTED: gettext_lazy("Unrouted"),
    selectors.BUCKET_UNCLAIMED: gettext_lazy("Awaiting claim"),
    selectors.BUCKET_OVERDUE: gettext_lazy("Overdue"),
    selectors.BUCKET_RETURNED: gettext_lazy("Returned"),
}


def _page(request, queryset, per_page: int):
    """The page to show; past the end, the first page (the board's tabs change under the reader)."""
    paginator, page, _message = page_of(request, queryset, per_page)
    return page or paginator.page(1)


def _require_dispatcher(user: User) -> None:
    if not policy.may_dispatch(user):
        raise PermissionDenied(_("Only the operations center may open this page."))


# --- dispatch board ------------------------------------------------------------------------------------


class DispatchForm(RefuseControlCharacters, forms.Form):
    opportunity = forms.IntegerField(widget=forms.HiddenInput)
    to_channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=[("", "---------"), *DISPATCH_CHANNELS], required=False
    )
    to_user = forms.ModelChoiceField(
        label=gettext_lazy("Person"),
        queryset=User.objects.filter(is_active=True, role__in=roles.SERVING),
        required=False,
    )
    reason = forms.CharField(label=gettext_lazy("Why"), max_length=500, required=False)

    def clean(self):
        data = super().clean()
        if bool(data.get("to_channel")) == bool(data.get("to_user")):
            raise ValidationError(_("Choose a channel or a person (one of the two)."))
        return data


def _receiver(opp: Opportunity) -> str:
    who = opp.assigned_to or opp.assigned_partner or opp.assigned_team
    return str(who) if who else str(opp.assigned_channel or _("operations-center queue"))


def _redispatch(request):
    form = DispatchForm(request.POST)
    tab = request.POST.get("tab", "")
    target = reverse("opportunities:board") + (f"?tab={tab}" if tab in selectors.BUCKETS else "")
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect(target)
    data = form.cleaned_data
    try:
        opp = services.opportunity_dispatch(
            pk=data["opportunity"], by=request.user, to_user=data["to_user"], to_channel=data["to_channel"] or None,
            reason=data["reason"],
        )  # fmt: skip
    except Opportunity.DoesNotExist:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except services.Conflict as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(
            request, _("%(opportunity)s sent to %(receiver)s.") % {"opportunity": opp, "receiver": _receiver(opp)}
        )
    return redirect(target)


@require_http_methods(["GET", "POST"])
def board(request):
    """Unrouted, awaiting claim, overdue and returned opportunities, each row with a one-click
    re-dispatch (to a channel or a person) and a link to the dry run of the rules."""
    user = request.user
    _require_dispatcher(user)
    if request.method == "POST":
        return _redispatch(request)
    tab = request.GET.get("tab", "")
    if tab not in selectors.BUCKETS:
        tab = selectors.BUCKET_UNROUTED
    now = timezone.now()
    cap = CappedPaginator([], 1).cap
    counts = selectors.board_counts(user=user, cap=cap, now=now)
    tabs = [
        {"key": key, "label": BUCKET_LABELS[key], "count": f"{cap}+" if counts[key] > cap else str(counts[key])}
        for key in selectors.BUCKETS
    ]
    page = _page(request, selectors.board_rows(user=user, bucket=tab, now=now), BOARD_PAGE_SIZE)
    for opp in page.object_list:
        opp.receiver_display = _receiver(opp)
        opp.overdue = opp.claim_due_at is not None and opp.claim_due_at < now
    # The person options are the same in every row: rendered once.
    people = format_html_join("", '<option value="{}">{}</option>', selectors.dispatch_people())
    context = {
        "tab": tab, "tab_label": BUCKET_LABELS[tab], "tabs": tabs, "page": page, "people_options": people,
        "channels": DISPATCH_CHANNELS, "now": now,
    }  # fmt: skip
    return render(request, "opportunities/board.html", context)


# --- what I passed on ----------------------------------------------------------------------------------


@require_GET
def passed_on(request):
    """The contact channel follows what it captured (seed 004: 接触渠道可查询转入方处理状况)."""
    user = request.user
    if not policy.may_capture(user):
        raise PermissionDenied(_("Your role does not capture opportunities."))
    status = request.GET.get("status", "")
    page = _page(request, selectors.passed_on(user=user, status=status), LIST_PAGE_SIZE)
    for opp in page.object_list:
        opp.receiver_display = _receiver(opp)
    context = {"page": page, "status": status, "statuses": RoutingStatus.choices}
    return render(request, "opportunities/passed_on.html", context)


# --- pipeline ------------------------------------------------------------------------------------------


def team_choices() -> list[tuple[int, str]]:
    """Teams for the filter, bounded and cached (a province has hundreds)."""
    teams = cache.get(TEAM_CHOICES_KEY)
    if teams is None:
        teams = list(Team.objects.order_by("name").values_list("pk", "name")[:TEAM_CHOICES_LIMIT])
        cache.set(TEAM_CHOICES_KEY, teams, 300)
    return teams


class PipelineFilterForm(forms.Form):
    team = forms.TypedChoiceField(label=gettext_lazy("Team"), coerce=int, required=False, empty_value=None)
    month_from = forms.CharField(
        label=gettext_lazy("Captured from (month)"), required=False, widget=forms.DateInput(attrs={"type": "month"})
    )
    month_to = forms.CharField(
        label=gettext_lazy("Captured to (month)"), required=False, widget=forms.DateInput(attrs={"type": "month"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", gettext_lazy("All teams")), *team_choices()]

    @staticmethod
    def _month(value: str) -> datetime.date | None:
        if not value:
            return None
        try:
            return datetime.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise ValidationError(_("Enter a month as YYYY-MM.")) from None

    def clean_month_from(self):
        return self._month(self.cleaned_data["month_from"])

    def clean_month_to(self):
        return self._month(self.cleaned_data["month_to"])

    def clean(self):
        data = super().clean()
        start, end = data.get("month_from"), data.get("month_to")
        if start and end and start > end:
            self.add_error("month_to", _("The end month is before the start month."))
        return data

    def filters(self) -> analytics.Filters:
        if not self.is_valid():
            return analytics.Filters()
        data = self.cleaned_data
        return analytics.Filters(team=data["team"], month_from=data["month_from"], month_to=data["month_to"])


@require_GET
def pipeline(request):
    """Weighted pipeline, conversion, days per stage, claim on-time rate and win/loss reasons over the
    opportunities the user may see; every number links to the list behind it (same page, `drill` rows)."""
    user = request.user
    if not policy.may_see_pipeline(user):
        raise PermissionDenied(_("Your role has no pipeline."))
    form = PipelineFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else analytics.Filters()
    figures = analytics.pipeline(user=user, filters=filters)
    drill, applied = analytics.drill_rows(analytics.pipeline_rows(user=user, filters=filters), request.GET)
    # The page's own filters, kept by every link to the list behind a number.
    base = urlencode({k: request.GET[k] for k in ("team", "month_from", "month_to") if request.GET.get(k)})
    chart = figures.chart()
    chart["base"] = base
    context = {
        "form": form, "figures": figures, "chart": chart, "totals": figures.totals, "base": base,
        "drill": _page(request, drill, LIST_PAGE_SIZE) if drill is not None else None, "applied": applied,
    }  # fmt: skip
    return render(request, "opportunities/pipeline.html", context)


# --- routing-rule dry run ------------------------------------------------------------------------------


class RuleTestForm(forms.Form):
    opportunity = forms.CharField(
        label=gettext_lazy("Existing opportunity (id or number)"), required=False, max_length=20,
        help_text=gettext_lazy("Leave empty to describe one below."),
    )  # fmt: skip
    customer = forms.IntegerField(
        label=gettext_lazy("Existing customer (id)"), required=False, min_value=1,
        help_text=gettext_lazy("Or leave empty and describe the customer with the fields below."),
    )  # fmt: skip
    prospect = forms.BooleanField(label=gettext_lazy("A prospect (new customer)"), required=False, initial=True)
    region = forms.CharField(label=gettext_lazy("Region code"), required=False, max_length=6)
    industry = forms.ModelChoiceField(label=gettext_lazy("Industry"), queryset=Industry.objects.all(), required=False)
    tier = forms.ChoiceField(label=gettext_lazy("Tier"), choices=[("", "---------"), *Tier.choices], required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Kind.choices, initial=Kind.LEAD, required=False)
    products = forms.ModelMultipleChoiceField(label=gettext_lazy("Products"), queryset=None, required=False)
    expected_value = forms.DecimalField(
        label=gettext_lazy("Expected monthly value (RMB)"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    contact_channel = forms.ModelChoiceField(
        label=gettext_lazy("Contact channel"), queryset=ChannelType.objects.order_by("sort_order"), required=False
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        from orders.models import Product

        self.user = user
        # What a salesperson may propose today: retired (legacy) and inactive products are not offered.
        self.fields["products"].queryset = Product.objects.offered().order_by("code")
        self.opp: Opportunity | None = None
        self.product_ids: set[int] | None = None

    def clean_region(self):
        code = self.cleaned_data["region"].strip()
        if code and not Region.objects.filter(pk=code).exists():
            raise ValidationError(_("No such region code."))
        return code or None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        ref = (data.get("opportunity") or "").strip()
        if ref:
            self.opp = selectors.find_opportunity(user=self.user, ref=ref)
            if self.opp is None:
                self.add_error("opportunity", _("No such opportunity."))
            return data
        if data.get("customer"):
            customer = Customer.objects.visible_to(self.user).live().filter(pk=data["customer"]).first()
            if customer is None:
                self.add_error("customer", _("No such customer."))
                return data
        else:
            customer = Customer(
                name=_("Test customer"),
                status=Customer.Status.PROSPECT if data.get("prospect") else Customer.Status.ACTIVE,
                region_id=data.get("region"), industry=data.get("industry"), tier=data.get("tier") or "",
            )  # fmt: skip
        # An unsaved opportunity in memory: decide() only reads.
        self.opp = Opportunity(
            kind=data.get("kind") or Kind.LEAD, title=_("Dry run"), customer=customer,
            expected_value=data.get("expected_value"), contact_channel=data.get("contact_channel"),
        )  # fmt: skip
        self.product_ids = {p.pk for p in data.get("products") or ()}
        return data


@require_GET
def rule_test(request):
    """Dry run of the routing rules for an existing opportunity or a described one: which rules were
    tried, why each did not match, which one placed it and where it would go. Changes nothing."""
    user = request.user
    _require_dispatcher(user)
    form = RuleTestForm(request.GET if "test" in request.GET else None, user=user)
    placement = None
    suggestion = None
    if form.is_bound and form.is_valid() and form.opp is not None:
        placement = routing.decide(form.opp, product_ids=form.product_ids)
        if form.opp.pk and not placement.to_queue:
            if placement.user is not None:
                suggestion = {"to_user": placement.user.pk, "label": str(placement.user)}
            elif placement.partner is not None:
                suggestion = {"to_channel": "social_channel", "label": str(placement.partner)}
    context = {"form": form, "placement": placement, "opp": form.opp, "suggestion": suggestion}
    return render(request, "opportunities/rule_test.html", context)


urlpatterns = [
    path("dispatch/", board, name="board"),
    path("passed-on/", passed_on, name="passed_on"),
    path("pipeline/", pipeline, name="pipeline"),
    path("rules/test/", rule_test, name="rule_test"),
]
