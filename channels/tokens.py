"""API tokens (django-rest-knox): issued by POST /api/v1/auth/token/, sent as `Authorization: Token <token>`.

Knox stores a hash of each token and its first 15 characters (`token_key`, the *prefix* that lists show and that
revokes it); the token itself appears once, in the answer that issues it. Every login gets its own token (one per
client), and every token expires: REST_KNOX["TOKEN_TTL"] for people, KAM_API_TOKEN_TTL_INTEGRATION for integration
logins (settings). A login beyond KAM_API_TOKENS_PER_USER live tokens revokes the oldest ones, so a client that
never logs out cannot pile them up (knox reads all of a user's tokens on every request).

All of a user's tokens are revoked when the password changes (`set_password` + `save`, however it is reached: the
admin, the password reset and change forms, `manage.py changepassword`), when it is made unusable, and when the
account is deactivated (`is_active=False`) — `revoke_on_credentials_change`, connected in ChannelsConfig.ready().
Django's own rehash of the same password at login (a stronger hasher) revokes nothing. Sessions need no help:
Django ends them itself (a session carries a hash of the password, and inactive users are not loaded). A bulk
`QuerySet.update(is_active=False)` sends no signal: deactivate through `save()`, as the admin does."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import knox_settings

from channels import roles
from kam.db import ScopedQuerySet


class ApiTokenQuerySet(ScopedQuerySet):
    def scope(self, user):
        """Everyone sees (and revokes) their own tokens only."""
        return self.filter(user=user)


def api_tokens() -> ApiTokenQuerySet:
    """Knox's tokens, to be scoped with `visible_to(user)`."""
    return ApiTokenQuerySet(model=AuthToken)


def api_token_ttl(user) -> timedelta:
    if user.role in roles.SYSTEMS:
        return settings.KAM_API_TOKEN_TTL_INTEGRATION
    return knox_settings.TOKEN_TTL


@transaction.atomic
def api_token_issue(*, user) -> tuple[AuthToken, str]:
    """A new token for `user`: the row and the token itself (shown once, never stored)."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    token, secret = AuthToken.objects.create(user=user, expiry=api_token_ttl(user))
    newest_first = AuthToken.objects.filter(user=user).order_by("-created", "-pk").values_list("pk", flat=True)
    AuthToken.objects.filter(pk__in=list(newest_first[settings.KAM_API_TOKENS_PER_USER :])).delete()
    return token, secret


def api_token_revoke(*, user, prefix: str) -> int:
    """Revoke `user`'s token with this prefix; 0 when there is none among theirs."""
    deleted, _ = api_tokens().visible_to(user).filter(token_key=prefix).delete()
    return deleted


def api_tokens_revoke_all(*, user) -> int:
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


# --- revocation when the credentials change -------------------------------------------------------------------

_WATCHED = {"password", "is_active"}


def remember_credentials(sender, instance, update_fields=None, **kwargs):
    """pre_save of the user model: the stored password and active flag, to compare after the save."""
    instance._credentials_before = None
    if instance.pk is None or (update_fields is not None and not _WATCHED & set(update_fields)):
        return
    instance._credentials_before = sender._default_manager.filter(pk=instance.pk).values(*_WATCHED).first()


def revoke_on_credentials_change(sender, instance, created=False, **kwargs):
    """post_save of the user model: revoke every API token after a new password, an unusable one or deactivation.

    `_password` holds the new raw password between `set_password()` and the end of `save()`: Django's own signal
    to the password validators (AbstractBaseUser.save). Its rehash at login clears it before saving."""
    before = getattr(instance, "_credentials_before", None)
    if created or before is None:
        return
    new_password = getattr(instance, "_password", None) is not None
    deactivated = before["is_active"] and not instance.is_active
    disabled = before["password"] != instance.password and not instance.has_usable_password()
    if new_password or deactivated or disabled:
        api_tokens_revoke_all(user=instance)
