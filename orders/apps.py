from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from kam.navigation import register_menu_item

        register_menu_item("products", label=_("Products"), url_name="orders:product-list", order=150)
