from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.utils import reset as axes_reset
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

from channels import models
from kam import admin_forms as kam_admin


class ResponsibilityInline(kam_admin.TabularInline):
    model = models.ChannelResponsibility
    extra = 0


@admin.register(models.ChannelType)
class ChannelTypeAdmin(kam_admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "sort_order")
    search_fields = ("code", "name", "name_en")
    inlines = [ResponsibilityInline]


@admin.register(models.Team)
class TeamAdmin(kam_admin.ModelAdmin):
    list_display = ("name", "industry", "supervisor")
    list_select_related = ("industry", "supervisor")
    search_fields = ("name",)
    autocomplete_fields = ("supervisor",)


@admin.register(models.Partner)
class PartnerAdmin(kam_admin.ModelAdmin):
    list_display = ("name", "channel_type", "is_core", "region_code", "is_active")
    list_filter = ("is_core", "is_active", "channel_type")
    list_select_related = ("channel_type",)
    search_fields = ("name",)


@admin.register(models.User)
class UserAdmin(kam_admin.RefuseControlCharactersAdmin, DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "team", "channel_type", "is_active")
    list_filter = ("role", "team", "channel_type", "is_active", "is_staff")
    list_select_related = ("team", "channel_type")
    search_fields = ("username", "display_name", "first_name", "last_name", "email", "mobile")
    autocomplete_fields = ("team", "partner")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            _("Organisation"),
            {"fields": ("display_name", "mobile", "role", "channel_type", "team", "partner", "capacity")},
        ),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Organisation"), {"fields": ("display_name", "role", "channel_type", "team")}),
    )
    actions = ["unlock_logins"]

    @admin.action(description=_("Unlock the logins of the selected staff"), permissions=["change"])
    def unlock_logins(self, request, queryset):
        """Forget their failed logins from every address (kam.lockout); the failure log stays for the audit."""
        count = sum(axes_reset(username=username) for username in queryset.values_list("username", flat=True))
        self.message_user(request, gettext("Unlocked; failed-login records removed: %(count)d.") % {"count": count})


@admin.register(models.Notification)
class NotificationAdmin(kam_admin.ModelAdmin):
    """Read-only: notifications are written by channels.notifications.notify and sent by its task."""

    list_display = ("created_at", "recipient", "kind", "title", "urgent", "read_at", "sent_at")
    list_select_related = ("recipient",)
    list_filter = ("kind", "urgent")
    search_fields = ("title", "recipient__username", "recipient__display_name")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.ExportJob)
class ExportJobAdmin(kam_admin.ModelAdmin):
    """Export jobs are written by channels.exports only: read them here (a stuck or failed one, who exports what)."""

    list_display = ("id", "user", "kind", "title", "format", "status", "row_count", "created_at", "expires_at")
    list_filter = ("status", "kind", "format")
    list_select_related = ("user",)
    search_fields = ("title", "user__username")
    readonly_fields = [f.name for f in models.ExportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- the admins of the libraries KAM uses for accounts: the same form rule, labels in the site's language ------


@admin.display(description=_("Token key (first characters)"))
def _token_key(token):
    return token.token_key


@admin.display(description=_("Created"), ordering="created")
def _token_created(token):
    return token.created


@admin.display(description=_("Expires"), ordering="expiry")
def _token_expiry(token):
    return token.expiry


def _reregister(model, **attributes):
    """Register a library's admin again with control characters refused (and any attributes replaced)."""
    library_admin = type(admin.site._registry[model])
    admin.site.unregister(model)
    admin.site.register(
        model, type(library_admin.__name__, (kam_admin.RefuseControlCharactersAdmin, library_admin), attributes)
    )


_reregister(Group)
_reregister(AuthToken, list_display=(_token_key, "user", _token_created, _token_expiry))
for _model in (AccessAttempt, AccessLog, AccessFailureLog):
    if _model in admin.site._registry:
        _reregister(_model)


@admin.register(models.Workstation)
class WorkstationAdmin(kam_admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "manager", "is_it_support", "sort_order")
    list_select_related = ("manager",)
    search_fields = ("code", "name", "name_en")
    autocomplete_fields = ("manager",)


@admin.register(models.CalendarDay)
class CalendarDayAdmin(kam_admin.ModelAdmin):
    """Holidays and worked weekend days: entered each year from the State Council's notice."""

    list_display = ("date", "name", "is_working_day")
    list_filter = ("is_working_day",)
    search_fields = ("name",)
    date_hierarchy = "date"
