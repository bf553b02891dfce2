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


# --- provisioning: step templates (data), work orders (read-mostly: the services write them) ---------------


@admin.register(models.StepTemplate)
class StepTemplateAdmin(kam_admin.ModelAdmin):
    list_display = (
        "product",
        "sequence",
        "name",
        "workstation",
        "action",
        "duration_hours",
        "only_with_construction",
        "on_change",
    )
    list_filter = ("workstation", "action", "only_with_construction", "on_change")
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


# --- installed base and provisioning reference data -------------------------------------------------------------


class StepTemplateInline(kam_admin.TabularInline):
    model = models.StepTemplate
    extra = 0
    fields = (
        "sequence",
        "name",
        "name_en",
        "workstation",
        "action",
        "duration_hours",
        "only_with_construction",
        "on_change",
    )
    ordering = ("sequence",)


class ProductResourceNeedInline(kam_admin.TabularInline):
    model = models.ProductResourceNeed
    extra = 0


ProductAdmin.inlines = [*ProductAdmin.inlines, StepTemplateInline, ProductResourceNeedInline]


@admin.register(models.Resource)
class ResourceAdmin(kam_admin.ModelAdmin):
    """The inventory: rows are added (a new circuit batch, a number block) and retired here; who holds one is
    changed only by orders (reserve, in use, release), so those fields are read-only."""

    list_display = ("identifier", "kind", "region_code", "status", "subscription", "reserved_for", "released_at")
    list_filter = ("kind", "status", "region_code")
    search_fields = ("identifier",)
    list_select_related = ("subscription",)
    readonly_fields = ("reserved_for", "reserved_at", "subscription", "in_use_since", "released_at")

    def get_readonly_fields(self, request, obj=None):
        # a row in use or reserved keeps its state; a free or retired row may be retired or freed again
        held = obj is not None and obj.status in (models.Resource.Status.RESERVED, models.Resource.Status.IN_USE)
        return (*self.readonly_fields, "status", "kind", "identifier") if held else self.readonly_fields

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            kwargs["choices"] = [
                (value, label)
                for value, label in models.Resource.Status.choices
                if value in (models.Resource.Status.FREE, models.Resource.Status.RETIRED)
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # retire a row instead: its history (released_at, past subscriptions) stays


@admin.register(models.Subscription)
class SubscriptionAdmin(kam_admin.ReadOnlyAdminMixin, kam_admin.ModelAdmin):
    """Read-mostly: subscriptions change through orders (acceptance, change, termination)."""

    list_display = ("service_id", "customer", "product", "status", "bandwidth_mbps", "monthly_price", "started_on")
    list_filter = ("status", "product", "sla_class")
    search_fields = ("service_id", "customer__name")
    list_select_related = ("customer", "product")
    raw_id_fields = ("customer", "agreement")


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
