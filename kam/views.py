"""The home page: a small dashboard that fits the role."""

from datetime import date

from django.db.models import Count
from django.shortcuts import render
from django.views.decorators.http import require_GET

from channels.models import Role
from customers import selectors
from customers.models import Tier

PORTFOLIO_ROLES = (Role.ACCOUNT_MANAGER, Role.PHONE_ACCOUNT_MANAGER, Role.SUPERVISOR)


@require_GET
def home(request):
    user = request.user
    context = {"portfolio": user.role in PORTFOLIO_ROLES}
    if context["portfolio"]:
        # One GROUP BY over the user's own portfolio (never the whole table), then the due visits.
        rows = selectors.customer_list(user=user).order_by().values("tier").annotate(n=Count("pk"))
        counts = {row["tier"]: row["n"] for row in rows}
        context["tiers"] = [(value, label, counts.get(value, 0)) for value, label in Tier.choices]
        context["untiered"] = counts.get("", 0)
        context["total"] = sum(counts.values())
        context["visits_due"] = selectors.visits_due(user=user)
        context["today"] = date.today()
    return render(request, "home.html", context)
