from axes import apps as axes_apps
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "channels"
    verbose_name = _("Channels and organisation")

    def ready(self):
        from django.db.models.signals import post_save, pre_save

        from channels import notifications, tokens
        from kam.navigation import register_menu_item

        # A new password, an unusable one or deactivation revokes every API token of the user.
        user = self.get_model("User")
        pre_save.connect(tokens.remember_credentials, sender=user, dispatch_uid="channels.tokens.remember")
        post_save.connect(tokens.revoke_on_credentials_change, sender=user, dispatch_uid="channels.tokens.revoke")

        # Exports prepared in the background tell their requester when the file is ready (or why it is not).
        notifications.register_kind("export_ready", label=_("Export ready"))
        notifications.register_kind("export_failed", label=_("Export failed"))

        register_menu_item("organisation", label=_("Organisation"), url_name="channels:matrix", order=160)
        register_menu_item(
            "notifications", label=_("Notifications"), url_name="channels:notifications", order=900,
            badge=notifications.unread_badge,
        )  # fmt: skip


class AxesConfig(axes_apps.AppConfig):
    """django-axes (login throttling) under a name an admin reads in their language."""

    verbose_name = _("Login protection")


class KnoxConfig(AppConfig):
    """django-rest-knox (expiring API tokens), likewise."""

    name = "knox"
    verbose_name = _("API tokens")
