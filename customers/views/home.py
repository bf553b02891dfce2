"""The customers app's home-page panels (registered in CustomersConfig.ready() with kam.home): the dashboard
of tiers, this month's moves and coverage gaps over the customers the user may see (read through
customers.tiering.selectors and customers.coverage.selectors, shaped here for the template and the chart), and
the visits due."""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from channels.models import User
from customers import policy, selectors
from customers.coverage.selectors import gap_counts
from customers.policy import may_see_coverage
from customers.tiering.selectors import Moves, moves_this_month, tier_distribution


@dataclass
class Dashboard:
    distribution: list[dict]  # tier_distribution rows: tier, label, count, revenue
    moves: Moves
    gaps: dict[str, int]  # gap_counts, counted up to settings.KAM_LIST_COUNT_CAP + 1 like the lists

    @property
    def gap_display(self) -> dict[str, str]:
        cap = settings.KAM_LIST_COUNT_CAP
        return {key: f"{cap}+" if count > cap else str(count) for key, count in self.gaps.items()}

    def chart(self) -> dict:
        """What static/js/dashboard.js draws (rendered with json_script)."""
        return {
            "tiers": [row["tier"] or "—" for row in self.distribution],
            "counts": [row["count"] for row in self.distribution],
            "revenue": [float(row["revenue"]) if row["revenue"] is not None else None for row in self.distribution],
        }


def home_dashboard(*, user: User) -> Dashboard:
    """The dashboard of the home page, over the customers the user may see: tier distribution (count and
    revenue), this month's moves, and the coverage gaps."""
    cap = settings.KAM_LIST_COUNT_CAP
    return Dashboard(
        distribution=tier_distribution(user=user),
        moves=moves_this_month(user=user),
        gaps=gap_counts(user=user, cap=cap) if may_see_coverage(user) else {},
    )


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
