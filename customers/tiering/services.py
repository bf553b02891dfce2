"""Tier writes (services): starting an evaluation in the background (`tier_evaluation_start`), manual
overrides (`tier_override_create`, `tier_override_revoke`) and changes to the rules (`tier_rules_update`,
checked by `rules_problems`). Each asks customers.policy who may do it, owns its transaction and writes a
TierChange row for every move of a published tier; the evaluation itself is customers.tiering.engine."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from channels.models import User
from customers.models import TIER_RANK, Customer, Tier, TierBand, TierChange, TierEvaluation, TierOverride, TierPolicy
from customers.policy import may_approve_override, may_change_tier_rules, may_start_evaluation
from customers.tiering.engine import NO_RANK, Kind, checked_period, load_rules, refresh_service_tiers
from kam.celery import enqueue_on_commit


def tier_evaluation_start(*, kind: str, by: User, period: date | None = None) -> TierEvaluation:
    """Record an evaluation to run and enqueue it after commit (pages and the API start evaluations this
    way: evaluating 100,000 customers takes longer than a request should). The row's `finished_at` stays
    empty until the worker has run it."""
    from customers.tasks import evaluate_tiers_task

    if kind not in Kind.values:
        raise ValidationError({"kind": [_("Choose a dry run, an evaluation or a publication.")]})
    if not may_start_evaluation(by, kind):
        raise PermissionDenied(_("Your role may not start this kind of tier evaluation."))
    period = checked_period(period)
    with transaction.atomic():
        evaluation = TierEvaluation.objects.create(
            period=period,
            kind=kind,
            rule_version=load_rules().policy.version,
            started_by=by,
        )
        enqueue_on_commit(evaluate_tiers_task, kind, evaluation_id=evaluation.pk)
    return evaluation


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last_day = ((date(year, month, 1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def _move_tier(customer: Customer, *, to_tier: str, source: str, reason: str) -> TierChange | None:
    """Set the published tier of one locked customer, with its TierChange row when it moves."""
    now = timezone.now()
    change = None
    if customer.tier != to_tier:
        change = TierChange.objects.create(
            customer=customer, from_tier=customer.tier, to_tier=to_tier,
            is_upgrade=TIER_RANK.get(to_tier, NO_RANK) < TIER_RANK.get(customer.tier, NO_RANK),
            source=source, reason=reason[:300], changed_at=now,
            rule_version=TierPolicy.objects.order_by("pk").values_list("version", flat=True).first(),
        )  # fmt: skip
        Customer.objects.filter(pk=customer.pk).update(
            tier=to_tier, tier_changed_at=now, tier_reason=reason[:300], tier_below_count=0, updated_at=now
        )
        customer.tier, customer.tier_changed_at, customer.tier_reason = to_tier, now, reason[:300]
    else:
        Customer.objects.filter(pk=customer.pk).update(tier_reason=reason[:300], tier_below_count=0)
        customer.tier_reason = reason[:300]
    refresh_service_tiers(customer_ids=[customer.pk])
    return change


def tier_override_create(
    *, customer: Customer, tier: str, reason: str, requested_by: User, approved_by: User,
    expires_on: date | None = None,
) -> TierOverride:  # fmt: skip
    """A manual tier with reason, approver and expiry (default: today + the policy's override months). It
    replaces the customer's open override and applies at once (source `override`)."""
    errors: dict[str, list[str]] = {}
    if tier not in Tier.values:
        errors["tier"] = [_("Choose a tier.")]
    reason = " ".join((reason or "").split())
    if not reason:
        errors["reason"] = [_("Say why the tier is overridden.")]
    if not may_approve_override(approved_by):
        errors["approved_by"] = [_("The approver must be a supervisor or an administrator.")]
    elif approved_by.pk == requested_by.pk and not approved_by.is_admin_role:
        errors["approved_by"] = [_("Someone other than the requester must approve the override.")]
    today = timezone.localdate()
    if expires_on is None:
        expires_on = _add_months(today, TierPolicy.objects.order_by("pk").values_list("override_months", flat=True)
                                 .first() or 12)  # fmt: skip
    elif expires_on <= today:
        errors["expires_on"] = [_("The expiry date must be after today.")]
    if errors:
        raise ValidationError(errors)
    if not Customer.objects.editable_by(requested_by).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("You may not change this customer."))
    if not Customer.objects.visible_to(approved_by).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("The approver does not look after this customer."))
    if customer.status == Customer.Status.MERGED:
        raise ValidationError(_("This record has been merged into another customer and can no longer change."))
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        now = timezone.now()
        TierOverride.objects.filter(customer=customer, revoked_at__isnull=True).update(revoked_at=now)
        override = TierOverride.objects.create(
            customer=customer, tier=tier, reason=reason, requested_by=requested_by, approved_by=approved_by,
            starts_on=today, expires_on=expires_on,
        )  # fmt: skip
        with translation.override(settings.LANGUAGE_CODE):  # stored words are in the site's language
            why = _("Manual override until %(date)s, approved by %(approver)s: %(reason)s") % {
                "date": expires_on.isoformat(), "approver": approved_by, "reason": reason,
            }  # fmt: skip
        _move_tier(customer, to_tier=tier, source=TierChange.Source.OVERRIDE, reason=why)
    return override


def tier_override_revoke(*, override: TierOverride, by: User) -> TierOverride:
    """End an override now: the tier goes back to what the rules computed at the latest evaluation (when there
    is one; otherwise the next publication decides)."""
    if not may_approve_override(by) or not Customer.objects.visible_to(by).filter(pk=override.customer_id).exists():
        raise PermissionDenied(_("Only a supervisor or an administrator may revoke a tier override."))
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=override.customer_id)
        if not TierOverride.objects.filter(pk=override.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            raise ValidationError(_("This override has already ended."))
        override.refresh_from_db()
        if customer.tier_computed:
            with translation.override(settings.LANGUAGE_CODE):
                why = _("Manual override revoked by %(user)s; the rules give %(tier)s") % {
                    "user": by, "tier": customer.tier_computed,
                }  # fmt: skip
            _move_tier(customer, to_tier=customer.tier_computed, source=TierChange.Source.OVERRIDE_EXPIRED, reason=why)
    return override


POLICY_FIELDS = ("months_window", "publication", "downgrade_after", "override_months", "ltv_margin",
                 "ltv_discount_rate", "ltv_years")  # fmt: skip
BAND_FIELDS = ("min_revenue", "min_members", "alt_min_revenue", "strategic_only", "annual_retention")


def tier_rules_update(*, by: User, reason: str = "", bands: dict[str, dict] | None = None, **fields) -> TierPolicy:
    """Change the tier rules (admins): policy fields and/or bands ({tier: {field: value}}). Every change bumps
    the rule version; policy and bands keep their history. The next evaluation applies the new rules."""
    if not may_change_tier_rules(by):
        raise PermissionDenied(_("Only an administrator may change the tier rules."))
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    bands = bands or {}
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        rules = load_rules(lock=True)
        tier_policy = rules.policy
        for field, value in fields.items():
            setattr(tier_policy, field, value)
        by_tier = {band.tier: band for band in rules.bands}
        for tier, changes in bands.items():
            band = by_tier.get(tier)
            if band is None:
                errors.setdefault("bands", []).append(_("There is no band for tier %(tier)s.") % {"tier": tier})
                continue
            for field, value in changes.items():
                if field not in BAND_FIELDS:
                    raise ValueError(f"not writable: {field}")
                setattr(band, field, value)
        errors.update(rules_problems(tier_policy, rules.bands))
        if errors:
            raise ValidationError(errors)
        tier_policy.version += 1
        tier_policy._history_user, tier_policy._change_reason = by, reason
        tier_policy.save()
        for tier in bands:
            band = by_tier[tier]
            band._history_user, band._change_reason = by, reason
            band.save()
    return tier_policy


def rules_problems(tier_policy: TierPolicy, bands: list[TierBand]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not 1 <= tier_policy.months_window <= 24:
        problems["months_window"] = [_("Average over 1 to 24 billed months.")]
    if tier_policy.downgrade_after < 1:
        problems["downgrade_after"] = [_("At least one publication below the band.")]
    if tier_policy.publication not in TierPolicy.Cadence.values:
        problems["publication"] = [_("Choose monthly or quarterly publication.")]
    if not 0 < Decimal(tier_policy.ltv_margin) <= 1:
        problems["ltv_margin"] = [_("The margin is a fraction between 0 and 1.")]
    if not 0 <= Decimal(tier_policy.ltv_discount_rate) < 1:
        problems["ltv_discount_rate"] = [_("The discount rate is a fraction between 0 and 1.")]
    if not 1 <= tier_policy.ltv_years <= 30:
        problems["ltv_years"] = [_("The LTV horizon is 1 to 30 years.")]
    floors = [band for band in bands if not band.strategic_only]
    for band in bands:
        if Decimal(band.min_revenue) < 0:
            problems.setdefault("bands", []).append(_("%(tier)s: the floor cannot be negative.") % {"tier": band.tier})
        if (band.min_members is None) != (band.alt_min_revenue is None):
            problems.setdefault("bands", []).append(
                _("%(tier)s: give both the members and the revenue of the alternative, or neither.")
                % {"tier": band.tier}
            )
        if not 0 < Decimal(band.annual_retention) <= 1:
            problems.setdefault("bands", []).append(
                _("%(tier)s: the retention is a fraction between 0 and 1.") % {"tier": band.tier}
            )
    for higher, lower in zip(floors, floors[1:], strict=False):
        if Decimal(higher.min_revenue) < Decimal(lower.min_revenue):
            problems.setdefault("bands", []).append(
                _("The %(higher)s floor must not be below the %(lower)s floor.")
                % {"higher": higher.tier, "lower": lower.tier}
            )
    return problems
