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


# --- order entry: templates, lead times and accepting channels on the product; orders; pre-acceptance forms ---


class OrderFieldInline(kam_admin.TabularInline):
    model = models.OrderField
    extra = 0
    fields = ("sort_order", "key", "name", "name_en", "kind", "required", "min_value", "max_value", "max_length",
              "choices", "help_text")  # fmt: skip


ProductAdmin.inlines = [*getattr(ProductAdmin, "inlines", []), OrderFieldInline]
ProductAdmin.filter_horizontal = (*getattr(ProductAdmin, "filter_horizontal", ()), "accepting_channels")
ProductAdmin.list_display = (*ProductAdmin.list_display, "lead_time_days", "construction_lead_time_days")


class OrderLineInline(kam_admin.TabularInline):
    model = models.OrderLine
    extra = 0
    fields = ("product", "quantity", "unit_price", "discount", "values", "subscription", "status", "provisioning_type")
    raw_id_fields = ("subscription",)


@admin.register(models.Order)
class OrderAdmin(kam_admin.ModelAdmin):
    list_display = ("number", "customer", "kind", "status", "source", "intake_channel", "committed_on", "created_at")
    list_filter = ("status", "kind", "source")
    search_fields = ("number", "customer__name")
    raw_id_fields = ("customer", "agreement", "created_by", "approved_by")
    readonly_fields = ("number", "created_at")
    list_select_related = ("customer", "intake_channel")
    inlines = [OrderLineInline]


@admin.register(models.PreAcceptance)
class PreAcceptanceAdmin(kam_admin.ModelAdmin):
    list_display = ("id", "customer", "product", "channel", "status", "submitted_by", "submitted_at")
    list_filter = ("status", "channel")
    search_fields = ("customer__name", "details")
    raw_id_fields = ("customer", "submitted_by", "handled_by", "order")
    list_select_related = ("customer", "product", "channel", "submitted_by")
