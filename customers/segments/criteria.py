"""The segment criteria registry (seed 003 客户细分): one company-wide set of criteria that saved segments
are defined over, the built-in ones, and the pure logic over a definition (`clean_definition`,
`apply_definition`, `describe_definition`). Segment writes are customers.segments.services, reads
customers.segments.selectors, exports customers.segments.exports; who may share or change one is
customers.policy.

A definition is a flat JSON object `{criterion key: value}`; every criterion present must hold (AND).
The built-in criteria below register themselves through the same `register_criterion` that later apps
call from their AppConfig.ready() (orders: products held / not held; service: churn level), so
`customers` never imports them. Each criterion is

- a form field factory: the field validates the value (strictly: a bad value is a ValidationError keyed by
  the criterion) and draws the criterion on the segment form;
- an `apply(queryset, value)` that narrows a Customer queryset with ORM lookups only. `value` is the stored
  JSON value (model choices are stored as primary keys). Nothing from a definition is ever evaluated or put
  into SQL text: values only reach the database as query parameters.
"""

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import reduce
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from channels.models import User
from customers import selectors
from customers.models import Customer, Industry, Region, SpendRecord, Tier, TierEvaluation, TierLevel, Visit
from customers.policy import may_see_spend
from customers.selectors import month_starts, region_with_descendants
from customers.tiering.engine import latest_billed_month
from kam.validators import INT_MAX

# --- the criteria registry ------------------------------------------------------------------------------

# Keys of the segment form's own fields: a criterion may not take them.
RESERVED_KEYS = frozenset({"name", "description", "is_shared", "definition"})
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    field_factory: Callable[[], forms.Field]
    apply: Callable[[QuerySet, Any], QuerySet]
    order: int
    sensitive: bool  # finance data: not offered to (nor applied for) people who may not see spend


_criteria: dict[str, Criterion] = {}


def register_criterion(
    key: str,
    *,
    label: str,
    field_factory: Callable[[], forms.Field],
    apply: Callable[[QuerySet, Any], QuerySet],
    order: int = 100,
    sensitive: bool = False,
) -> None:
    """Add (or replace, so a reloaded app does not register twice) the criterion `key`.

    `field_factory()` returns a fresh, optional form field that validates the value; its cleaned value is
    stored as JSON (Decimal → number, model instances/querysets → primary keys). `apply(queryset, value)`
    receives that stored value and returns the narrowed queryset, with a bounded number of queries whatever
    the number of customers (annotate with subqueries; no per-row Python)."""
    if not KEY_PATTERN.match(key) or key in RESERVED_KEYS:
        raise ValueError(f"invalid criterion key {key!r}")
    _criteria[key] = Criterion(key, label, field_factory, apply, order, sensitive)


def unregister_criterion(key: str) -> None:
    _criteria.pop(key, None)


def registered_criteria(user: User | None = None) -> list[Criterion]:
    """The criteria in form order; those a user may use when `user` is given."""
    allowed = user is None or may_see_spend(user)
    return [c for c in sorted(_criteria.values(), key=lambda c: (c.order, c.key)) if allowed or not c.sensitive]


def sensitive_criteria() -> list[str]:
    """Keys of the registered criteria that are finance data (Segment.objects.visible_to hides shared
    segments built on them from people who may not see spend)."""
    return [c.key for c in _criteria.values() if c.sensitive]


def _jsonable(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, QuerySet | list | tuple):
        out = []
        for item in value:
            item = _jsonable(item)
            if item not in out:
                out.append(item)
        return out
    if isinstance(value, date):
        return value.isoformat()
    return value


def _is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == ()


# Pairs of criteria that bound the same quantity: the minimum may not exceed the maximum.
RANGE_PAIRS = (("spend_min", "spend_max"), ("members_min", "members_max"), ("value_min", "value_max"))


def clean_definition(definition, *, user: User | None = None) -> dict:
    """The definition, validated and normalised (empty criteria dropped, values as stored JSON).

    Raises ValidationError keyed by criterion: an unknown key, a criterion the user may not use (finance
    criteria for people who may not see spend), a bad value, or contradicting criteria."""
    if not isinstance(definition, dict):
        raise ValidationError({"definition": [_("The definition must be a JSON object of criteria.")]})
    allowed = {c.key for c in registered_criteria(user)}
    errors: dict[str, list] = {}
    cleaned: dict[str, Any] = {}
    for key, raw in definition.items():
        criterion = _criteria.get(key)
        if criterion is None:
            errors[str(key)] = [_("Unknown criterion “%(key)s”.") % {"key": key}]
            continue
        if key not in allowed:
            errors[key] = [_("You may not filter on %(label)s.") % {"label": criterion.label}]
            continue
        field = criterion.field_factory()
        field.required = False
        try:
            value = field.clean(raw)
        except ValidationError as exc:
            errors[key] = exc.messages
            continue
        if not _is_empty(value):
            cleaned[key] = _jsonable(value)
    for low, high in RANGE_PAIRS:
        if cleaned.get(low) is not None and cleaned.get(high) is not None and cleaned[low] > cleaned[high]:
            errors.setdefault(high, []).append(_("The maximum is below the minimum."))
    if cleaned.get("account_manager") and cleaned.get("no_account_manager") is True:
        errors.setdefault("no_account_manager", []).append(
            _("Choose account managers or “without account manager”, not both.")
        )
    if errors:
        raise ValidationError(errors)
    order = {c.key: i for i, c in enumerate(registered_criteria())}
    return dict(sorted(cleaned.items(), key=lambda item: order[item[0]]))


def apply_definition(queryset: QuerySet[Customer], definition: dict) -> QuerySet[Customer]:
    """Narrow a customer queryset by a stored definition. A criterion that is no longer registered (an app
    was removed) is an error, never silently ignored: that would widen the segment."""
    unknown = [key for key in definition if key not in _criteria]
    if unknown:
        raise ValidationError({key: [_("This criterion is no longer available.")] for key in unknown})
    for key, value in definition.items():
        queryset = _criteria[key].apply(queryset, value)
    return queryset


def describe_definition(definition: dict) -> list[tuple[str, str]]:
    """(criterion label, value as shown) for the segment pages."""
    rows = []
    for key, value in definition.items():
        criterion = _criteria.get(key)
        if criterion is None:
            rows.append((key, gettext("no longer available")))
            continue
        field = criterion.field_factory()
        choices = dict((str(k), v) for k, v in getattr(field, "choices", ()) if not isinstance(v, list | tuple))
        if isinstance(value, bool):
            shown = gettext("yes") if value else gettext("no")
        elif isinstance(value, list):
            shown = ", ".join(str(choices.get(str(v), v)) for v in value)
        else:
            shown = str(choices.get(str(value), value))
        rows.append((str(criterion.label), shown))
    return rows


# --- the built-in criteria ------------------------------------------------------------------------------


class AnyYesNoSelect(forms.NullBooleanSelect):
    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("unknown", _("Any")), ("true", _("Yes")), ("false", _("No")))


class YesNoField(forms.NullBooleanField):
    """Yes, no or "any" (empty). Strict: Django's NullBooleanField turns any unknown text into "any",
    which would silently widen a segment."""

    widget = AnyYesNoSelect

    def to_python(self, value):
        if value is None or value == "":
            return None
        if value is True or value is False:
            return value
        if value in ("true", "false"):
            return value == "true"
        raise ValidationError(_("Choose yes or no."), code="invalid")


class RegionCodeField(forms.ChoiceField):
    """A region code (province, city or district); the form offers provinces and cities."""

    def __init__(self, **kwargs):
        super().__init__(choices=_region_choices, **kwargs)

    def valid_value(self, value):
        return Region.objects.filter(code=str(value)).exists()


def _region_choices():
    regions = Region.objects.filter(level__lte=Region.Level.CITY).select_related("parent")
    return [("", "---------")] + [(r.code, r.full_name) for r in regions]


def _industry_choices():
    return [(i.code, str(i)) for i in Industry.objects.all()]


def _account_manager_choices():
    return [(u.pk, str(u)) for u in selectors.account_managers()]


NO_TIER = "none"
TREND_CHOICES = (("growing", _("Growing")), ("stable", _("Stable")), ("declining", _("Declining")))
# Spend moving by more than this share between the two 3-month windows is growth or decline.
TREND_THRESHOLD = Decimal("0.10")
TREND_MONTHS = 3
VISIT_OVERDUE_HELP = _("Customers without a tier have no visit cycle and are never overdue.")


def _multiple(choices, *, checkboxes: bool = True):
    def factory():
        widget = forms.CheckboxSelectMultiple if checkboxes else forms.SelectMultiple(attrs={"size": 6})
        return forms.MultipleChoiceField(choices=choices, required=False, widget=widget)

    return factory


def _apply_tier(queryset, value):
    condition = Q(tier__in=[v for v in value if v != NO_TIER])
    if NO_TIER in value:
        condition |= Q(tier="")
    return queryset.filter(condition)


def _spend_window(first: date, last: date):
    total = (
        SpendRecord.objects.filter(customer=OuterRef("pk"), month__gte=first, month__lte=last)
        .order_by()
        .values("customer")
        .annotate(total=Sum("amount"))
        .values("total")[:1]
    )
    money = DecimalField(max_digits=16, decimal_places=2)
    return Coalesce(Subquery(total, output_field=money), Value(Decimal("0")), output_field=money)


def billing_month() -> date:
    """The latest billed month: the period of the latest tier evaluation (the month the tier engine last read
    the bills of; one small query), else before any evaluation the tier engine's own rule."""
    latest = (
        TierEvaluation.objects.exclude(kind=TierEvaluation.Kind.DRY_RUN)
        .order_by("-period")
        .values_list("period", flat=True)
        .first()
    )
    return latest if latest is not None else latest_billed_month()


def _apply_spend_trend(queryset, value):
    """Compare the spend of the last 3 billed months with the 3 before: more than 10% up is growing,
    more than 10% down is declining, anything between (with some spend) is stable. Two correlated sums
    per customer, served by the (customer, month, category) unique index."""
    months = month_starts(2 * TREND_MONTHS, until=billing_month())
    queryset = queryset.alias(
        _seg_previous=_spend_window(months[0], months[TREND_MONTHS - 1]),
        _seg_recent=_spend_window(months[TREND_MONTHS], months[-1]),
    )
    growing = Q(_seg_recent__gt=F("_seg_previous") * (1 + TREND_THRESHOLD))
    declining = Q(_seg_recent__lt=F("_seg_previous") * (1 - TREND_THRESHOLD))
    if value == "growing":
        return queryset.filter(growing)
    if value == "declining":
        return queryset.filter(declining)
    return queryset.filter(Q(_seg_recent__gt=0) | Q(_seg_previous__gt=0)).exclude(growing).exclude(declining)


def _overdue_condition() -> Q | None:
    """Tiered customers whose last visit is older than their tier's visit cycle, or who were never visited.
    One Q per tier level (six small rows), so the whole test stays in SQL."""
    today = timezone.localdate()
    parts = [
        Q(tier=code) & (Q(_seg_last_visit__isnull=True) | Q(_seg_last_visit__lt=today - timedelta(days=days)))
        for code, days in TierLevel.objects.values_list("code", "visit_cycle_days")
    ]
    return reduce(operator.or_, parts) if parts else None


def _apply_visit_overdue(queryset, value):
    last_visit = Visit.objects.filter(customer=OuterRef("pk")).order_by("-visited_on").values("visited_on")[:1]
    queryset = queryset.alias(_seg_last_visit=Subquery(last_visit))
    overdue = _overdue_condition()
    if overdue is None:
        return queryset.none() if value else queryset
    return queryset.filter(overdue) if value else queryset.exclude(overdue)


def _money_field():
    return forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)


def _register_builtin_criteria() -> None:
    statuses = [c for c in Customer.Status.choices if c[0] != Customer.Status.MERGED]
    register_criterion(
        "tier", label=_("Tier"), order=10,
        field_factory=_multiple([*Tier.choices, (NO_TIER, _("No tier"))]), apply=_apply_tier,
    )  # fmt: skip
    register_criterion(
        "industry", label=_("Industry"), order=20, field_factory=_multiple(_industry_choices, checkboxes=False),
        apply=lambda qs, value: qs.filter(industry__in=value),
    )  # fmt: skip
    register_criterion(
        "region", label=_("Region (with the divisions below it)"), order=30,
        field_factory=lambda: RegionCodeField(required=False),
        apply=lambda qs, value: qs.filter(region__in=region_with_descendants(value)),
    )  # fmt: skip
    register_criterion(
        "status", label=_("Status"), order=40, field_factory=_multiple(statuses),
        apply=lambda qs, value: qs.filter(status__in=value),
    )  # fmt: skip
    register_criterion(
        "spend_min", label=_("Average monthly revenue at least (RMB)"), order=50, sensitive=True,
        field_factory=_money_field, apply=lambda qs, value: qs.filter(avg_monthly_revenue__gte=Decimal(str(value))),
    )  # fmt: skip
    register_criterion(
        "spend_max", label=_("Average monthly revenue at most (RMB)"), order=51, sensitive=True,
        field_factory=_money_field, apply=lambda qs, value: qs.filter(avg_monthly_revenue__lte=Decimal(str(value))),
    )  # fmt: skip
    register_criterion(
        "spend_trend", label=_("Spend trend (last 3 billed months against the 3 before)"), order=52, sensitive=True,
        field_factory=lambda: forms.ChoiceField(choices=[("", "---------"), *TREND_CHOICES], required=False),
        apply=_apply_spend_trend,
    )  # fmt: skip
    register_criterion(
        "members_min", label=_("Group members at least"), order=60,
        field_factory=lambda: forms.IntegerField(required=False, min_value=0, max_value=INT_MAX),
        apply=lambda qs, value: qs.filter(members_count__gte=value),
    )  # fmt: skip
    register_criterion(
        "members_max", label=_("Group members at most"), order=61,
        field_factory=lambda: forms.IntegerField(required=False, min_value=0, max_value=INT_MAX),
        apply=lambda qs, value: qs.filter(members_count__lte=value),
    )  # fmt: skip
    register_criterion(
        "value_min", label=_("Value score at least"), order=70, sensitive=True,
        field_factory=lambda: forms.IntegerField(required=False, min_value=0, max_value=100),
        apply=lambda qs, value: qs.filter(value_score__gte=value),
    )  # fmt: skip
    register_criterion(
        "value_max", label=_("Value score at most"), order=71, sensitive=True,
        field_factory=lambda: forms.IntegerField(required=False, min_value=0, max_value=100),
        apply=lambda qs, value: qs.filter(value_score__lte=value),
    )  # fmt: skip
    register_criterion(
        "account_manager", label=_("Account manager"), order=80,
        field_factory=lambda: forms.TypedMultipleChoiceField(
            choices=_account_manager_choices, coerce=int, required=False,
            widget=forms.SelectMultiple(attrs={"size": 6}),
        ),
        apply=lambda qs, value: qs.filter(account_manager__in=value),
    )  # fmt: skip
    register_criterion(
        "no_account_manager", label=_("Without account manager"), order=81,
        field_factory=lambda: YesNoField(required=False),
        apply=lambda qs, value: qs.filter(account_manager__isnull=value),
    )  # fmt: skip
    register_criterion(
        "visit_overdue", label=_("Visit overdue (by the tier's visit cycle)"), order=90,
        field_factory=lambda: YesNoField(required=False, help_text=VISIT_OVERDUE_HELP),
        apply=_apply_visit_overdue,
    )  # fmt: skip
    register_criterion(
        "is_strategic", label=_("Strategic"), order=95,
        field_factory=lambda: YesNoField(required=False), apply=lambda qs, value: qs.filter(is_strategic=value),
    )  # fmt: skip


_register_builtin_criteria()
