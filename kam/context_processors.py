"""Navigation that fits each role."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from channels.models import Role

# (label, url name, roles that see it; None = everyone signed in)
NAVIGATION = [
    (_("Home"), "home", None),
    (_("Customers"), "customers:list", None),
    (_("Segments"), "customers:segment-list", None),
    (_("Caller lookup"), "customers:lookup", {Role.AGENT, Role.DISPATCHER, Role.ADMIN}),
    (_("Duplicates"), "customers:duplicates", {Role.DATA_STEWARD, Role.ADMIN}),
    (_("Import"), "customers:import", {Role.DATA_STEWARD, Role.ADMIN}),
    (_("Handover"), "customers:handover", {Role.SUPERVISOR, Role.ADMIN}),
    # customers.coverage.COVERAGE_ROLES and customers.tiering.may_view_evaluations
    (
        _("Coverage"),
        "customers:coverage",
        {
            Role.ACCOUNT_MANAGER,
            Role.PHONE_ACCOUNT_MANAGER,
            Role.SUPERVISOR,
            Role.ANALYST,
            Role.DATA_STEWARD,
            Role.ADMIN,
        },
    ),
    (_("Tiers"), "customers:tier-evaluations", {Role.SUPERVISOR, Role.ANALYST, Role.ADMIN}),
    (_("Organisation"), "channels:matrix", None),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, url_name, roles in NAVIGATION:
        if roles is None or user.role in roles or user.is_superuser:
            items.append({"label": label, "url": reverse(url_name)})
    if user.is_staff:
        items.append({"label": _("Admin"), "url": reverse("admin:index")})
    return {"nav_items": items}
