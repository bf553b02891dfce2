from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    name = "opportunities"
    verbose_name = _("Opportunities")

    def ready(self):
        from customers.panels import register_panel
        from opportunities import views

        # The 360 page's "open opportunities" panel (two queries: a count and the newest ten).
        register_panel(
            "opportunities", title=_("Open opportunities"), template="opportunities/_customer_panel.html",
            context=views.customer_panel_context, order=20,
        )  # fmt: skip
