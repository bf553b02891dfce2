from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "channels"
    verbose_name = _("Channels and organisation")

    def ready(self):
        from channels import notifications
        from kam.navigation import register_menu_item

        register_menu_item("organisation", label=_("Organisation"), url_name="channels:matrix", order=160)
        register_menu_item(
            "notifications", label=_("Notifications"), url_name="channels:notifications", order=900,
            badge=notifications.unread_badge,
        )  # fmt: skip
