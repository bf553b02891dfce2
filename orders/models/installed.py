"""The installed base: subscriptions (what a customer holds, created and changed by accepted orders) and
resources (circuit ids, number blocks, IP blocks, ports) reserved at the resource check, in use after
acceptance and released by a termination order (seed 000 I.3 item 21)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import CustomerOwnedQuerySet
from kam.db import ScopedQuerySet, VisibleToAllQuerySet
from orders.models.agreements import SlaClass


class Subscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", pgettext_lazy("subscription", "Suspended")
        TERMINATED = "terminated", _("Terminated")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("customer")
    )
    product = models.ForeignKey(
        "orders.Product", on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("product")
    )
    agreement = models.ForeignKey(
        "orders.Agreement", on_delete=models.PROTECT, null=True, blank=True, related_name="subscriptions",
        verbose_name=_("agreement"),
    )  # fmt: skip
    service_id = models.CharField(_("circuit / service id"), max_length=40, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    bandwidth_mbps = models.PositiveIntegerField(_("bandwidth (Mbit/s)"), null=True, blank=True)
    members = models.PositiveIntegerField(_("members"), null=True, blank=True)
    monthly_price = models.DecimalField(_("monthly price (RMB)"), max_digits=12, decimal_places=2)
    sla_class = models.CharField(_("SLA class"), max_length=10, choices=SlaClass.choices, default=SlaClass.STANDARD)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    started_on = models.DateField(_("billing starts"), default=timezone.localdate)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "product__sort_order", "id"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        indexes = [
            models.Index(fields=["customer", "status", "id"], name="sub_customer_idx"),
            # "holds product X" segment criterion: customers by product among live subscriptions
            models.Index(
                fields=["product", "customer"],
                condition=Q(status__in=["active", "suspended"]),
                name="sub_live_product_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended", "terminated"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(condition=Q(monthly_price__gte=0), name="%(app_label)s_%(class)s_price_positive"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="%(app_label)s_%(class)s_dates",
            ),
        ]

    def __str__(self):
        return self.service_id


class ResourceQuerySet(ScopedQuerySet):
    def scope(self, user):
        """Inventory is the operations center's and provisioning's (and admins'); account managers see the
        resources of their customers' subscriptions through the subscription, and what is reserved for their
        customers' order lines through the order (a free row is nobody's customer: not theirs to see)."""
        from channels import roles
        from orders.models.orders import Order

        if (
            user.is_admin_role
            or user.role in roles.WORKSTATIONS
            or user.role in (roles.Role.DISPATCHER, roles.Role.ANALYST)
        ):
            return self.all()
        return self.filter(
            Q(subscription__in=Subscription.objects.visible_to(user).values("pk"))
            | Q(reserved_for__order__in=Order.objects.visible_to(user).values("pk"))
        )


class Resource(models.Model):
    class Kind(models.TextChoices):
        CIRCUIT = "circuit", _("Circuit id")
        NUMBER_BLOCK = "number_block", _("Number block")
        IP_BLOCK = "ip_block", _("IP block")
        PORT = "port", _("Port")

    class Status(models.TextChoices):
        FREE = "free", _("Free")
        RESERVED = "reserved", _("Reserved")
        IN_USE = "in_use", _("In use")
        RETIRED = "retired", _("Retired")

    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    identifier = models.CharField(_("identifier"), max_length=60)
    region_code = models.CharField(_("region code"), max_length=6, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.FREE)
    reserved_for = models.ForeignKey(
        "orders.OrderLine", on_delete=models.SET_NULL, null=True, blank=True, related_name="reserved_resources",
        verbose_name=_("reserved for"),
    )  # fmt: skip
    reserved_at = models.DateTimeField(_("reserved at"), null=True, blank=True)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="resources",
        verbose_name=_("in use by"),
    )  # fmt: skip
    in_use_since = models.DateTimeField(_("in use since"), null=True, blank=True)
    released_at = models.DateTimeField(_("last released"), null=True, blank=True)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "identifier"]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        indexes = [
            models.Index(fields=["kind", "region_code", "id"], condition=Q(status="free"), name="res_free_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["kind", "identifier"], name="%(app_label)s_%(class)s_unique"),
            # in use <=> held by exactly one subscription (one FK: never two); reserved <=> for one order line
            models.CheckConstraint(
                condition=(Q(status="in_use") & Q(subscription__isnull=False))
                | (~Q(status="in_use") & Q(subscription__isnull=True)),
                name="%(app_label)s_%(class)s_in_use_by_one_subscription",
            ),
            models.CheckConstraint(
                condition=(Q(status="reserved") & Q(reserved_for__isnull=False)) | ~Q(status="reserved"),
                name="%(app_label)s_%(class)s_reserved_for_a_line",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["free", "reserved", "in_use", "retired"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.identifier}"


class ProductResourceNeed(models.Model):
    """What the resource check reserves for a line of a product (one row per resource kind): data an admin
    edits, not a mapping in code. `region_matters`: the row must lie in the customer's region (a circuit is
    built from the local network; a 400 number or a gateway port is not tied to a place)."""

    product = models.ForeignKey(
        "orders.Product", on_delete=models.CASCADE, related_name="resource_needs", verbose_name=_("product")
    )
    kind = models.CharField(_("kind"), max_length=14, choices=Resource.Kind.choices)
    region_matters = models.BooleanField(_("from the customer's region"), default=True)

    objects = VisibleToAllQuerySet.as_manager()

    class Meta:
        ordering = ["product", "kind"]
        verbose_name = _("resource a product needs")
        verbose_name_plural = _("resources products need")
        constraints = [
            models.UniqueConstraint(fields=["product", "kind"], name="%(app_label)s_%(class)s_unique"),
        ]

    def __str__(self):
        return f"{self.product_id} {self.kind}"
