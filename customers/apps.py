from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Key accounts")

    def ready(self):
        from customers import exports, policy
        from customers.panels import register_panel
        from customers.views import customers as customers_views
        from customers.views import home, tiers
        from kam.home import register_home_panel
        from kam.navigation import register_menu_item

        # Segment members and the customer list can be exported; large exports run as channels' export jobs.
        exports.register()

        # The 360 page's "tier and value" panel, first among the panels.
        register_panel(
            "tier", title=_("Tier and value"), template="customers/tiers/_panel.html",
            context=tiers.tier_panel_context, order=10, lazy=True,
        )  # fmt: skip
        # Last on the page: who served the customer when, and every change (lazy like every panel).
        register_panel(
            "history", title=pgettext_lazy("customer page", "History"), template="customers/_history_panel.html",
            context=customers_views.history_panel_context, order=900, lazy=True,
        )  # fmt: skip

        register_menu_item(
            "customers", label=_("Customers"), url_name="customers:list", order=30, visible=policy.may_browse_customers
        )
        register_menu_item(
            "segments", label=_("Segments"), url_name="customers:segment-list", order=40,
            visible=policy.may_use_segments,
        )  # fmt: skip
        register_menu_item(
            "caller-lookup", label=_("Caller lookup"), url_name="customers:lookup", order=50,
            visible=policy.may_look_up_callers,
        )  # fmt: skip
        register_menu_item(
            "duplicates", label=_("Duplicates"), url_name="customers:duplicates", order=60,
            visible=policy.is_data_steward,
        )  # fmt: skip
        register_menu_item(
            "import", label=_("Import"), url_name="customers:import", order=70, visible=policy.is_data_steward
        )
        register_menu_item(
            "handover", label=_("Handover"), url_name="customers:handover", order=80, visible=policy.may_hand_over
        )
        register_menu_item(
            "coverage", label=_("Coverage"), url_name="customers:coverage", order=90,
            visible=policy.may_see_coverage,
        )  # fmt: skip
        register_menu_item(
            "tiers", label=_("Tiers"), url_name="customers:tier-evaluations", order=100,
            visible=policy.may_view_evaluations,
        )  # fmt: skip

        register_home_panel(
            "dashboard", template="customers/home/_dashboard.html", context=home.dashboard_context,
            order=10, visible=policy.may_see_dashboard, scripts=["vendor/chart.umd.min.js", "js/dashboard.js"],
            summary=True,
        )  # fmt: skip
        register_home_panel(
            "visits-due", template="customers/home/_visits_due.html", context=home.visits_due_context,
            order=20, visible=policy.serves_portfolio,
        )  # fmt: skip
        register_home_panel(
            "caller-lookup", template="customers/home/_caller_lookup.html", order=5, visible=policy.answers_calls,
        )  # fmt: skip
