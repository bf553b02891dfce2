from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KamConfig(AppConfig):
    name = "kam"

    def ready(self):
        from django.db.models import fields

        # The empty choice of every select (model choices, ModelChoiceField). Django 6.1's own label has no
        # zh-hans translation yet, so it is ours: the hook Django documents for changing it (RemovedInDjango2028).
        fields.BLANK_CHOICE_LABEL = _("- Select an option -")
