"""The group product catalogue (DOMAIN.md §2.3) and what each product needs to be ordered and provisioned:
its order template (the fields an order line carries), the channels that may accept it, its lead times and
the workstation steps of its work order. All of it is data an admin edits."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from channels.models import BilingualName
from kam.db import LONG_TEXT, VisibleToAllQuerySet


class ProductQuerySet(VisibleToAllQuerySet):
    """Reference data: every signed-in user reads the whole catalogue."""

    def offered(self):
        """Products a salesperson may propose today: active and not legacy."""
        return self.filter(is_active=True, legacy=False)


class Product(BilingualName):
    """A catalogue entry (DOMAIN.md §2.3): data, editable by an admin."""

    class Provisioning(models.TextChoices):
        BOSS_DIRECT = "boss_direct", _("BOSS direct activation")
        PLATFORM_REVIEW = "platform_review", _("Platform review")
        WORK_ORDER = "work_order", _("Work order (long flow)")

    class Scope(models.TextChoices):
        LOCAL = "local", _("Local")
        PROVINCE = "province", _("Province-wide")
        NATIONAL = "national", _("Nationwide")

    code = models.CharField(_("code"), max_length=20, unique=True)
    category = models.CharField(_("category"), max_length=40)
    provisioning_type = models.CharField(
        _("provisioning"), max_length=20, choices=Provisioning.choices, default=Provisioning.BOSS_DIRECT
    )
    billing_unit = models.CharField(_("billing unit"), max_length=100, blank=True)
    list_price_min = models.DecimalField(
        _("list price from (RMB/month)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    list_price_max = models.DecimalField(
        _("list price to (RMB/month)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    is_member_level = models.BooleanField(_("member-level"), default=False)
    sla_class_default = models.CharField(_("default SLA class"), max_length=20, blank=True)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.PROVINCE)
    legacy = models.BooleanField(_("legacy"), default=False)
    needs_contract = models.BooleanField(_("needs a contract"), default=False)
    min_contract_months = models.PositiveSmallIntegerField(_("minimum contract (months)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    # Ordering and provisioning (DOMAIN.md §2.2 and §5.2): lead times in working days, data not constants.
    lead_time_days = models.PositiveSmallIntegerField(
        _("lead time (working days)"), default=1,
        help_text=_("Order to billing start when resources exist (BOSS-direct: 1 = same day)."),
    )  # fmt: skip
    construction_lead_time_days = models.PositiveSmallIntegerField(
        _("lead time with construction (working days)"), null=True, blank=True,
        help_text=_("Order to billing start when construction is needed; empty when it never is."),
    )  # fmt: skip
    accepting_channels = models.ManyToManyField(
        "channels.ChannelType", blank=True, related_name="accepted_products",
        verbose_name=_("channels that may accept orders"),
        help_text=_("Channel types that may take an order or pre-acceptance form for it (seed 004); empty = all."),
    )  # fmt: skip

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("product")
        verbose_name_plural = _("product catalogue")
        constraints = [
            models.CheckConstraint(
                condition=Q(list_price_min__isnull=True)
                | Q(list_price_max__isnull=True)
                | Q(list_price_max__gte=models.F("list_price_min")),
                name="%(app_label)s_%(class)s_price_range",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.label}"


class OrderField(BilingualName):
    """One field of a product's order template (seed 003 订单: per-product electronic templates with
    required-field and accuracy checks). `orders.templates` validates a line's values against these rows."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        INTEGER = "integer", _("Whole number")
        DECIMAL = "decimal", _("Decimal number")
        BANDWIDTH = "bandwidth", _("Bandwidth (Mbit/s)")
        ADDRESS = "address", _("Address")
        PHONE = "phone", _("Phone number")
        IP_BLOCK = "ip_block", _("IP block size (prefix length)")
        APN = "apn", _("APN name")
        CHOICE = "choice", _("Choice")
        DATE = "date", _("Date")

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="order_fields", verbose_name=_("product")
    )
    key = models.SlugField(
        _("key"), max_length=40, help_text=_("Name of the value in the order line (a_end, bandwidth…).")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.TEXT)
    required = models.BooleanField(_("required"), default=True)
    min_value = models.DecimalField(_("minimum"), max_digits=14, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(_("maximum"), max_digits=14, decimal_places=2, null=True, blank=True)
    max_length = models.PositiveSmallIntegerField(_("maximum length"), default=200)
    choices = models.JSONField(_("choices"), default=list, blank=True, help_text=_("Allowed values of a choice field."))
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    objects = VisibleToAllQuerySet.as_manager()

    class Meta:
        ordering = ["product", "sort_order", "key"]
        verbose_name = _("order template field")
        verbose_name_plural = _("order template fields")
        constraints = [
            models.UniqueConstraint(fields=["product", "key"], name="%(app_label)s_%(class)s_unique_key"),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(max_value__gte=models.F("min_value")),
                name="%(app_label)s_%(class)s_range",
            ),
            models.CheckConstraint(
                condition=Q(max_length__gte=1, max_length__lte=2000), name="%(app_label)s_%(class)s_length"
            ),
        ]


class StepTemplate(models.Model):
    """One step of a product's work order (DOMAIN.md §2.2): resource check → survey → design → construction →
    data build → test → customer acceptance for lines; one to three review steps for platform products."""

    class Action(models.TextChoices):
        WORK = "work", _("Work")
        RESOURCE_CHECK = "resource_check", _("Resource check (reserves resources)")
        ACCEPTANCE = "acceptance", _("Customer acceptance (starts billing)")

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="step_templates", verbose_name=_("product")
    )
    sequence = models.PositiveSmallIntegerField(_("sequence"))
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    workstation = models.ForeignKey(
        "channels.Workstation", on_delete=models.PROTECT, related_name="+", verbose_name=_("workstation")
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices, default=Action.WORK)
    duration_hours = models.PositiveSmallIntegerField(
        _("time limit (working hours)"), default=8, help_text=_("From the step becoming ready to its completion.")
    )
    only_with_construction = models.BooleanField(_("only when construction is needed"), default=False)
    on_change = models.BooleanField(
        _("also on change orders"), default=True,
        help_text=_("A change of a service that exists (bandwidth, addresses, members) takes this step too."),
    )  # fmt: skip
    instructions = models.TextField(_("instructions"), blank=True, max_length=LONG_TEXT)

    objects = VisibleToAllQuerySet.as_manager()

    class Meta:
        ordering = ["product", "sequence"]
        verbose_name = _("work-order step template")
        verbose_name_plural = _("work-order step templates")
        constraints = [
            models.UniqueConstraint(fields=["product", "sequence"], name="%(app_label)s_%(class)s_unique_sequence"),
            models.CheckConstraint(
                condition=Q(duration_hours__gte=1, duration_hours__lte=2000), name="%(app_label)s_%(class)s_duration"
            ),
        ]

    def __str__(self):
        return f"{self.product_id}/{self.sequence} {self.name}"
