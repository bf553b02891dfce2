"""Admin: the routing and stage reference data are edited here; opportunities and their transfer log are
read-mostly (routing, claims, stages and closing go through opportunities.services, which log every step)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kam import admin_forms as kam_admin
from opportunities import models


@admin.register(models.RoutingRule)
class RoutingRuleAdmin(kam_admin.ModelAdmin):
    list_display = ("name", "priority", "is_active", "kind", "customer_condition", "target", "second_cover",
                    "capacity", "updated_at")  # fmt: skip
    list_display_links = ("name",)
    list_editable = ("priority", "is_active")
    list_filter = ("is_active", "target", "customer_condition", "kind", "second_cover", "use_channel_matrix")
    list_select_related = ("target_team", "target_user")
    search_fields = ("name",)
    filter_horizontal = ("products", "contact_channels")
    autocomplete_fields = ("target_team", "target_user")
    fieldsets = (
        (None, {"fields": ("name", "priority", "is_active")}),
        (
            _("Conditions"),
            {
                "fields": (
                    "kind",
                    "customer_condition",
                    "tiers",
                    "region_prefixes",
                    "industries",
                    "products",
                    "contact_channels",
                    "amount_min",
                    "amount_max",
                    "use_channel_matrix",
                )
            },
        ),  # fmt: skip
        (_("Target"), {"fields": ("target", "target_team", "target_user", "second_cover", "capacity")}),
    )


@admin.register(models.StageSetting)
class StageSettingAdmin(kam_admin.ModelAdmin):
    list_display = ("stage", "probability", "stale_days", "sort_order")
    list_editable = ("probability", "stale_days", "sort_order")


@admin.register(models.ClaimTimer)
class ClaimTimerAdmin(kam_admin.ModelAdmin):
    list_display = ("tier", "claim_hours", "return_hours", "first_contact_hours", "qualify_days", "idle_days")
    list_display_links = ("tier",)
    list_editable = ("claim_hours", "return_hours", "first_contact_hours", "qualify_days", "idle_days")


@admin.register(models.CloseReason)
class CloseReasonAdmin(kam_admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "applies_to_won", "is_active", "sort_order")
    list_editable = ("is_active", "sort_order")
    list_filter = ("applies_to_won", "is_active")
    search_fields = ("code", "name", "name_en")


class ReadOnlyInline(kam_admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TransferInline(ReadOnlyInline):
    model = models.Transfer
    fields = ("at", "action", "from_user", "from_channel", "to_user", "to_channel", "to_partner", "by", "reason",
              "rule_name")  # fmt: skip
    readonly_fields = fields


class StageChangeInline(ReadOnlyInline):
    model = models.StageChange
    fields = ("at", "from_stage", "to_stage", "days_in_stage", "by", "note")
    readonly_fields = fields


# What an admin may correct by hand: descriptive fields only. Routing, claim, stage and close fields change
# through the services (which keep the transfer log and stage history).
OPPORTUNITY_EDITABLE = ("title", "description", "contact_name", "contact_phone", "key_person", "informatisation",
                        "next_action", "next_action_due")  # fmt: skip


@admin.register(models.Opportunity)
class OpportunityAdmin(kam_admin.ModelAdmin):
    list_display = ("code", "title", "kind", "customer", "stage", "routing_status", "assigned_to",
                    "assigned_channel", "claim_due_at", "created_at")  # fmt: skip
    list_select_related = ("customer", "assigned_to", "assigned_channel")
    list_filter = ("kind", "routing_status", "stage", "assigned_channel", "contact_channel", "need_type")
    search_fields = ("code", "title", "customer__name")
    date_hierarchy = "created_at"
    show_full_result_count = False  # no COUNT(*) over the whole table on every page
    inlines = [TransferInline, StageChangeInline]

    def get_readonly_fields(self, request, obj=None):
        meta = self.model._meta
        return [f.name for f in (*meta.fields, *meta.many_to_many) if f.name not in OPPORTUNITY_EDITABLE]

    def has_add_permission(self, request):
        return False  # capture goes through opportunities.services.capture (numbering, routing)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Transfer)
class TransferAdmin(kam_admin.ReadOnlyAdminMixin, kam_admin.ModelAdmin):
    list_display = ("at", "opportunity", "action", "from_user", "to_user", "to_channel", "by", "rule_name")
    list_select_related = ("opportunity", "from_user", "to_user", "to_channel", "by")
    list_filter = ("action", "to_channel")
    search_fields = ("opportunity__code", "opportunity__title", "reason", "rule_name")
    date_hierarchy = "at"
    show_full_result_count = False
