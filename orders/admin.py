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


# --- provisioning: step templates (data), work orders (read-mostly: the services write them) ---------------


@admin.register(models.StepTemplate)
class StepTemplateAdmin(kam_admin.ModelAdmin):
    list_display = ("product", "sequence", "name", "workstation", "action", "duration_hours", "only_with_construction")
    list_filter = ("workstation", "action", "only_with_construction")
    search_fields = ("product__code", "name", "name_en")
    list_select_related = ("product", "workstation")
    autocomplete_fields = ("product",)


class WorkStepInline(kam_admin.TabularInline):
    model = models.WorkStep
    fields = ("sequence", "name", "workstation", "status", "assignee", "due_at", "completed_at", "on_time",
              "block_reason", "times_rejected")  # fmt: skip
    readonly_fields = fields
    extra = 0
    ordering = ("sequence",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workstation", "assignee")

    # Steps move through their actions (compare-and-set, events), never through the admin.
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.WorkOrder)
class WorkOrderAdmin(kam_admin.ModelAdmin):
    """Steps move through the pages and the API (compare-and-set, events); here they are read. An admin may
    correct the work order's due time or cancel it."""

    list_display = ("number", "customer", "status", "due_at", "created_at", "completed_at")
    list_filter = ("status",)
    search_fields = ("number", "customer__name")
    list_select_related = ("customer",)
    readonly_fields = ("number", "order_line", "customer", "created_at", "completed_at", "warned_at", "escalated_at")
    fields = ("number", "order_line", "customer", "status", "due_at", "created_at", "completed_at", "warned_at",
              "escalated_at")  # fmt: skip
    inlines = [WorkStepInline]

    def has_add_permission(self, request):
        return False  # work orders come from submitted orders

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.ProvisioningFailure)
class ProvisioningFailureAdmin(kam_admin.ReadOnlyAdminMixin, kam_admin.ModelAdmin):
    list_display = ("at", "line", "message", "retried_at", "retried_by")
    list_select_related = ("line", "retried_by")
    date_hierarchy = "at"
