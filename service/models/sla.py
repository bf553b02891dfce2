"""SLA policies and clocks (DOMAIN.md §5). Policies are data, kept in order: the first active policy whose
conditions all match a ticket (kind, category or one of its ancestors, the customer's service tier, the affected
circuit's SLA class, the intake channel; an empty condition matches anything) gives the ticket its priority and
its targets. Each target runs as an `SlaClock` on 7×24 or working hours (channels.calendar, holidays included);
every start, pause, resumption, fulfilment, warning and breach is an `SlaEvent` row, so SLA reports and the
churn signal read facts."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import CustomerOwnedQuerySet, Tier
from kam.db import VisibleToAllQuerySet
from orders.models import SlaClass
from service.models.tickets import Kind, Ticket, TicketCategory

__all__ = ["SlaPolicy", "SlaClock", "SlaEvent"]

MAX_TARGET_MINUTES = 60 * 24 * 90  # 90 days: beyond any legal cap (complaints: 15 days)


def _minutes(label, help_text=""):
    return models.PositiveIntegerField(
        label, null=True, blank=True, help_text=help_text,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TARGET_MINUTES)],
    )  # fmt: skip


@deconstructible
class ChoicesList:
    """A JSON list whose items are all among `allowed` (a choices class's values)."""

    def __init__(self, allowed):
        self.allowed = list(allowed)

    def __call__(self, value):
        if not isinstance(value, list) or any(item not in self.allowed for item in value):
            raise ValidationError(_("Choose from: %(allowed)s.") % {"allowed": ", ".join(map(str, self.allowed))})

    def __eq__(self, other):
        return isinstance(other, ChoicesList) and other.allowed == self.allowed


class SlaPolicy(models.Model):
    name = models.CharField(_("name"), max_length=100)
    sequence = models.PositiveSmallIntegerField(_("sequence"), help_text=_("The first matching policy applies."))
    is_active = models.BooleanField(_("active"), default=True)
    # conditions (empty: any)
    kinds = models.JSONField(_("ticket kinds"), default=list, blank=True, validators=[ChoicesList(Kind.values)])
    category = models.ForeignKey(
        TicketCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("category"), help_text=_("Matches the category and every category below it."),
    )  # fmt: skip
    service_tiers = models.JSONField(
        _("service tiers"), default=list, blank=True, validators=[ChoicesList(Tier.values)]
    )
    sla_classes = models.JSONField(
        _("circuit SLA classes"), default=list, blank=True, validators=[ChoicesList(SlaClass.values)],
        help_text=_("Faults: the SLA class of the affected subscription."),
    )  # fmt: skip
    channels = models.JSONField(
        _("intake channels"), default=list, blank=True, validators=[ChoicesList(Ticket.Channel.values)]
    )
    # what it gives
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Ticket.Priority.choices, default=Ticket.Priority.NORMAL
    )
    working_hours = models.BooleanField(
        _("working-hours clock"), default=True,
        help_text=_("Count office hours on working days (holidays excluded); off: 7×24."),
    )  # fmt: skip
    first_response_minutes = _minutes(_("first response (minutes)"))
    next_reply_minutes = _minutes(_("next reply (minutes)"), _("After each new message of the customer."))
    update_minutes = _minutes(_("progress update every (minutes)"), _("Faults: report progress until resolved."))
    resolution_minutes = _minutes(_("resolution (minutes)"))
    hard_cap_minutes = _minutes(_("hard cap (minutes)"), _("Never later than this, whatever the pauses."))
    warn_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the target used)"), default=75, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    follow_up_hours = models.PositiveIntegerField(
        _("satisfaction follow-up after closure (hours)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 120)],
    )  # fmt: skip

    objects = VisibleToAllQuerySet.as_manager()

    class Meta:
        ordering = ["sequence", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self):
        return self.name

    def matches(self, *, kind: str, category_chain: set[int], service_tier: str, sla_class: str, channel: str):
        return (
            (not self.kinds or kind in self.kinds)
            and (self.category_id is None or self.category_id in category_chain)
            and (not self.service_tiers or service_tier in self.service_tiers)
            and (not self.sla_classes or sla_class in self.sla_classes)
            and (not self.channels or channel in self.channels)
        )


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_REPLY = "next_reply", _("Next reply")
    UPDATE = "update", _("Progress update")
    RESOLUTION = "resolution", pgettext_lazy("SLA metric", "Resolution")
    HARD_CAP = "hard_cap", _("Hard cap")


class SlaClockQuerySet(CustomerOwnedQuerySet):
    customer_field = "ticket__customer"


class SlaClock(models.Model):
    """One target of one ticket. Running: `due_at` set, not fulfilled; paused: `paused_at` set (the time left is
    kept in `remaining_minutes` and the due time moves on resumption); breached once `due_at` passes unfulfilled
    (`breached_at`, stamped by the sweep)."""

    Metric = Metric

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="clocks", verbose_name=_("ticket"))
    metric = models.CharField(_("metric"), max_length=16, choices=Metric.choices)
    working_hours = models.BooleanField(_("working-hours clock"), default=True)
    target_minutes = models.PositiveIntegerField(_("target (minutes)"))
    started_at = models.DateTimeField(_("started at"))
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    remaining_minutes = models.PositiveIntegerField(_("minutes left when paused"), null=True, blank=True)
    hard_due_at = models.DateTimeField(
        _("hard cap"), null=True, blank=True, help_text=_("Pauses never move the clock past this.")
    )
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalate_at = models.DateTimeField(
        _("next escalation at"), null=True, blank=True,
        help_text=_("While breached and unfulfilled: when the escalation climbs one more level."),
    )  # fmt: skip

    objects = SlaClockQuerySet.as_manager()

    class Meta:
        ordering = ["ticket", "id"]
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            # one running clock per metric and ticket (a next-reply clock restarts after it is fulfilled)
            models.UniqueConstraint(
                fields=["ticket", "metric"], condition=Q(fulfilled_at__isnull=True), name="sla_clock_one_running"
            ),
        ]
        indexes = [
            models.Index(fields=["due_at"], name="sla_clock_breach_due",
                         condition=Q(fulfilled_at__isnull=True, breached_at__isnull=True, paused_at__isnull=True)),
            models.Index(fields=["warn_at"], name="sla_clock_warn_due",
                         condition=Q(fulfilled_at__isnull=True, warned_at__isnull=True, paused_at__isnull=True)),
            models.Index(fields=["escalate_at"], name="sla_clock_escalate_due",
                         condition=Q(fulfilled_at__isnull=True, escalate_at__isnull=False)),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.ticket} {self.get_metric_display()}"

    @property
    def state(self) -> str:
        if self.fulfilled_at:
            return "met" if not self.breached_at else "late"
        if self.breached_at:
            return "breached"
        return "paused" if self.paused_at else "running"


class SlaEventQuerySet(CustomerOwnedQuerySet):
    customer_field = "clock__ticket__customer"


class SlaEvent(models.Model):
    class Action(models.TextChoices):
        START = "start", _("Started")
        PAUSE = "pause", _("Paused")
        RESUME = "resume", _("Resumed")
        FULFIL = "fulfil", _("Met")
        WARN = "warn", _("Warned")
        BREACH = "breach", _("Breached")
        ESCALATE = "escalate", _("Escalated")

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="events", verbose_name=_("clock"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("by"),
    )  # fmt: skip

    objects = SlaEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("SLA event")
        verbose_name_plural = _("SLA events")
        indexes = [models.Index(fields=["action", "at"], name="sla_event_report")]

    def __str__(self):
        return f"{self.clock} {self.get_action_display()}"
