"""Admin forms refuse control characters like every other form (kam.form_helpers.RefuseControlCharacters):
admins edit customers, contacts and reference data too, and one bell character breaks every export after it.
Every ModelAdmin and inline derives from these (tests/test_architecture.py checks the registry)."""

from django.contrib import admin

from kam.form_helpers import RefuseControlCharacters


def refusing_control_characters(form_class):
    """The form class, with text fields that refuse control characters."""
    if issubclass(form_class, RefuseControlCharacters):
        return form_class
    return type(form_class.__name__, (RefuseControlCharacters, form_class), {"__module__": form_class.__module__})


class RefuseControlCharactersAdmin:
    """Mixin for a ModelAdmin (change form, list_editable rows) or an inline (its formset's form)."""

    def get_form(self, request, obj=None, **kwargs):
        return refusing_control_characters(super().get_form(request, obj, **kwargs))

    def get_changelist_form(self, request, **kwargs):
        return refusing_control_characters(super().get_changelist_form(request, **kwargs))

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = refusing_control_characters(formset.form)
        return formset


class ModelAdmin(RefuseControlCharactersAdmin, admin.ModelAdmin):
    pass


class TabularInline(RefuseControlCharactersAdmin, admin.TabularInline):
    pass


class ReadOnlyAdminMixin:
    """Rows written by services only (logs, computed facts): the admin reads them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
