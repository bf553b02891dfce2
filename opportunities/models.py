"""Leads and opportunities (seed 004 五–七, seed 003 销售机会管理, DOMAIN.md §4).

The routing state lives on the row (`routing_status`, `routing_requested_at`, `claim_due_at`,
`return_due_at`), so neither a dead worker nor a restarted broker loses work: the router claims a row
by compare-and-set and a beat sweep re-enqueues anything left pending. Every move is a `Transfer`
row; every stage move a `StageChange` row. Stages' probabilities and stale limits, claim timers,
loss reasons and routing rules are data (editable rows), not constants.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels import roles
from channels.models import BilingualName
from channels.roles import Role
from customers.models import CustomerOwnedQuerySet
from kam.db import LONG_TEXT, ScopedQuerySet


class Kind(models.TextChoices):
    LEAD = "lead", _("Lead")
    OPPORTUNITY = "opportunity", _("Opportunity")


class RoutingStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting routing")
    QUEUED = "queued", _("In the operations-center queue")
    DISPATCHED = "dispatched", _("Sent, awaiting claim")
    ESCALATED = "escalated", _("Escalated (claim overdue)")
    CLAIMED = "claimed", _("Claimed")
    RETURNED = "returned", _("Returned to the operations center")


# A receiver still has to claim these; the operations center owns these.
AWAITING_CLAIM = (RoutingStatus.DISPATCHED, RoutingStatus.ESCALATED)
AT_OPERATIONS_CENTER = (RoutingStatus.QUEUED, RoutingStatus.RETURNED)


class Stage(models.TextChoices):
    """Sales stages (DOMAIN.md §4.2). A lead has no stage until it is qualified."""

    IDENTIFIED = "identified", _("Identified")
    CLARIFYING = "clarifying", _("Need clarification / survey")
    SOLUTION = "solution", _("Solution")
    BIDDING = "bidding", _("Quote / bid")
    NEGOTIATING = "negotiating", _("Negotiation")
    SIGNED = "signed", _("Signed")
    WON = "won", _("Accepted (won)")
    LOST = "lost", _("Lost")
    SUSPENDED = "suspended", _("Suspended")


OPEN_STAGES = (
    Stage.IDENTIFIED, Stage.CLARIFYING, Stage.SOLUTION, Stage.BIDDING, Stage.NEGOTIATING, Stage.SIGNED,
)  # fmt: skip
CLOSED_STAGES = (Stage.WON, Stage.LOST, Stage.SUSPENDED)

# Allowed moves between open stages: one step back, forward up to two steps (a simple need can skip
# the survey or the bid). Closing goes through `close` (won from bidding on, lost/suspended from any
# open stage); a suspended opportunity may be reopened at any open stage.
STAGE_MOVES = {
    Stage.IDENTIFIED: {Stage.CLARIFYING, Stage.SOLUTION},
    Stage.CLARIFYING: {Stage.IDENTIFIED, Stage.SOLUTION, Stage.BIDDING},
    Stage.SOLUTION: {Stage.CLARIFYING, Stage.BIDDING, Stage.NEGOTIATING},
    Stage.BIDDING: {Stage.SOLUTION, Stage.NEGOTIATING, Stage.SIGNED},
    Stage.NEGOTIATING: {Stage.BIDDING, Stage.SIGNED},
    Stage.SIGNED: {Stage.NEGOTIATING},
    Stage.SUSPENDED: set(OPEN_STAGES),
}
WIN_FROM = {Stage.BIDDING, Stage.NEGOTIATING, Stage.SIGNED}


def next_stage_forward(stage: str) -> Stage | None:
    """The nearest later open stage `stage` may move to: what a "move" offers first (None: no step forward)."""
    if stage not in OPEN_STAGES:
        return None
    later = OPEN_STAGES[OPEN_STAGES.index(stage) + 1 :]
    return next((s for s in later if s in STAGE_MOVES.get(stage, ())), None)


class NeedType(models.TextChoices):
    """Customer need types (seed 004 五(二) 5)."""

    NEW_BUSINESS = "new", _("New business")
    EXPANSION = "expansion", _("Expansion / more members")
    UPGRADE = "upgrade", _("Upgrade / bandwidth")
    RENEWAL = "renewal", _("Renewal")
    SOLUTION = "solution", _("Industry solution / informatisation")
    TENDER = "tender", _("Tender")
    OTHER = "other", _("Other")


class StageSetting(models.Model):
    """Default probability and stale limit of a stage (DOMAIN.md §4.2): data, editable."""

    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, primary_key=True)
    probability = models.PositiveSmallIntegerField(_("probability (%)"))
    stale_days = models.PositiveSmallIntegerField(_("stale after (days)"), null=True, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order"]
        verbose_name = _("stage setting")
        verbose_name_plural = _("stage settings")
        constraints = [
            models.CheckConstraint(condition=Q(probability__lte=100), name="%(app_label)s_%(class)s_probability"),
        ]

    def __str__(self):
        return f"{self.get_stage_display()} {self.probability}%"


class ClaimTimer(models.Model):
    """Claim and follow-up timers per customer tier (DOMAIN.md §4.2). The row with an empty tier
    applies to prospects and customers without a tier."""

    tier = models.CharField(_("tier"), max_length=2, blank=True, unique=True)
    claim_hours = models.PositiveIntegerField(_("claim within (hours)"))
    return_hours = models.PositiveIntegerField(_("return to the queue after (hours)"))
    first_contact_hours = models.PositiveIntegerField(_("first contact within (hours)"))
    qualify_days = models.PositiveIntegerField(_("qualify or close a lead within (days)"))
    idle_days = models.PositiveIntegerField(_("no follow-up alert after (days)"))

    class Meta:
        ordering = ["tier"]
        verbose_name = _("claim timer")
        verbose_name_plural = _("claim timers")
        constraints = [
            models.CheckConstraint(
                condition=Q(return_hours__gt=models.F("claim_hours")), name="%(app_label)s_%(class)s_return_after_claim"
            ),
        ]

    def __str__(self):
        return f"{self.tier or '—'}: {self.claim_hours} h / {self.return_hours} h"


class CloseReason(BilingualName):
    """Why an opportunity was lost or suspended (price, competitor, budget, no decision, technical…)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    applies_to_won = models.BooleanField(_("reason for a win"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("close reason")
        verbose_name_plural = _("close reasons")


class RoutingRuleQuerySet(ScopedQuerySet):
    def scope(self, user):
        """The operations center reads the rules (admins change them); nobody else sees them."""
        return self if user.is_admin_role or user.role == Role.DISPATCHER else self.none()


class RoutingRule(models.Model):
    """One ordered routing rule (seed 004 六(二)). Empty conditions match anything; the first active
    rule whose conditions match and whose target can take the opportunity wins."""

    class Target(models.TextChoices):
        ACCOUNT_MANAGER = "account_manager", _("The customer's account manager")
        CORE_PARTNER = "core_partner", _("Core partner agent of the region and industry")
        PHONE_POOL = "phone_pool", _("Phone account managers (round robin)")
        TEAM_POOL = "team_pool", _("A team (round robin)")
        USER = "user", _("A named person")
        OPERATIONS_CENTER = "operations_center", _("Operations-center queue")

    class CustomerCondition(models.TextChoices):
        ANY = "", _("Any")
        HAS_MANAGER = "has_manager", _("Existing customer with an account manager")
        NO_MANAGER = "no_manager", _("Existing customer without an account manager")
        PROSPECT = "prospect", _("Prospect (new customer)")
        UNSERVED = "unserved", _("Prospect, or customer without an account manager")

    name = models.CharField(_("name"), max_length=100)
    priority = models.PositiveIntegerField(_("order"), default=100, help_text=_("Lower numbers are tried first."))
    is_active = models.BooleanField(_("active"), default=True)
    # conditions
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, blank=True)
    customer_condition = models.CharField(_("customer"), max_length=12, choices=CustomerCondition.choices, blank=True)
    tiers = models.JSONField(_("tiers"), default=list, blank=True, help_text=_("Empty: any tier."))
    region_prefixes = models.JSONField(
        _("regions"), default=list, blank=True, help_text=_("Region codes; a city code covers its districts.")
    )
    industries = models.JSONField(_("industries"), default=list, blank=True, help_text=_("GB/T 4754 sections."))
    products = models.ManyToManyField("orders.Product", blank=True, verbose_name=_("products"))
    contact_channels = models.ManyToManyField(
        "channels.ChannelType", blank=True, related_name="+", verbose_name=_("contact channels")
    )
    amount_min = models.DecimalField(_("expected value from"), max_digits=14, decimal_places=2, null=True, blank=True)
    amount_max = models.DecimalField(_("expected value to"), max_digits=14, decimal_places=2, null=True, blank=True)
    use_channel_matrix = models.BooleanField(
        _("only if the target channel serves the customer's class"),
        default=False,
        help_text=_("Checks the channel responsibility matrix for the customer's tier class."),
    )
    # target
    target = models.CharField(_("send to"), max_length=20, choices=Target.choices)
    target_team = models.ForeignKey(
        "channels.Team", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("team")
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("person"),
    )  # fmt: skip
    second_cover = models.BooleanField(
        _("phone account manager as second cover"), default=False,
        help_text=_("Also give a phone account manager (round robin) the opportunity to cover."),
    )  # fmt: skip
    capacity = models.PositiveIntegerField(
        _("open opportunities per receiver (cap)"), null=True, blank=True,
        help_text=_("Pools skip receivers at the cap; empty: no cap."),
    )  # fmt: skip
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    objects = RoutingRuleQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.CheckConstraint(
                condition=~Q(target="team_pool") | Q(target_team__isnull=False),
                name="%(app_label)s_%(class)s_team_pool_has_team",
            ),
            models.CheckConstraint(
                condition=~Q(target="user") | Q(target_user__isnull=False),
                name="%(app_label)s_%(class)s_user_target_has_user",
            ),
        ]

    def __str__(self):
        return f"{self.priority}. {self.name}"


class OpportunityQuerySet(CustomerOwnedQuerySet):
    def scope(self, user):
        """The one choke point for opportunity visibility (pages, API, exports):
        - operations center, admins, analysts: all;
        - everyone else: what they captured (the contact channel follows it), what was sent to them
          or their pool (team, partner) or as second cover, and opportunities of customers they may see
          through their portfolio (account managers and supervisors: CustomerOwnedQuerySet's rule);
        - a supervisor also sees what was sent to the people of their teams."""
        if user.is_superuser or user.role in roles.SEE_ALL_OPPORTUNITIES:
            return self
        cond = Q(captured_by=user) | Q(assigned_to=user) | Q(second_cover=user) | Q(claimed_by=user)
        if user.team_id:
            cond |= Q(assigned_team_id=user.team_id, assigned_to__isnull=True)
        if user.partner_id:
            cond |= Q(assigned_partner_id=user.partner_id)
        if user.role in roles.PORTFOLIO:
            cond |= self.customer_condition(user)
        if user.role == Role.SUPERVISOR:
            teams = list(user.supervised_teams.values_list("pk", flat=True))
            if user.team_id:
                teams.append(user.team_id)
            cond |= Q(assigned_to__team_id__in=teams) | Q(assigned_team_id__in=teams)
        return self.filter(cond)

    def open(self):
        return self.exclude(stage__in=CLOSED_STAGES)


class Opportunity(models.Model):
    """A lead (需求不明确) or an opportunity (需求明确, customer willing to go on)."""

    code = models.CharField(_("number"), max_length=12, unique=True, null=True, editable=False)  # noqa: DJ001 - NULL until numbered just after the insert
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.LEAD)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=LONG_TEXT)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("customer")
    )
    # seed 004 五(二): contact, key person, need type, informatisation
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("contact"),
    )  # fmt: skip
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    key_person = models.CharField(_("key person"), max_length=100, blank=True)
    need_type = models.CharField(_("need type"), max_length=12, choices=NeedType.choices, blank=True)
    informatisation = models.TextField(_("informatisation status"), blank=True, max_length=LONG_TEXT)
    products = models.ManyToManyField("orders.Product", blank=True, verbose_name=_("products of interest"))
    # The draft order a win created (orders.services.ordering.order_from_opportunity).
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=pgettext_lazy("sales order", "order"),
    )
    expected_value = models.DecimalField(
        _("expected monthly value (RMB)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    # capture (the contact channel, 接触渠道)
    contact_channel = models.ForeignKey(
        "channels.ChannelType", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("contact channel"),
    )  # fmt: skip
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="captured_opportunities",
        verbose_name=_("captured by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("captured at"), default=timezone.now, db_index=True, editable=False)
    # routing (the sales-service channel, 销售服务渠道)
    routing_status = models.CharField(
        _("routing status"), max_length=12, choices=RoutingStatus.choices, default=RoutingStatus.PENDING
    )
    routing_requested_at = models.DateTimeField(_("routing requested"), null=True, blank=True)
    routing_attempts = models.PositiveSmallIntegerField(_("routing attempts"), default=0)
    routed_at = models.DateTimeField(_("routed at"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="opportunities",
        verbose_name=_("receiver"),
    )  # fmt: skip
    assigned_team = models.ForeignKey(
        "channels.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("receiving team"),
    )  # fmt: skip
    assigned_partner = models.ForeignKey(
        "channels.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="opportunities",
        verbose_name=_("receiving partner"),
    )  # fmt: skip
    assigned_channel = models.ForeignKey(
        "channels.ChannelType", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("sales-service channel"),
    )  # fmt: skip
    second_cover = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("second cover"),
    )  # fmt: skip
    routed_by_rule = models.ForeignKey(
        RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("rule")
    )
    dispatched_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    claim_due_at = models.DateTimeField(_("claim due"), null=True, blank=True, db_index=True)
    return_due_at = models.DateTimeField(_("returns to the queue at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("claimed by"),
    )  # fmt: skip
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claimed_on_time = models.BooleanField(_("claimed on time"), null=True, blank=True)
    # working it
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, blank=True)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), null=True, blank=True)
    stage_changed_at = models.DateTimeField(_("stage since"), null=True, blank=True)
    qualified_at = models.DateTimeField(_("qualified at"), null=True, blank=True)
    stale_alerted_at = models.DateTimeField(_("stale alert sent"), null=True, blank=True)
    next_action = models.CharField(_("next action"), max_length=200, blank=True)
    next_action_due = models.DateField(_("next action due"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.ForeignKey(
        CloseReason, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("close reason")
    )
    competitor = models.CharField(_("competitor"), max_length=100, blank=True)
    close_note = models.TextField(_("close note"), blank=True, max_length=LONG_TEXT)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["routing_status", "routing_requested_at"], name="opp_routing_idx"),
            models.Index(fields=["assigned_to", "routing_status"], name="opp_receiver_idx"),
            models.Index(fields=["captured_by", "-created_at"], name="opp_captured_idx"),
            models.Index(fields=["customer", "-created_at"], name="opp_customer_idx"),
            models.Index(fields=["stage", "stage_changed_at"], name="opp_stage_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(routing_status__in=RoutingStatus.values), name="%(app_label)s_%(class)s_routing_valid"
            ),
            models.CheckConstraint(
                condition=Q(stage="") | Q(stage__in=Stage.values), name="%(app_label)s_%(class)s_stage_valid"
            ),
            # A lead has no stage; an opportunity always has one.
            models.CheckConstraint(
                condition=Q(kind="lead", stage__in=["", "lost", "suspended"]) | Q(kind="opportunity") & ~Q(stage=""),
                name="%(app_label)s_%(class)s_stage_by_kind",
            ),
            # A claimed opportunity has exactly one owner.
            models.CheckConstraint(
                condition=~Q(routing_status="claimed") | Q(claimed_by__isnull=False, assigned_to__isnull=False),
                name="%(app_label)s_%(class)s_claimed_has_owner",
            ),
            models.CheckConstraint(
                condition=Q(expected_value__isnull=True) | Q(expected_value__gte=0),
                name="%(app_label)s_%(class)s_value_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.code or '—'} {self.title}"

    @property
    def is_closed(self) -> bool:
        return self.stage in CLOSED_STAGES

    @property
    def weighted_value(self):
        if self.expected_value is None or self.probability is None:
            return None
        return self.expected_value * self.probability / 100


class Transfer(models.Model):
    """The transfer log: every routing step of an opportunity (from, to, by, when, why, rule)."""

    class Action(models.TextChoices):
        CAPTURED = "captured", _("Captured")
        ROUTED = "routed", _("Routed by rule")
        QUEUED = "queued", _("Placed in the operations-center queue")
        DISPATCHED = "dispatched", _("Dispatched by the operations center")
        CLAIMED = "claimed", _("Claimed")
        RETURNED = "returned", _("Returned to the operations center")
        ESCALATED = "escalated", _("Escalated: claim overdue")
        AUTO_RETURNED = "auto_returned", _("Returned to the queue: not claimed in time")

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="transfers")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=pgettext_lazy("transfer", "from"),
    )  # fmt: skip
    from_channel = models.ForeignKey(
        "channels.ChannelType", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("from channel"),
    )  # fmt: skip
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=pgettext_lazy("transfer", "to"),
    )  # fmt: skip
    to_channel = models.ForeignKey(
        "channels.ChannelType", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("to channel"),
    )  # fmt: skip
    to_team = models.ForeignKey(
        "channels.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("to team")
    )
    to_partner = models.ForeignKey(
        "channels.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("to partner"),
    )  # fmt: skip
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("by"), help_text=_("Empty: the system (router, timers)."),
    )  # fmt: skip
    at = models.DateTimeField(_("when"), db_index=True)
    reason = models.TextField(_("why"), blank=True, max_length=LONG_TEXT)
    rule = models.ForeignKey(
        RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("rule")
    )
    rule_name = models.CharField(_("rule name"), max_length=100, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfer log")
        indexes = [models.Index(fields=["opportunity", "at"], name="opp_transfer_idx")]
        constraints = [
            # The router places an opportunity once: a task that runs twice cannot log it twice.
            models.UniqueConstraint(
                fields=["opportunity"],
                condition=Q(action__in=["routed", "queued"]),
                name="%(app_label)s_%(class)s_routed_once",
            ),  # fmt: skip
        ]

    def __str__(self):
        return f"{self.opportunity_id} {self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


class StageChange(models.Model):
    """Stage history: every move, with the days spent in the stage it left."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(pgettext_lazy("stage", "from"), max_length=12, choices=Stage.choices, blank=True)
    to_stage = models.CharField(pgettext_lazy("stage", "to"), max_length=12, choices=Stage.choices)
    days_in_stage = models.DecimalField(_("days in the previous stage"), max_digits=8, decimal_places=2, null=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"))
    note = models.TextField(_("note"), blank=True, max_length=LONG_TEXT)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage history")
        indexes = [models.Index(fields=["opportunity", "at"], name="opp_stage_change_idx")]

    def __str__(self):
        return f"{self.opportunity_id} {self.from_stage}→{self.to_stage}"

    @property
    def whole_days_in_stage(self) -> int | None:
        """The days spent in the stage left, to the nearest whole day (the timeline says "3 days")."""
        if self.days_in_stage is None:
            return None
        return int(Decimal(self.days_in_stage).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class Activity(models.Model):
    """Follow-up work on an opportunity: calls, visits, meetings, e-mails, notes."""

    class Kind(models.TextChoices):
        CALL = "call", _("Phone call")
        VISIT = "visit", _("Visit")
        MEETING = "meeting", _("Meeting")
        EMAIL = "email", pgettext_lazy("activity", "E-mail")
        SURVEY = "survey", _("Site survey")
        NOTE = "note", _("Note")

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CALL)
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    notes = models.TextField(_("notes"), max_length=LONG_TEXT)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [models.Index(fields=["opportunity", "-at"], name="opp_activity_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"
