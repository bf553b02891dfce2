"""Agreements (协议, seed 003): drafted from a template, approved inside, signed, numbered once effective,
and after that changed only by named editors, each change a new version with the diff, who and why."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels.models import BilingualName
from customers.models import CustomerOwnedQuerySet
from kam.db import VisibleToAllQuerySet


class SlaClass(models.TextChoices):
    """Circuit service levels (DOMAIN.md §5.2, China Mobile AAA/AA/A) and the standard level."""

    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    STANDARD = "standard", _("Standard")


class AgreementTemplate(BilingualName):
    """A standard agreement text with its default terms (seed 003 协议: standard templates)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    body = models.TextField(_("standard text"), blank=True, max_length=20000)
    products = models.ManyToManyField("orders.Product", blank=True, related_name="+", verbose_name=_("products"))
    default_term_months = models.PositiveSmallIntegerField(_("default term (months)"), default=12)
    default_discount_cap = models.DecimalField(_("default discount cap (%)"), max_digits=5, decimal_places=2, default=0)
    default_sla_class = models.CharField(
        _("default SLA class"), max_length=10, choices=SlaClass.choices, default=SlaClass.STANDARD
    )
    auto_renewal = models.BooleanField(_("renews automatically"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = VisibleToAllQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("agreement template")
        verbose_name_plural = _("agreement templates")


class Agreement(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_APPROVAL = "in_approval", _("In approval")
        SIGNED = "signed", _("Signed")
        EFFECTIVE = "effective", _("Effective")
        EXPIRED = "expired", pgettext_lazy("agreement", "Expired")
        TERMINATED = "terminated", _("Terminated")

    number = models.CharField(_("number"), max_length=12, unique=True, null=True, blank=True, editable=False)  # noqa: DJ001 - numbered once effective
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="agreements", verbose_name=_("customer")
    )
    template = models.ForeignKey(
        AgreementTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("template")
    )
    title = models.CharField(pgettext_lazy("document", "title"), max_length=200)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=1)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    term_months = models.PositiveSmallIntegerField(_("term (months)"), default=12)
    auto_renewal = models.BooleanField(_("renews automatically"), default=False)
    sla_class = models.CharField(_("SLA class"), max_length=10, choices=SlaClass.choices, default=SlaClass.STANDARD)
    discount_cap = models.DecimalField(_("discount cap (%)"), max_digits=5, decimal_places=2, default=0)
    terms = models.TextField(_("terms"), blank=True, max_length=20000)
    editors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="editable_agreements", verbose_name=_("named editors"),
        help_text=_("Who may change the agreement once it is effective."),
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("drafted by")
    )
    created_at = models.DateTimeField(_("drafted at"), default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(_("submitted for approval"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("approved by"),
    )  # fmt: skip
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approval_note = models.CharField(_("approval note"), max_length=300, blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    effective_at = models.DateTimeField(_("effective since"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=300, blank=True)
    # Expiry reminders: the smallest threshold (days ahead) already announced, so each goes out once.
    reminded_days = models.PositiveSmallIntegerField(_("reminded at (days ahead)"), null=True, blank=True)
    renewal_requested_at = models.DateTimeField(_("renewal opportunity requested"), null=True, blank=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        indexes = [
            # the expiry sweep reads effective agreements by end date
            models.Index(fields=["ends_on"], condition=Q(status="effective"), name="agr_effective_end_idx"),
            models.Index(fields=["customer", "status"], name="agr_customer_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "in_approval", "signed", "effective", "expired", "terminated"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(discount_cap__gte=0, discount_cap__lte=100), name="%(app_label)s_%(class)s_cap_range"
            ),
            models.CheckConstraint(
                condition=Q(term_months__gte=1, term_months__lte=120), name="%(app_label)s_%(class)s_term_range"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(starts_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="%(app_label)s_%(class)s_dates",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(status__in=["effective", "expired", "terminated"]),
                name="%(app_label)s_%(class)s_numbered_when_effective",
            ),
        ]

    def __str__(self):
        return self.number or self.title


class AgreementItem(models.Model):
    """A product the agreement covers, at a price within the product's range and a discount within the cap."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="items", verbose_name=_("agreement")
    )
    product = models.ForeignKey("orders.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    unit_price = models.DecimalField(_("unit price (RMB/month)"), max_digits=12, decimal_places=2)
    discount = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=0)
    max_quantity = models.PositiveIntegerField(_("maximum quantity"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["agreement", "product__sort_order"]
        verbose_name = _("agreement item")
        verbose_name_plural = _("agreement items")
        constraints = [
            models.UniqueConstraint(fields=["agreement", "product"], name="%(app_label)s_%(class)s_one_per_product"),
            models.CheckConstraint(
                condition=Q(discount__gte=0, discount__lte=100), name="%(app_label)s_%(class)s_discount_range"
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="%(app_label)s_%(class)s_price_positive"),
        ]

    def __str__(self):
        return f"{self.agreement_id}/{self.product_id}"


class AgreementChildQuerySet(CustomerOwnedQuerySet):
    customer_field = "agreement__customer"


class AgreementVersion(models.Model):
    """One change of an agreement: the version it produced, the diff (field → [before, after]), who and why,
    and the whole agreement as it stood afterwards."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="versions", verbose_name=_("agreement")
    )
    version = models.PositiveIntegerField(_("version"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("changed by")
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    changes = models.JSONField(_("changes"), default=dict)
    snapshot = models.JSONField(_("agreement as changed"), default=dict)

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "-version"]
        verbose_name = _("agreement version")
        verbose_name_plural = _("agreement versions")
        constraints = [
            models.UniqueConstraint(fields=["agreement", "version"], name="%(app_label)s_%(class)s_unique"),
        ]

    def __str__(self):
        return f"{self.agreement_id} v{self.version}"
