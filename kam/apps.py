from django.apps import AppConfig
from django.contrib.staticfiles import apps as staticfiles_apps
from django.utils.translation import gettext_lazy as _


class KamConfig(AppConfig):
    name = "kam"

    def ready(self):
        from django.db.models import fields

        # The empty choice of every select (model choices, ModelChoiceField). Django 6.1's own label has no
        # zh-hans translation yet, so it is ours: the hook Django documents for changing it (RemovedInDjango2028).
        fields.BLANK_CHOICE_LABEL = _("- Select an option -")


class StaticFilesConfig(staticfiles_apps.StaticFilesConfig):
    """collectstatic without the API-docs package's ReDoc bundle: KAM serves Swagger UI only, and ReDoc's bundle
    names files on other servers (schema references, a validator's data file) — nothing unused that points
    outside is shipped."""

    ignore_patterns = [*staticfiles_apps.StaticFilesConfig.ignore_patterns, "drf_spectacular_sidecar/redoc/*"]
