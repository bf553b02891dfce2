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
        from orders.views import provisioning as provisioning_views

        register_menu_item("products", label=_("Products"), url_name="orders:product-list", order=150)

        # Agreements (协议): the list for who sells and oversees, the 360 panel (two queries), the notices.
        # The three orders panels of the 360 page are lazy (fetched by the page): they read the orders tables.
        register_menu_item(
            "agreements", label=_("Agreements"), url_name="orders:agreement-list", order=30,
            visible=policy.may_see_agreements,
        )  # fmt: skip
        register_panel(
            "agreements", title=_("Agreements"), template="orders/agreements/_customer_panel.html",
            context=agreement_views.customer_panel_context, order=30, lazy=True,
        )  # fmt: skip
        register_kind("agreement", label=_("Agreement"))

        # Order entry and the operations center's pre-acceptance queue.
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

        # Provisioning: the 360 "orders in flight" panel (a count, the orders, their current steps), the
        # workstations' desks, the operations board and the four-level assessment.
        register_kind("work_step", label=_("Work-order step"))
        register_kind("provisioning_warning", label=_("Step due soon"))
        register_kind("provisioning_escalation", label=_("Step overdue"))
        register_kind("provisioning_delay", label=_("Order late"))
        register_kind("order_completed", label=_("Order completed"))
        register_panel(
            "orders_in_flight", title=_("Orders in flight"), template="orders/provisioning/_customer_panel.html",
            context=provisioning_views.customer_panel_context, order=40, lazy=True,
        )  # fmt: skip
        register_menu_item(
            "my-steps", label=_("My steps"), url_name="orders:my-steps", order=15, visible=policy.works_steps
        )
        register_menu_item(
            "workstation-queue", label=_("Workstation queue"), url_name="orders:provisioning-queue", order=16,
            visible=policy.works_steps,
        )  # fmt: skip
        register_menu_item(
            "provisioning-board", label=_("Provisioning board"), url_name="orders:provisioning-board", order=116,
            visible=policy.may_see_operations_board,
        )  # fmt: skip
        register_menu_item(
            "provisioning-assessment", label=_("Provisioning assessment"), url_name="orders:provisioning-assessment",
            order=135, visible=policy.may_see_assessment,
        )  # fmt: skip

        # Installed base: the 360 "Subscriptions" panel and the "holds / does not hold product" criteria.
        register_panel(
            "subscriptions", title=_("Subscriptions"), template="orders/installed/_customer_panel.html",
            context=installed_views.customer_panel_context, order=45, lazy=True,
        )  # fmt: skip
        segments_installed.register()
