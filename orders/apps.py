from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from kam.navigation import register_menu_item

        register_menu_item("products", label=_("Products"), url_name="orders:product-list", order=150)

        # Installed base: the 360 "Subscriptions" panel and the "holds / does not hold product" criteria.
        from customers.panels import register_panel
        from orders import segments_installed
        from orders.views import installed as installed_views

        register_panel(
            "subscriptions", title=_("Subscriptions"), template="orders/installed/_customer_panel.html",
            context=installed_views.customer_panel_context, order=45,
        )  # fmt: skip
        segments_installed.register()
