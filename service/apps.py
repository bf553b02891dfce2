from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service")

    def ready(self):
        from channels import roles
        from channels.notifications import register_kind
        from customers.panels import register_panel
        from kam.navigation import register_menu_item
        from service import policy
        from service.views import tickets as ticket_views

        register_menu_item(
            "service-desk", label=_("Service desk"), url_name="service:desk", order=17,
            visible=policy.may_take_tickets,
        )  # fmt: skip
        register_menu_item(
            "my-tickets", label=_("My tickets"), url_name="service:my-queue", order=18,
            visible=lambda user: policy.may_take_tickets(user) or bool(user.workstation_id),
        )  # fmt: skip
        register_menu_item(
            "service-wall-board", label=_("Service wall board"), url_name="service:wall-board", order=117,
            visible=policy.may_see_wall_board,
        )  # fmt: skip
        register_menu_item(
            "follow-ups", label=_("Follow-up calls"), url_name="service:follow-ups", order=18,
            visible=policy.may_take_tickets,
        )  # fmt: skip
        register_menu_item(
            "sla-report", label=_("SLA report"), url_name="service:sla-report", order=118,
            visible=policy.may_see_wall_board,
        )  # fmt: skip
        register_menu_item(
            "knowledge-base", label=_("Knowledge base"), url_name="service:kb-list", order=19,
            visible=lambda user: user.role not in roles.SYSTEMS,
        )  # fmt: skip
        # The 360 page's "tickets" panel (two queries: the open count and the latest ten).
        register_panel(
            "tickets", title=_("Tickets"), template="service/_customer_panel.html",
            context=ticket_views.customer_panel_context, order=50, lazy=True,
        )  # fmt: skip

        register_kind("ticket", label=_("Ticket"))
        register_kind("ticket_sla_warning", label=_("Ticket deadline due soon"))
        register_kind("ticket_sla_breach", label=_("Ticket deadline overdue"))
