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
