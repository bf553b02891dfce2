from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    name = "opportunities"
    verbose_name = _("Opportunities")

    def ready(self):
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from channels.models import ChannelType
        from channels.notifications import register_kind
        from customers.panels import register_panel
        from kam.navigation import register_menu_item
        from opportunities import policy, routing, views
        from opportunities.models import ClaimTimer, RoutingRule, StageSetting

        # The router's memo of reference rows is dropped as soon as one of them changes in this process.
        for model in (RoutingRule, ClaimTimer, ChannelType, StageSetting):
            post_save.connect(routing.forget, sender=model, dispatch_uid=f"routing-memo-save-{model.__name__}")
            post_delete.connect(routing.forget, sender=model, dispatch_uid=f"routing-memo-delete-{model.__name__}")
        for through in (RoutingRule.products.through, RoutingRule.contact_channels.through):
            m2m_changed.connect(routing.forget, sender=through, dispatch_uid=f"routing-memo-m2m-{through.__name__}")

        # The 360 page's "open opportunities" panel (two queries: a count and the newest ten).
        register_panel(
            "opportunities", title=_("Open opportunities"), template="opportunities/_customer_panel.html",
            context=views.customer_panel_context, order=20, lazy=True,
        )  # fmt: skip

        # Agreements nearing their end get a renewal opportunity (orders calls the hook in its daily sweep).
        from opportunities.renewals import open_renewals
        from orders.services.agreements import register_renewal_handler

        register_renewal_handler(open_renewals)

        register_kind("opportunity", label=_("Opportunity"))
        register_kind("stale", label=_("Stale opportunity"))

        register_menu_item(
            "my-opportunities", label=_("My opportunities"), url_name="opportunities:list", order=10,
            visible=policy.works_opportunities,
        )  # fmt: skip
        register_menu_item(
            "capture", label=_("Capture"), url_name="opportunities:capture", order=20, visible=policy.may_capture
        )
        register_menu_item(
            "dispatch-board", label=_("Dispatch board"), url_name="opportunities:board", order=110,
            visible=policy.may_dispatch,
        )  # fmt: skip
        # What the contact channel passed on: everyone who captures.
        register_menu_item(
            "passed-on", label=_("Passed on"), url_name="opportunities:passed_on", order=120,
            visible=policy.may_capture,
        )  # fmt: skip
        register_menu_item(
            "pipeline", label=_("Pipeline"), url_name="opportunities:pipeline", order=130,
            visible=policy.may_see_pipeline,
        )  # fmt: skip
        register_menu_item(
            "rule-tester", label=_("Rule tester"), url_name="opportunities:rule_test", order=140,
            visible=policy.may_dispatch,
        )  # fmt: skip
