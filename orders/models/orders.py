"""Orders (订单, seed 003): a unique number, lines filled from each product's order template, checked against the
template and the customer's agreement; changes, suspensions, resumptions and terminations are orders too.
Pre-acceptance forms (预受理单, seed 004) from contact channels wait for the operations center to complete them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import CustomerOwnedQuerySet
from kam.db import LONG_TEXT
from orders.models.provisioning import is_provisioning_reader, step_of_q


class OrderQuerySet(CustomerOwnedQuerySet):
    def scope(self, user):
        """Whoever sees the customer; provisioning staff also see the orders with a step at their workstation
        or in their hands (they see no customer list)."""
        if is_provisioning_reader(user):
            inner = type(self)(self.model, using=self._db).filter(step_of_q(user, "lines__work_order__steps__"))
            return self.filter(pk__in=inner.values("pk"))
        return super().scope(user)


class Order(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", _("New")
        CHANGE = "change", _("Change")
        SUSPEND = "suspend", _("Suspension")
        RESUME = "resume", _("Resumption")
        TERMINATE = "terminate", _("Termination")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_APPROVAL = "in_approval", _("In approval (beyond the agreement)")
        SUBMITTED = "submitted", _("Submitted")
        IN_PROGRESS = "in_progress", pgettext_lazy("order status", "Provisioning")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered")
        OPPORTUNITY = "opportunity", _("Won opportunity")
        PRE_ACCEPTANCE = "pre_acceptance", _("Pre-acceptance form")
        TERMINATION = "termination", _("Customer leaving")

    number = models.CharField(_("number"), max_length=12, unique=True, null=True, editable=False)  # noqa: DJ001 - NULL until numbered just after the insert
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    agreement = models.ForeignKey(
        "orders.Agreement", on_delete=models.PROTECT, null=True, blank=True, related_name="orders",
        verbose_name=_("agreement"),
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.NEW)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.MANUAL)
    intake_channel = models.ForeignKey(
        "channels.ChannelType", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("intake channel"),
    )  # fmt: skip
    note = models.TextField(_("note"), blank=True, max_length=LONG_TEXT)
    needs_construction = models.BooleanField(_("construction needed"), default=False)
    requested_on = models.DateField(_("requested date"), null=True, blank=True)
    committed_on = models.DateField(_("committed date"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("entered by")
    )
    created_at = models.DateTimeField(_("entered at"), default=timezone.now, db_index=True, editable=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    # Beyond the agreement: the terms it breaks, in words, and who let it through.
    approval_reasons = models.JSONField(_("reasons for approval"), default=list, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("approved by"),
    )  # fmt: skip
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # Four-level assessment (seed 000 I.3 item 16): the account manager's orders entered complete and correct
    # the first time (no step sent back for the order's own data).
    first_time_right = models.BooleanField(_("right the first time"), default=True)
    delay_notified_at = models.DateTimeField(_("customer told of a delay"), null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = pgettext_lazy("sales order", "order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="ord_customer_created_idx"),
            models.Index(fields=["status", "-id"], name="ord_status_id_idx"),
            # the assessment's month of submitted orders (bench_orders: a Seq Scan of every order otherwise)
            models.Index(fields=["submitted_at"], name="ord_submitted_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["new", "change", "suspend", "resume", "terminate"]),
                name="%(app_label)s_%(class)s_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "in_approval", "submitted", "in_progress", "completed", "cancelled"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
        ]

    def __str__(self):
        return self.number or f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.COMPLETED, self.Status.CANCELLED)


class OrderChildQuerySet(CustomerOwnedQuerySet):
    customer_field = "order__customer"


class OrderLine(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROVISIONING = "provisioning", pgettext_lazy("order status", "Provisioning")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=pgettext_lazy("sales order", "order")
    )
    product = models.ForeignKey("orders.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price (RMB/month)"), max_digits=12, decimal_places=2)
    discount = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=0)
    values = models.JSONField(_("template values"), default=dict, blank=True)
    # The subscription a change, suspension, resumption or termination acts on; for a new line, the one it made.
    subscription = models.ForeignKey(
        "orders.Subscription", on_delete=models.PROTECT, null=True, blank=True, related_name="order_lines",
        verbose_name=_("subscription"),
    )  # fmt: skip
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    provisioning_type = models.CharField(_("provisioning"), max_length=20, blank=True)
    external_ref = models.CharField(_("provisioning system reference"), max_length=64, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    objects = OrderChildQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(discount__gte=0, discount__lte=100), name="%(app_label)s_%(class)s_discount_range"
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="%(app_label)s_%(class)s_price_positive"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=1000000), name="%(app_label)s_%(class)s_quantity_range"
            ),
        ]

    def __str__(self):
        return f"{self.order_id}/{self.pk} {self.product_id}"

    @property
    def net_price(self):
        return (self.unit_price * self.quantity * (100 - self.discount) / 100).quantize(self.unit_price)


class PreAcceptance(models.Model):
    """A pre-acceptance form (预受理单, seed 004): a contact channel writes down what the customer wants; the
    operations center completes it into an order or refuses it with a reason the customer is told."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the operations center")
        CONVERTED = "converted", _("Made into an order")
        REFUSED = "refused", _("Refused")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="pre_acceptances", verbose_name=_("customer")
    )
    product = models.ForeignKey("orders.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    channel = models.ForeignKey(
        "channels.ChannelType", on_delete=models.PROTECT, related_name="+", verbose_name=_("contact channel")
    )
    details = models.TextField(_("what the customer asks for"), max_length=LONG_TEXT)
    values = models.JSONField(_("template values"), default=dict, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by")
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, editable=False)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("handled by"),
    )  # fmt: skip
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    refusal_reason = models.CharField(_("reason for refusing"), max_length=300, blank=True)
    order = models.OneToOneField(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pre_acceptance",
        verbose_name=pgettext_lazy("sales order", "order"),
    )

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("pre-acceptance form")
        verbose_name_plural = _("pre-acceptance forms")
        indexes = [
            models.Index(fields=["submitted_at", "id"], condition=Q(status="queued"), name="preacc_queue_idx"),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.product_id} {self.submitted_at:%Y-%m-%d}"
