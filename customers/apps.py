from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Key accounts")

    def ready(self):
        from customers import tier_views
        from customers.panels import register_panel

        # The 360 page's "tier and value" panel, first among the panels.
        register_panel(
            "tier", title=_("Tier and value"), template="customers/tiers/_panel.html",
            context=tier_views.tier_panel_context, order=10,
        )  # fmt: skip
