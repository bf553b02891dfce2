"""What is sold to key accounts. This first part is the group product catalogue (DOMAIN.md §2.3);
agreements, orders, work orders and subscriptions follow in their own issue."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from channels.models import BilingualName
from kam.db import VisibleToAllQuerySet


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
