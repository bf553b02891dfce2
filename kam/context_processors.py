"""Navigation that fits each role."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from channels.models import Notification, Role

# (label, url name, roles that see it; None = everyone signed in)
NAVIGATION = [
    (_("Home"), "home", None),
    (
        _("My opportunities"),
        "opportunities:list",
        {Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.PHONE_ACCOUNT_MANAGER, Role.PARTNER},
    ),
    # opportunities.services.may_capture: every channel captures, except read-only and feed logins
    (_("Capture"), "opportunities:capture", set(Role) - {Role.ANALYST, Role.INTEGRATION}),
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
    # opportunities.board_views (dispatch board, passed on, pipeline, rule tester)
    (_("Dispatch board"), "opportunities:board", {Role.DISPATCHER, Role.ADMIN}),
    (
        _("Passed on"),
        "opportunities:passed_on",
        {
            Role.ACCOUNT_MANAGER,
            Role.SUPERVISOR,
            Role.PHONE_ACCOUNT_MANAGER,
            Role.AGENT,
            Role.DISPATCHER,
            Role.DATA_STEWARD,
            Role.PARTNER,
            Role.ADMIN,
        },
    ),
    (
        _("Pipeline"),
        "opportunities:pipeline",
        {Role.ACCOUNT_MANAGER, Role.PHONE_ACCOUNT_MANAGER, Role.SUPERVISOR, Role.DISPATCHER, Role.ANALYST, Role.ADMIN},
    ),
    (_("Rule tester"), "opportunities:rule_test", {Role.DISPATCHER, Role.ADMIN}),
    (_("Products"), "orders:product-list", None),
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
    # One indexed query (the partial index on unread rows) per request for the badge: panels rendered
    # with the request run the context processors again.
    unread = getattr(request, "_kam_unread_notifications", None)
    if unread is None:
        unread = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        request._kam_unread_notifications = unread
    items.append({"label": _("Notifications"), "url": reverse("opportunities:notifications"), "badge": unread})
    if user.is_staff:
        items.append({"label": _("Admin"), "url": reverse("admin:index")})
    return {"nav_items": items, "unread_notifications": unread}
