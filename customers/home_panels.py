"""The customers app's home-page panels (registered in CustomersConfig.ready() with kam.home)."""

from django.utils import timezone

from customers import policy, selectors
from customers.dashboard import home_dashboard


def dashboard_context(request) -> dict:
    """The tier / movement / coverage dashboard over the customers the user may see; account managers and
    supervisors also get their own totals, read off the (scoped) distribution."""
    user = request.user
    dashboard = home_dashboard(user=user)
    context = {
        "dashboard": dashboard,
        "chart": dashboard.chart(),
        "month": dashboard.moves.month.strftime("%Y-%m"),
        "portfolio": policy.serves_portfolio(user),
    }
    if context["portfolio"]:
        context["total"] = sum(row["count"] for row in dashboard.distribution)
    return context


def visits_due_context(request) -> dict:
    return {"visits_due": selectors.visits_due(user=request.user), "today": timezone.localdate()}
