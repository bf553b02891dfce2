from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from kam.navigation import register_menu_item

        register_menu_item("products", label=_("Products"), url_name="orders:product-list", order=150)

        # Order entry (orders.services.ordering)
        from channels.notifications import register_kind
        from orders import policy

        register_kind("order", label=_("Order"))
        register_kind("pre_acceptance", label=_("Pre-acceptance form"))
        register_menu_item(
            "orders", label=_("Orders"), url_name="orders:order-list", order=32, visible=policy.may_enter_order
        )
        register_menu_item(
            "pre-acceptance", label=_("Pre-acceptance form"), url_name="orders:pre-acceptance-new", order=34,
            visible=lambda user: policy.may_submit_pre_acceptance(user) and not policy.may_enter_order(user),
        )  # fmt: skip
        register_menu_item(
            "pre-acceptance-queue", label=_("Pre-acceptance queue"), url_name="orders:pre-acceptance-queue",
            order=115, visible=policy.may_handle_pre_acceptance,
        )  # fmt: skip
