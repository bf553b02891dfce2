"""Segmentation (issue 3): tier rules as versioned data, evaluations and the tier moves they make,
manual overrides, value-score weights, and saved segments. Defaults come from DOMAIN.md §1.2."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from channels.models import BilingualName
from customers.models.core import Customer, CustomerOwnedQuerySet, Tier
from kam.db import LONG_TEXT, ScopedQuerySet

TIER_RANK = {"A1": 1, "A2": 2, "B1": 3, "B2": 4, "C": 5, "D": 6}  # 1 = highest


class TierPolicy(models.Model):
    """The tiering rule set: one row, edited by an admin; every save bumps `version` and is kept in
    history, and every tier move records the version that made it."""

    class Cadence(models.TextChoices):
        MONTHLY = "monthly", _("Every month")
        QUARTERLY = "quarterly", _("Every quarter (January, April, July, October)")

    version = models.PositiveIntegerField(_("rule version"), default=1, editable=False)
    months_window = models.PositiveSmallIntegerField(
        _("months averaged"), default=6, help_text=_("Average monthly revenue over the last N billed months.")
    )
    publication = models.CharField(_("publication"), max_length=10, choices=Cadence.choices, default=Cadence.QUARTERLY)
    downgrade_after = models.PositiveSmallIntegerField(_("evaluations below the band before a downgrade"), default=2)
    override_months = models.PositiveSmallIntegerField(_("override validity (months)"), default=12)
    ltv_margin = models.DecimalField(_("LTV contribution margin"), max_digits=4, decimal_places=3, default=0.35)
    ltv_discount_rate = models.DecimalField(_("LTV annual discount rate"), max_digits=4, decimal_places=3, default=0.08)
    ltv_years = models.PositiveSmallIntegerField(_("LTV horizon (years)"), default=5)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("tier policy")
        verbose_name_plural = _("tier policy")
        constraints = [
            models.CheckConstraint(
                condition=Q(months_window__gte=1) & Q(months_window__lte=24), name="%(app_label)s_%(class)s_window"
            ),
            models.CheckConstraint(condition=Q(downgrade_after__gte=1), name="%(app_label)s_%(class)s_downgrade_after"),
        ]

    def __str__(self):
        return str(_("Tier rules v%(version)d") % {"version": self.version})


class TierBand(models.Model):
    """One band of the tier table: a customer qualifies when its average monthly revenue reaches
    `min_revenue`, or (when set) its active members reach `min_members` with revenue of at least
    `alt_min_revenue`. Strategic-list bands (A2) apply only to customers flagged strategic."""

    tier = models.CharField(_("tier"), max_length=2, choices=Tier.choices, unique=True)
    min_revenue = models.DecimalField(_("minimum monthly revenue (RMB)"), max_digits=14, decimal_places=2)
    min_members = models.PositiveIntegerField(_("or members at least"), null=True, blank=True)
    alt_min_revenue = models.DecimalField(
        _("with monthly revenue at least (RMB)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    strategic_only = models.BooleanField(_("strategic list only"), default=False)
    annual_retention = models.DecimalField(
        _("expected annual retention"),
        max_digits=4,
        decimal_places=3,
        default=0.9,
        help_text=_("Used by the LTV estimate."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("tier band")
        verbose_name_plural = _("tier bands")
        constraints = [
            models.CheckConstraint(condition=Q(min_revenue__gte=0), name="%(app_label)s_%(class)s_min_revenue"),
            models.CheckConstraint(
                condition=Q(annual_retention__gt=0) & Q(annual_retention__lte=1),
                name="%(app_label)s_%(class)s_retention",
            ),
        ]

    def __str__(self):
        return self.get_tier_display()

    @property
    def rank(self) -> int:
        return TIER_RANK[self.tier]


class TierEvaluationQuerySet(ScopedQuerySet):
    def scope(self, user):
        """Evaluations quote revenue and staffing: supervisors, analysts and admins."""
        from customers.policy import may_view_evaluations

        return self if may_view_evaluations(user) else self.none()


class SegmentQuerySet(ScopedQuerySet):
    def scope(self, user):
        """Own segments and shared ones. A shared segment built on finance criteria would reveal spend to
        people who may not see it, so they do not get those."""
        from customers.policy import may_see_spend, may_use_segments
        from customers.segments.criteria import sensitive_criteria

        if not may_use_segments(user):
            return self.none()
        queryset = self.filter(Q(owner=user) | Q(is_shared=True))
        if not may_see_spend(user):
            queryset = queryset.exclude(Q(definition__has_any_keys=sensitive_criteria()) & ~Q(owner=user))
        return queryset


class TierEvaluation(models.Model):
    """One run of the tier and value evaluation (monthly by beat, or started by hand)."""

    class Kind(models.TextChoices):
        DRY_RUN = "dry_run", _("Dry run")
        EVALUATION = "evaluation", _("Evaluation")
        PUBLICATION = "publication", _("Publication")

    period = models.DateField(_("billing month evaluated"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    rule_version = models.PositiveIntegerField(_("rule version"))
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    customers = models.PositiveIntegerField(_("customers evaluated"), default=0)
    upgrades = models.PositiveIntegerField(_("upgrades"), default=0)
    downgrades = models.PositiveIntegerField(_("downgrades"), default=0)
    statements = models.PositiveIntegerField(_("SQL statements"), default=0)
    # Customer rows whose values this run changed (a run over unchanged data writes none); 0 for a dry run.
    customers_written = models.PositiveIntegerField(_("customers updated"), default=0)
    moves = models.JSONField(_("moves (dry run)"), default=list, blank=True)

    objects = TierEvaluationQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("tier evaluation")
        verbose_name_plural = _("tier evaluations")
        constraints = [
            models.CheckConstraint(condition=Q(period__day=1), name="%(app_label)s_%(class)s_period_first_day"),
        ]

    def __str__(self):
        return f"{self.period:%Y-%m} {self.get_kind_display()}"


class TierChange(models.Model):
    """Every move of a customer's tier: from, to, why, when, and the rule version."""

    class Source(models.TextChoices):
        EVALUATION = "evaluation", _("Evaluation")
        OVERRIDE = "override", _("Manual override")
        OVERRIDE_EXPIRED = "override_expired", _("Override expired")
        MANUAL = "manual", _("Edited")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="tier_changes", verbose_name=_("customer")
    )
    from_tier = models.CharField(pgettext_lazy("tier", "from"), max_length=2, choices=Tier.choices, blank=True)
    to_tier = models.CharField(pgettext_lazy("tier", "to"), max_length=2, choices=Tier.choices, blank=True)
    is_upgrade = models.BooleanField(_("upgrade"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    reason = models.CharField(_("why"), max_length=300)
    changed_at = models.DateTimeField(_("when"))
    rule_version = models.PositiveIntegerField(_("rule version"), null=True, blank=True)
    evaluation = models.ForeignKey(
        TierEvaluation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("evaluation"),
    )

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        indexes = [
            # customer's tier history on the 360 page; the API filter by customer
            models.Index(fields=["customer", "-changed_at"], name="tierchange_customer_idx"),
            # movement report: moves per month
            models.Index(fields=["changed_at"], name="tierchange_when_idx"),
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.from_tier or '-'} → {self.to_tier or '-'}"


class TierOverride(models.Model):
    """A manual tier with reason, approver and expiry (DOMAIN.md §1.2 rule 3)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="tier_overrides", verbose_name=_("customer")
    )
    tier = models.CharField(_("tier"), max_length=2, choices=Tier.choices)
    reason = models.CharField(_("reason"), max_length=300)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("approved by")
    )
    starts_on = models.DateField(_("from"))
    expires_on = models.DateField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("tier override")
        verbose_name_plural = _("tier overrides")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gt=models.F("starts_on")), name="%(app_label)s_%(class)s_expires_after_start"
            ),
            # At most one override in force per customer.
            models.UniqueConstraint(
                fields=["customer"], condition=Q(revoked_at__isnull=True), name="%(app_label)s_%(class)s_one_open"
            ),
        ]

    def __str__(self):
        return f"{self.customer_id} → {self.tier} ({self.expires_on})"


class ValueFactor(BilingualName):
    """A factor of the value score with its weight (DOMAIN.md §1.2 rule 5). Weights are data."""

    class Code(models.TextChoices):
        REVENUE = "revenue", _("Revenue")
        GROWTH = "growth", _("Growth")
        BREADTH = "breadth", _("Product breadth")
        MEMBERS = "members", _("Members")
        TENURE = "tenure", _("Tenure")
        PAYMENT = "payment", _("Payment behaviour")
        INDUSTRY = "industry", _("Industry importance")

    code = models.CharField(_("factor"), max_length=12, choices=Code.choices, primary_key=True)
    weight = models.PositiveSmallIntegerField(_("weight"))
    description = models.CharField(_("how it is measured"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-weight", "code"]
        verbose_name = _("value factor")
        verbose_name_plural = _("value factors")


class Segment(models.Model):
    """A saved segment: a named definition over customer attributes (live), or a frozen static list."""

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=LONG_TEXT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="segments", verbose_name=_("owner")
    )
    is_shared = models.BooleanField(_("shared"), default=False, help_text=_("Shared segments are visible to everyone."))
    definition = models.JSONField(_("definition"), default=dict, blank=True)
    frozen_at = models.DateTimeField(_("frozen"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    objects = SegmentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="%(app_label)s_%(class)s_unique_name"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class SegmentMember(models.Model):
    """The customers of a frozen segment (a static list for campaigns)."""

    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="frozen_members", verbose_name=_("segment")
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer"))

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")
        constraints = [models.UniqueConstraint(fields=["segment", "customer"], name="%(app_label)s_%(class)s_unique")]

    def __str__(self):
        return f"{self.segment_id}: {self.customer_id}"


class SegmentSnapshot(models.Model):
    """Who was in a segment at the end of a month: the movement report compares consecutive months."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="snapshots", verbose_name=_("segment"))
    month = models.DateField(pgettext_lazy("snapshot", "month"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer"))

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment snapshot")
        verbose_name_plural = _("segment snapshots")
        constraints = [
            models.UniqueConstraint(fields=["segment", "month", "customer"], name="%(app_label)s_%(class)s_unique"),
        ]

    def __str__(self):
        return f"{self.segment_id} {self.month:%Y-%m}: {self.customer_id}"
