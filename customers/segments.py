"""Saved segments (seed 003 客户细分): one company-wide set of criteria, named definitions over them,
frozen static lists for campaigns, exports, and the monthly snapshots behind the movement report.

A definition is a flat JSON object `{criterion key: value}`; every criterion present must hold (AND).
The criteria live in a registry: the built-in ones below register themselves through the same
`register_criterion` that later apps call from their AppConfig.ready() (orders: products held / not held;
service: churn level), so `customers` never imports them. Each criterion is

- a form field factory: the field validates the value (strictly: a bad value is a ValidationError keyed by
  the criterion) and draws the criterion on the segment form;
- an `apply(queryset, value)` that narrows a Customer queryset with ORM lookups only. `value` is the stored
  JSON value (model choices are stored as primary keys). Nothing from a definition is ever evaluated or put
  into SQL text: values only reach the database as query parameters.

Every member list goes through Customer.objects.visible_to(user).live(): a shared segment shows each reader
only the customers that reader may see, in pages, exports and the API alike.
"""

import csv
import io
import logging
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import reduce
from typing import Any

from django import forms
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, Count, DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from channels import roles
from channels.models import User
from customers.models import (
    Customer,
    Industry,
    Region,
    Segment,
    SegmentMember,
    SegmentSnapshot,
    SpendRecord,
    Tier,
    TierEvaluation,
    TierLevel,
    Visit,
)
from customers.policy import may_see_spend
from customers.selectors import month_starts, region_with_descendants
from customers.tiering import latest_billed_month

logger = logging.getLogger(__name__)

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
    from customers.forms import account_managers  # the forms module imports services; import late

    return [(u.pk, str(u)) for u in account_managers()]


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
        field_factory=lambda: forms.IntegerField(required=False, min_value=0),
        apply=lambda qs, value: qs.filter(members_count__gte=value),
    )  # fmt: skip
    register_criterion(
        "members_max", label=_("Group members at most"), order=61,
        field_factory=lambda: forms.IntegerField(required=False, min_value=0),
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


# --- who may see and change segments ----------------------------------------------------------------------


def may_share_segments(user: User) -> bool:
    """Shared segments are the company's common vocabulary: supervisors, analysts and admins publish them;
    everyone may keep private ones."""
    return user.is_admin_role or user.role in roles.MANAGEMENT


def sensitive_criteria() -> list[str]:
    """Keys of the registered criteria that are finance data (Segment.objects.visible_to hides shared
    segments built on them from people who may not see spend)."""
    return [c.key for c in _criteria.values() if c.sensitive]


def segment_list(*, user: User) -> QuerySet[Segment]:
    return Segment.objects.visible_to(user).select_related("owner").order_by("name", "pk")


def segment_detail(*, user: User, pk: int) -> Segment:
    """A segment the user may see; Segment.DoesNotExist otherwise (a 404: others' private segments)."""
    return Segment.objects.visible_to(user).select_related("owner").get(pk=pk)


def can_change(user: User, segment: Segment) -> bool:
    return segment.owner_id == user.pk


def segment_members(segment: Segment, *, user: User) -> QuerySet[Customer]:
    """The members the user may see: the definition's live matches, or a frozen segment's list, always
    intersected with the user's visible live customers."""
    if not (segment.owner_id == user.pk or segment.is_shared):
        return Customer.objects.none()
    visible = Customer.objects.visible_to(user).live()
    if segment.is_frozen:
        return visible.filter(pk__in=SegmentMember.objects.filter(segment=segment).values("customer_id"))
    return apply_definition(visible, segment.definition)


def preview_members(definition: dict, *, user: User) -> QuerySet[Customer]:
    """The customers a definition (already cleaned) would hold for the user, before it is saved."""
    return apply_definition(Customer.objects.visible_to(user).live(), definition)


def member_rows(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """What a member row shows, without per-row queries; newest first (the API's keyset order)."""
    return queryset.select_related("account_manager", "industry", "region").order_by("-pk")


# --- writes -------------------------------------------------------------------------------------------------


def _require_owner(segment: Segment, by: User) -> None:
    if not can_change(by, segment):
        raise PermissionDenied(_("Only the owner may change this segment."))


def _require_live(segment: Segment) -> None:
    if segment.is_frozen:
        raise ValidationError(_("A frozen segment cannot be changed; copy it to make a new one."))


def _validate_fields(*, owner: User, name: str, is_shared: bool, exclude_pk: int | None = None) -> str:
    name = " ".join((name or "").split())
    errors = {}
    if not name:
        errors["name"] = [_("Give the segment a name.")]
    elif len(name) > Segment._meta.get_field("name").max_length:
        errors["name"] = [_("The name is too long (at most 100 characters).")]
    elif Segment.objects.filter(owner=owner, name=name).exclude(pk=exclude_pk).exists():
        errors["name"] = [_("You already have a segment with this name.")]
    if is_shared and not may_share_segments(owner):
        errors["is_shared"] = [_("Only supervisors, analysts and administrators may share segments.")]
    if errors:
        raise ValidationError(errors)
    return name


def _save(segment: Segment) -> Segment:
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:  # a concurrent save took the name first
        raise ValidationError({"name": [_("You already have a segment with this name.")]}) from None
    return segment


def segment_create(
    *, owner: User, name: str, definition: dict, description: str = "", is_shared: bool = False
) -> Segment:
    definition = clean_definition(definition, user=owner)
    name = _validate_fields(owner=owner, name=name, is_shared=is_shared)
    segment = Segment(owner=owner, name=name, description=description or "", is_shared=is_shared, definition=definition)
    return _save(segment)


def segment_update(*, segment: Segment, by: User, **fields) -> Segment:
    """Change the name, description, sharing or definition (fields left out stay). Owner only; a frozen
    segment is immutable."""
    _require_owner(segment, by)
    _require_live(segment)
    unknown = set(fields) - {"name", "description", "is_shared", "definition"}
    if unknown:
        raise ValidationError({key: [_("This field cannot be changed.")] for key in sorted(unknown)})
    definition = clean_definition(fields["definition"], user=by) if "definition" in fields else segment.definition
    is_shared = fields.get("is_shared", segment.is_shared)
    # Keeping an existing share is fine; only turning sharing on needs the right.
    name = _validate_fields(
        owner=by, name=fields.get("name", segment.name), is_shared=is_shared and not segment.is_shared,
        exclude_pk=segment.pk,
    )  # fmt: skip
    segment.name, segment.is_shared, segment.definition = name, is_shared, definition
    segment.description = fields.get("description", segment.description) or ""
    return _save(segment)


def segment_copy(*, segment: Segment, by: User, name: str = "") -> Segment:
    """A new private live segment with the same definition, owned by `by` (how a frozen one is "edited")."""
    base = name or gettext("%(name)s (copy)") % {"name": segment.name}
    candidate = base[:100]
    taken = set(Segment.objects.filter(owner=by, name__startswith=candidate[:90]).values_list("name", flat=True))
    number = 2
    while candidate in taken and not name:
        candidate = f"{base[:90]} {number}"
        number += 1
    return segment_create(owner=by, name=candidate, description=segment.description, definition=segment.definition)


def _insert_members(model: type[models.Model], constants: dict, members: QuerySet[Customer]) -> int:
    """INSERT INTO <model> (<constants>, customer_id) SELECT <constants>, id FROM (<members>): the member
    list is copied inside the database in one statement, however large. The SQL text comes from the ORM
    compiler and model metadata; every value is a query parameter."""
    try:
        sql, params = members.order_by().values(member_id=F("pk")).query.sql_with_params()
    except EmptyResultSet:  # e.g. a reader who sees no customer at all: nothing to copy
        return 0
    quote = connection.ops.quote_name
    columns = [model._meta.get_field(name).column for name in constants] + [model._meta.get_field("customer").column]
    values = [connection.ops.adapt_datefield_value(v) if isinstance(v, date) else v for v in constants.values()]
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"SELECT {', '.join(['%s'] * len(values))}, m.member_id FROM ({sql}) m"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*values, *params])
        return cursor.rowcount


def segment_freeze(*, segment: Segment, by: User) -> Segment:
    """Copy the current members (as the owner sees them) into a static list and stamp frozen_at. From then
    on the segment cannot be edited (campaigns target it), only copied."""
    _require_owner(segment, by)
    with transaction.atomic():
        locked = Segment.objects.select_for_update().get(pk=segment.pk)
        _require_live(locked)
        members = segment_members(locked, user=by)
        _insert_members(SegmentMember, {"segment": locked.pk}, members)
        locked.frozen_at = timezone.now()
        locked.save(update_fields=["frozen_at", "updated_at"])
    return locked


def segment_delete(*, segment: Segment, by: User) -> None:
    """Owner only. A segment definition is not customer data, so it goes for good; a frozen list may be the
    target of a campaign and stays."""
    _require_owner(segment, by)
    if segment.is_frozen:
        raise ValidationError(_("A frozen segment is kept: campaigns may target it."))
    segment.delete()


# --- monthly snapshots and the movement report --------------------------------------------------------------


def previous_month(today: date | None = None) -> date:
    today = today or timezone.localdate()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def segment_snapshot(*, segment: Segment, month: date) -> int:
    """Record who is in the segment now as its membership for `month` (all live matches, not one reader's
    view; readers are scoped when the report is read). Re-running replaces that month's rows in one
    transaction."""
    if month.day != 1:
        raise ValueError("month must be the first day of a month")
    members = apply_definition(Customer.objects.live(), segment.definition)
    with transaction.atomic():
        SegmentSnapshot.objects.filter(segment=segment, month=month).delete()
        return _insert_members(SegmentSnapshot, {"segment": segment.pk, "month": month}, members)


def segment_snapshot_all(*, month: date | None = None) -> dict[str, int]:
    """Snapshot every shared live segment for `month` (default: the month that just ended). A segment whose
    definition no longer applies (a criterion was removed) is skipped and logged; the others go on."""
    month = month or previous_month()
    done = rows = skipped = 0
    for segment in Segment.objects.filter(is_shared=True, frozen_at__isnull=True).only("pk", "definition"):
        try:
            rows += segment_snapshot(segment=segment, month=month)
            done += 1
        except ValidationError:
            logger.warning("segment %s not snapshotted: its definition uses a removed criterion", segment.pk)
            skipped += 1
    return {"segments": done, "rows": rows, "skipped": skipped}


@dataclass(frozen=True)
class MonthMovement:
    month: date
    size: int
    entered: int | None  # None: no snapshot of the month before, so no baseline to compare with
    left: int | None


MOVEMENT_KINDS = ("members", "entered", "left")


def _snapshots_seen_by(segment: Segment, user: User) -> QuerySet[SegmentSnapshot]:
    # Merged customers stay in the history, so visible_to without live().
    return SegmentSnapshot.objects.visible_to(user).filter(segment=segment)


def segment_movements(
    segment: Segment, *, user: User, months: int = 12, until: date | None = None
) -> list[MonthMovement]:
    """Per month, oldest first: members at the month's snapshot, how many entered since the month before and
    how many left, counting only customers the user may see; from the first recorded month on. Four queries
    whatever the segment's size: the latest month, which months have a snapshot, sizes with entries, and
    departures."""
    until = (
        until
        or SegmentSnapshot.objects.filter(segment=segment).order_by("-month").values_list("month", flat=True).first()
    )
    if until is None:
        return []
    window = month_starts(months + 1, until=until)  # one extra month: the baseline of the first
    axis, pairs = window[1:], list(zip(window, window[1:], strict=False))
    flags = {f"m{i}": Exists(SegmentSnapshot.objects.filter(segment=segment, month=m)) for i, m in enumerate(window)}
    present_flags = Segment.objects.filter(pk=segment.pk).values(**flags).get()
    present = {m for i, m in enumerate(window) if present_flags[f"m{i}"]}
    rows = _snapshots_seen_by(segment, user)
    earlier = Case(*[When(month=cur, then=Value(prev)) for prev, cur in pairs], output_field=models.DateField())
    later = Case(*[When(month=prev, then=Value(cur)) for prev, cur in pairs], output_field=models.DateField())
    same_customer = SegmentSnapshot.objects.filter(segment=segment, customer=OuterRef("customer"))
    sizes = {
        row["month"]: row
        for row in rows.filter(month__in=axis)
        .annotate(before=earlier)
        .annotate(stayed=Exists(same_customer.filter(month=OuterRef("before"))))
        .values("month")
        .annotate(size=Count("pk"), entered=Count("pk", filter=Q(stayed=False)))
        .order_by()
    }
    lefts = {
        row["after"]: row["left"]
        for row in rows.filter(month__in=window[:-1])
        .annotate(after=later)
        .annotate(stays=Exists(same_customer.filter(month=OuterRef("after"))))
        .values("after")
        .annotate(left=Count("pk", filter=Q(stays=False)))
        .order_by()
    }
    out = []
    for prev, month in pairs:
        if not out and month not in present:
            continue  # months before the first record are not part of the report
        row = sizes.get(month, {})
        baseline = prev in present and month in present
        out.append(
            MonthMovement(
                month=month,
                size=row.get("size", 0),
                entered=row.get("entered", 0) if baseline else None,
                left=lefts.get(month, 0) if baseline else None,
            )
        )
    return out


def movement_customers(segment: Segment, *, user: User, month: date, kind: str) -> QuerySet[Customer]:
    """The customers behind one number of the movement report (visible to the user)."""
    if kind not in MOVEMENT_KINDS:
        raise ValueError(kind)
    at = SegmentSnapshot.objects.filter(segment=segment, month=month).values("customer_id")
    before = SegmentSnapshot.objects.filter(segment=segment, month=previous_month(month)).values("customer_id")
    visible = Customer.objects.visible_to(user)
    if kind == "members":
        return visible.filter(pk__in=at)
    if kind == "entered":
        return visible.filter(pk__in=at).exclude(pk__in=before)
    return visible.filter(pk__in=before).exclude(pk__in=at)


def movement_chart(movements: list[MonthMovement]) -> dict:
    """The chart's data for json_script (no inline script: CSP)."""
    return {
        "months": [m.month.strftime("%Y-%m") for m in movements],
        "size": [m.size for m in movements],
        "entered": [m.entered for m in movements],
        "left": [-m.left if m.left is not None else None for m in movements],
        "labels": {
            "size": gettext("Customers in the segment"),
            "entered": gettext("Entries"),
            "left": gettext("Departures"),
        },
    }


# --- export -------------------------------------------------------------------------------------------------

EXPORT_ROW_CAP = 50_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class ExportColumn:
    label: str
    value: Callable[[Customer], Any]
    finance: bool = False


EXPORT_COLUMNS = (
    ExportColumn(_("Customer code"), lambda c: c.code or ""),
    ExportColumn(_("Name"), lambda c: c.name),
    ExportColumn(_("Short name"), lambda c: c.short_name),
    ExportColumn(_("Tier"), lambda c: c.tier),
    ExportColumn(_("Status"), lambda c: str(c.get_status_display())),
    ExportColumn(_("Industry"), lambda c: c.industry.label if c.industry else ""),
    ExportColumn(_("Region"), lambda c: c.region.name if c.region else ""),
    ExportColumn(_("Account manager"), lambda c: str(c.account_manager) if c.account_manager else ""),
    ExportColumn(_("Members"), lambda c: c.members_count),
    ExportColumn(_("Value score"), lambda c: c.value_score, finance=True),
    ExportColumn(_("Average monthly revenue (RMB)"), lambda c: c.avg_monthly_revenue, finance=True),
)


def export_columns(user: User) -> list[ExportColumn]:
    """Finance columns only for people who may see spend (customers.policy)."""
    return [col for col in EXPORT_COLUMNS if not col.finance or may_see_spend(user)]


def export_rows(segment: Segment, *, user: User) -> Iterator[list]:
    """The header, then one row per member the user may see (at most EXPORT_ROW_CAP), formula-escaped.
    The member query is built now (a definition that no longer applies raises here, before a response
    starts); rows are read later in chunks from a server-side cursor, so memory stays flat."""
    columns = export_columns(user)
    members = member_rows(segment_members(segment, user=user))[:EXPORT_ROW_CAP]
    return _export_rows(columns, members)


def _export_rows(columns: list[ExportColumn], members: QuerySet[Customer]) -> Iterator[list]:
    yield [str(col.label) for col in columns]
    for customer in members.iterator(chunk_size=2000):
        yield [_safe(col.value(customer)) for col in columns]


class _Echo:
    def write(self, value):
        return value


def export_csv(segment: Segment, *, user: User) -> Iterator[str]:
    """CSV text chunks, starting with a UTF-8 byte-order mark so Excel (zh-CN) reads the Chinese right."""
    return _csv_lines(export_rows(segment, user=user))


def _csv_lines(rows: Iterator[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow(["" if v is None else v for v in row])


def export_xlsx(segment: Segment, *, user: User) -> bytes:
    """An XLSX workbook built in write-only mode (rows streamed into the zip, not held as cell objects)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=gettext("Customers"))
    for row in export_rows(segment, user=user):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_filename(segment: Segment, extension: str) -> str:
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", segment.name).strip("_") or "segment"
    return f"{name}-{timezone.localdate():%Y%m%d}.{extension}"
