"""Admin as an operations console for the service desk's reference data: the ticket category tree and the SLA
policies (ordered: the first matching policy applies). Tickets themselves are read here, changed on the desk."""

from django.contrib import admin

from kam import admin_forms as kam_admin
from service import models
from service.services import knowledge


@admin.register(models.TicketCategory)
class TicketCategoryAdmin(kam_admin.ModelAdmin):
    list_display = ("name", "name_en", "parent", "kind", "queue", "is_active", "sort_order")
    list_filter = ("kind", "is_active", "queue")
    search_fields = ("name", "name_en")
    list_select_related = ("parent", "queue")
    autocomplete_fields = ("parent",)


@admin.register(models.SlaPolicy)
class SlaPolicyAdmin(kam_admin.ModelAdmin):
    list_display = (
        "sequence", "name", "kinds", "service_tiers", "sla_classes", "priority", "working_hours",
        "first_response_minutes", "resolution_minutes", "hard_cap_minutes", "is_active",
    )  # fmt: skip
    list_display_links = ("name",)
    list_filter = ("is_active", "priority", "working_hours")
    search_fields = ("name",)
    ordering = ("sequence", "id")


class TicketEventInline(kam_admin.TabularInline):
    model = models.TicketEvent
    extra = 0
    fields = ("at", "action", "actor", "to_user", "to_queue", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Ticket)
class TicketAdmin(kam_admin.ModelAdmin):
    list_display = ("number", "customer", "kind", "priority", "status", "owner", "queue", "created_at")
    list_filter = ("kind", "status", "priority", "channel", "queue")
    search_fields = ("number", "subject", "customer__name")
    list_select_related = ("customer", "owner", "queue")
    readonly_fields = (
        "number", "customer", "contact", "owner", "created_by", "created_at", "sla_policy", "first_response_due",
        "resolution_due", "first_response_at", "resolved_at", "closed_at", "repeat_of", "subscription",
    )  # fmt: skip
    inlines = [TicketEventInline]
    show_full_result_count = False


class KbScriptStepInline(kam_admin.TabularInline):
    model = models.KbScriptStep
    extra = 1
    fields = ("sequence", "question", "answer")


class KbArticleVersionInline(kam_admin.TabularInline):
    model = models.KbArticleVersion
    extra = 0
    fields = ("version", "title", "edited_by", "edited_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.KbArticle)
class KbArticleAdmin(kam_admin.ModelAdmin):
    list_display = ("title", "kind", "category", "is_published", "version", "useful", "not_useful", "updated_at")
    list_filter = ("kind", "is_published", "category")
    search_fields = ("title",)
    list_select_related = ("category",)
    readonly_fields = ("version", "updated_by", "updated_at", "useful", "not_useful")
    inlines = [KbScriptStepInline, KbArticleVersionInline]

    def save_model(self, request, obj, form, change):
        """Through the service: a changed title or text keeps the previous one as a version."""
        knowledge.article_save(obj, by=request.user)
