"""Provisioning work orders (seed 000 I.3: order to acceptance in a closed loop). A work-order line of an order
gets a work order whose steps follow the product's step templates, one workstation each; a step is claimed,
handed over, sent back with a reason, blocked with a reason, and completed — once (compare-and-set on
`revision`). Every action is a `StepEvent`: the history the account manager and the assessment read."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels import roles
from customers.models import CustomerOwnedQuerySet

# Steps that still run (the SLA sweep reads only these through a partial index).
OPEN_STEP_STATES = ("ready", "in_progress", "blocked")


def is_provisioning_reader(user) -> bool:
    """Workstation staff read what passes their workstation, not the customer base."""
    return user.role in roles.WORKSTATIONS and not user.sees_all_customers


def step_of_q(user, prefix: str = "") -> Q:
    """Steps at `user`'s workstation or in their hands (`prefix` reaches the steps from another model)."""
    q = Q(**{f"{prefix}assignee": user})
    if user.workstation_id:
        q |= Q(**{f"{prefix}workstation_id": user.workstation_id})
    return q


class WorkOrderQuerySet(CustomerOwnedQuerySet):
    customer_field = "customer"  # denormalised from the order: one index, no join

    def scope(self, user):
        """Whoever sees the customer; provisioning staff see the work orders with a step at their workstation
        or in their hands."""
        if is_provisioning_reader(user):
            return self.filter(
                pk__in=type(self)(self.model, using=self._db).filter(step_of_q(user, "steps__")).values("pk")
            )
        return super().scope(user)


class WorkOrder(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("In progress")
        BLOCKED = "blocked", _("Blocked")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=12, unique=True, null=True, editable=False)  # noqa: DJ001 - NULL until numbered just after the insert
    order_line = models.OneToOneField(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="work_order", verbose_name=_("order line")
    )
    # Denormalised from the line's order for the boards and the 360 panel (one index, no join).
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    objects = WorkOrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        indexes = [
            models.Index(fields=["customer", "-id"], name="wo_customer_idx"),
            models.Index(fields=["due_at", "id"], condition=Q(status__in=["open", "blocked"]), name="wo_open_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "blocked", "completed", "cancelled"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
        ]

    def __str__(self):
        return self.number or f"#{self.pk}"


class StepQuerySet(CustomerOwnedQuerySet):
    customer_field = "customer"

    def scope(self, user):
        return self.filter(step_of_q(user)) if is_provisioning_reader(user) else super().scope(user)


class WorkStep(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Not started")
        READY = "ready", _("Waiting in the queue")
        IN_PROGRESS = "in_progress", _("In progress")
        BLOCKED = "blocked", _("Blocked")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="steps", verbose_name=_("work order")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    sequence = models.PositiveSmallIntegerField(_("sequence"))
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    action = models.CharField(_("action"), max_length=16, default="work")
    workstation = models.ForeignKey(
        "channels.Workstation", on_delete=models.PROTECT, related_name="steps", verbose_name=_("workstation")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="work_steps",
        verbose_name=_("executor"),
    )  # fmt: skip
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    duration_hours = models.PositiveSmallIntegerField(_("time limit (working hours)"), default=8)
    ready_at = models.DateTimeField(_("ready since"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("completed by"),
    )  # fmt: skip
    on_time = models.BooleanField(_("on time"), null=True, blank=True)
    block_reason = models.CharField(_("reason blocked"), max_length=300, blank=True)
    times_rejected = models.PositiveSmallIntegerField(_("times sent back"), default=0)
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    # When the deadline warning is due (set with due_at: the step's time limit less the warning margin, in
    # working hours), so the SLA sweep selects warnings by one indexed comparison.
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    # Compare-and-set: every action updates WHERE revision = the one the actor saw, and adds one.
    revision = models.PositiveIntegerField(_("revision"), default=0)

    objects = StepQuerySet.as_manager()

    class Meta:
        ordering = ["work_order", "sequence"]
        verbose_name = _("work-order step")
        verbose_name_plural = _("work-order steps")
        indexes = [
            models.Index(fields=["due_at", "id"], condition=Q(status__in=OPEN_STEP_STATES), name="step_open_due_idx"),
            models.Index(
                fields=["workstation", "due_at", "id"], condition=Q(status__in=OPEN_STEP_STATES), name="step_queue_idx"
            ),
            models.Index(
                fields=["assignee", "due_at", "id"], condition=Q(status__in=OPEN_STEP_STATES), name="step_mine_idx"
            ),
            models.Index(fields=["workstation", "completed_at"], condition=Q(status="done"), name="step_done_idx"),
            # the board's tab counts (open steps by status, capped): a Seq Scan of every step otherwise (bench_orders)
            models.Index(fields=["status"], condition=Q(status__in=OPEN_STEP_STATES), name="step_open_status_idx"),
            # the assessment's month of done steps over every workstation (bench_orders: a Seq Scan otherwise)
            models.Index(fields=["completed_at"], condition=Q(status="done"), name="step_done_at_idx"),
            models.Index(
                fields=["warn_at", "id"],
                condition=Q(status__in=OPEN_STEP_STATES, warned_at__isnull=True),
                name="step_warn_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "sequence"], name="%(app_label)s_%(class)s_unique_sequence"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "ready", "in_progress", "blocked", "done", "skipped"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="blocked") | ~Q(block_reason=""), name="%(app_label)s_%(class)s_blocked_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.work_order_id}/{self.sequence} {self.name}"


class StepEventQuerySet(CustomerOwnedQuerySet):
    customer_field = "step__customer"


class StepEvent(models.Model):
    class Action(models.TextChoices):
        READY = "ready", _("Queued")
        CLAIM = "claim", pgettext_lazy("work step", "Claimed")
        HAND_OVER = "hand_over", _("Handed over")
        COMPLETE = "complete", _("Completed")
        REJECT = "reject", _("Sent back")
        BLOCK = "block", _("Blocked")
        UNBLOCK = "unblock", _("Unblocked")
        WARN = "warn", _("Deadline warning")
        ESCALATE = "escalate", _("Escalated")

    step = models.ForeignKey(WorkStep, on_delete=models.CASCADE, related_name="events", verbose_name=_("step"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=pgettext_lazy("handed over", "to"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = StepEventQuerySet.as_manager()

    class Meta:
        ordering = ["step", "at", "id"]
        verbose_name = _("step event")
        verbose_name_plural = _("step events")

    def __str__(self):
        return f"{self.step_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class ProvisioningFailureQuerySet(CustomerOwnedQuerySet):
    customer_field = "line__order__customer"


class ProvisioningFailure(models.Model):
    """An interface failure of the provisioning system (BOSS activation refused or unreachable). Kept after a
    successful retry: the four-level assessment counts them for IT support per month."""

    line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="provisioning_failures", verbose_name=_("order line")
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    message = models.CharField(_("error"), max_length=300)
    retried_at = models.DateTimeField(_("retried at"), null=True, blank=True)
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("retried by"),
    )  # fmt: skip

    objects = ProvisioningFailureQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("provisioning interface failure")
        verbose_name_plural = _("provisioning interface failures")

    def __str__(self):
        return f"{self.line_id} {self.at:%Y-%m-%d %H:%M}"
