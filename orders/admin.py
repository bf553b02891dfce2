"""Admin as an operations console. The catalogue is reference data that opportunities and orders point to:
a product is retired (inactive or legacy), never deleted."""

from django.contrib import admin
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext_lazy as _

from kam import admin_forms as kam_admin
from orders import models


@admin.register(models.Product)
class ProductAdmin(kam_admin.ModelAdmin):
    list_display = ("code", "name", "category", "provisioning_type", "price_range", "is_active", "legacy")
    list_filter = ("category", "provisioning_type", "scope", "is_active", "legacy", "needs_contract")
    search_fields = ("code", "name", "name_en")
    list_per_page = 100  # the whole catalogue on one page

    @admin.display(description=_("list price (RMB/month)"), ordering="list_price_min")
    def price_range(self, product: models.Product) -> str:
        low, high = product.list_price_min, product.list_price_max
        if low is None and high is None:
            return "—"
        return "–".join(floatformat(value, "-2g") if value is not None else "…" for value in (low, high))

    def has_delete_permission(self, request, obj=None):
        return False  # opportunities, orders and subscriptions point to products: retire them instead


# --- agreements ----------------------------------------------------------------------------------------


@admin.register(models.AgreementTemplate)
class AgreementTemplateAdmin(kam_admin.ModelAdmin):
    list_display = ("code", "name", "default_term_months", "default_discount_cap", "default_sla_class",
                    "auto_renewal", "is_active")  # fmt: skip
    list_filter = ("is_active", "auto_renewal", "default_sla_class")
    search_fields = ("code", "name", "name_en")
    filter_horizontal = ("products",)


class AgreementItemInline(kam_admin.TabularInline):
    model = models.AgreementItem
    extra = 0
    autocomplete_fields = ("product",)


class AgreementVersionInline(kam_admin.TabularInline):
    """The history is written by orders.services.agreements only: read here, never added, changed or deleted."""

    model = models.AgreementVersion
    extra = 0
    fields = ("version", "changed_by", "changed_at", "reason", "changes")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Agreement)
class AgreementAdmin(kam_admin.ModelAdmin):
    """An operations console: the life cycle and the versions go through the pages and the API (the services
    check the terms and write the history); here an admin reads and corrects."""

    list_display = ("__str__", "title", "customer", "status", "version", "starts_on", "ends_on")
    list_filter = ("status", "sla_class", "auto_renewal")
    search_fields = ("number", "title", "customer__name")
    list_select_related = ("customer",)
    raw_id_fields = ("customer", "created_by", "approved_by")
    filter_horizontal = ("editors",)
    readonly_fields = ("number", "version", "created_at", "reminded_days", "renewal_requested_at")
    inlines = [AgreementItemInline, AgreementVersionInline]
    show_full_result_count = False
