"""The home page: a small dashboard that fits the role."""

from datetime import date

from django.shortcuts import render
from django.views.decorators.http import require_GET

from channels.models import Role
from customers import selectors
from customers.dashboard import home_dashboard

PORTFOLIO_ROLES = (Role.ACCOUNT_MANAGER, Role.PHONE_ACCOUNT_MANAGER, Role.SUPERVISOR)
# Who gets the tier / movement / coverage dashboard (over the customers they may see). Call-center agents
# and dispatchers get the start links instead: the dashboard quotes revenue and staffing.
DASHBOARD_ROLES = (*PORTFOLIO_ROLES, Role.ANALYST, Role.DATA_STEWARD, Role.ADMIN)


@require_GET
def home(request):
    user = request.user
    context = {"portfolio": user.role in PORTFOLIO_ROLES, "dashboard": None}
    if user.role in DASHBOARD_ROLES or user.is_superuser:
        dashboard = home_dashboard(user=user)
        context["dashboard"] = dashboard
        context["chart"] = dashboard.chart()
        context["month"] = dashboard.moves.month.strftime("%Y-%m")
    if context["portfolio"]:
        # The account manager's own counts, read off the (scoped) distribution, then the due visits.
        rows = context["dashboard"].distribution
        context["tiers"] = [(row["tier"], row["label"], row["count"]) for row in rows if row["tier"]]
        context["untiered"] = sum(row["count"] for row in rows if not row["tier"])
        context["total"] = sum(row["count"] for row in rows)
        context["visits_due"] = selectors.visits_due(user=user)
        context["today"] = date.today()
    return render(request, "home.html", context)
