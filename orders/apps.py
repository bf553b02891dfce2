from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from channels.notifications import register_kind
        from customers.panels import register_panel
        from kam.navigation import register_menu_item
        from orders import policy, segments_installed
        from orders.views import agreements as agreement_views
        from orders.views import installed as installed_views

        register_menu_item("products", label=_("Products"), url_name="orders:product-list", order=150)

        # Agreements (协议): the list for who sells and oversees, the 360 panel (two queries), the notices.
        register_menu_item(
            "agreements", label=_("Agreements"), url_name="orders:agreement-list", order=30,
            visible=policy.may_see_agreements,
        )  # fmt: skip
        register_panel(
            "agreements", title=_("Agreements"), template="orders/agreements/_customer_panel.html",
            context=agreement_views.customer_panel_context, order=30,
        )  # fmt: skip
        register_kind("agreement", label=_("Agreement"))
        # Installed base: the 360 "Subscriptions" panel and the "holds / does not hold product" criteria.
        register_panel(
            "subscriptions", title=_("Subscriptions"), template="orders/installed/_customer_panel.html",
            context=installed_views.customer_panel_context, order=45,
        )  # fmt: skip
        segments_installed.register()
