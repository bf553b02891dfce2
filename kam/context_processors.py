"""The main navigation, from the registry the apps fill (kam.navigation)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kam.navigation import menu_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = menu_for(request)
    if user.is_staff:
        items.append({"key": "admin", "label": _("Admin"), "url": reverse("admin:index")})
    return {"nav_items": items}
