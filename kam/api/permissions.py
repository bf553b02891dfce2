"""Function-level API permissions. Row-level scoping is the querysets' job (visible_to, enforced by
kam.api.viewsets.ScopedViewSet), not this module's."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated


class ReadOnlyRolesCannotWrite(BasePermission):
    """Read-only roles (analysts) get 403 on every write, before the input is even looked at.

    They may see every object, so a 403 tells them nothing new; people who cannot see an object
    still get the 404 from the scoped queryset because this check passes them through."""

    message = _("Your role has read-only access.")

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or not getattr(request.user, "is_read_only", False)


# What every viewset of the apps starts from: a signed-in caller, and no writes from read-only roles.
PERMISSIONS = [IsAuthenticated, ReadOnlyRolesCannotWrite]
