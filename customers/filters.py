"""The customer FilterSet, shared by the "my customers" page and the API (one set of rules)."""

import django_filters
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from channels import roles
from channels.models import Role, Team, User
from customers.models import SORT_REVENUE, SORT_VALUE, Customer, Industry, Tier
from customers.policy import hidden_customer_fields
from customers.selectors import (
    account_managers,
    customer_list,
    customer_search,
    customer_search_ranked,
    region_with_descendants,
)
from kam.api.filters import IdFilter
from kam.db import key_then_id
from kam.validators import parse_id

# Sort key -> expression; each is served by a (key, id) index of Customer in both directions.
SORT_KEYS = {
    "name": F("name"),
    "code": F("code"),
    "tier": F("tier"),
    "members_count": F("members_count"),
    "value_score": SORT_VALUE,
    "revenue": SORT_REVENUE,
}


# Sort keys over finance data (customers.policy.hidden_customer_fields): key -> the field it reveals.
FINANCE_SORTS = {"value_score": "value_score", "revenue": "avg_monthly_revenue"}


def sort_order(key: str) -> tuple:
    """ORDER BY of a sort key ("name", "-revenue"...): kam.db.key_then_id. Unknown keys: newest first."""
    expression = SORT_KEYS.get(key.lstrip("-"))
    if expression is None:
        return ("-id",)
    return key_then_id(expression, descending=key.startswith("-"))


class CustomerOrdering(django_filters.OrderingFilter):
    def filter(self, qs, value):
        if not value or value[0] in EMPTY_VALUES:
            return qs
        return qs.order_by(*sort_order(value[0]))


SEARCH_FILTERS = ("q", "search")  # the page's and the API's name of one search


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search", label=_("Search"),
        help_text=_("Name, short name, alias, customer code, credit code or phone"),
    )  # fmt: skip
    # Plain columns, no join: a match cannot repeat a row, so no DISTINCT (which would sort every column).
    tier = django_filters.MultipleChoiceFilter(choices=Tier.choices, label=_("Tier"), distinct=False)
    status = django_filters.MultipleChoiceFilter(
        choices=[c for c in Customer.Status.choices if c[0] != Customer.Status.MERGED],
        label=_("Status"),
        distinct=False,
    )
    industry = django_filters.ModelChoiceFilter(queryset=Industry.objects.all(), label=_("Industry"))
    region = django_filters.CharFilter(method="filter_region", label=_("Region code"))
    account_manager = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(role__in=roles.PORTFOLIO, is_active=True),
        label=_("Account manager"),
    )
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), field_name="account_manager__team", label=_("Team")
    )
    no_account_manager = django_filters.BooleanFilter(
        field_name="account_manager", lookup_expr="isnull", label=_("Without account manager")
    )
    is_strategic = django_filters.BooleanFilter(label=_("Strategic"))
    parent = IdFilter(field_name="parent", label=_("Subsidiaries of (customer id)"))
    ordering = CustomerOrdering(
        fields=(("name", "name"), ("code", "code"), ("tier", "tier"), ("members_count", "members_count"),
                ("value_score", "value_score"), ("revenue", "revenue")),
        field_labels={"name": _("Name"), "code": _("Customer code"), "tier": _("Tier"),
                      "members_count": _("Members"), "value_score": _("Value score"),
                      "revenue": _("Average monthly revenue")},
        label=_("Sort by"),
    )  # fmt: skip

    class Meta:
        model = Customer
        fields = ["q", "tier", "status", "industry", "region", "account_manager", "is_strategic", "parent"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One field policy: who may not see the value score and revenue may not sort by them either.
        user = getattr(self.request, "user", None)
        if user is not None and hidden_customer_fields(user) & set(FINANCE_SORTS.values()):
            ordering = self.filters["ordering"]
            ordering.extra["choices"] = [
                choice for choice in ordering.extra["choices"] if choice[0].lstrip("-") not in FINANCE_SORTS
            ]

    def filter_search(self, queryset, name, value):
        return customer_search(queryset, value)

    def ranking_term(self) -> str:
        """The search term to put the best matches first by: given, valid, and no sort chosen (a chosen
        sort wins)."""
        if not self.is_valid() or self.form.cleaned_data.get("ordering"):
            return ""
        return self.form.cleaned_data.get("q") or self.form.cleaned_data.get("search") or ""

    def ranked(self):
        """`qs`, or for a search without a chosen sort the same customers with the best matches first
        (customers.selectors.customer_search_ranked: a list-like Tiered the paginators page)."""
        term = self.ranking_term()
        if not term:
            return self.qs
        queryset = self.queryset.all()
        for name, value in self.form.cleaned_data.items():
            if name in SEARCH_FILTERS and value == term:
                continue  # the ranked search applies it
            queryset = self.filters[name].filter(queryset, value)
        return customer_search_ranked(queryset, term)

    def filter_region(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(region__in=region_with_descendants(value))


def customer_list_filterset(data, *, user: User, request=None) -> CustomerFilterSet:
    """The customer list page's filters for this user, over the customers they may see: the list page and its
    export read the same rows. The account-manager filter fits the role: a manager's own list has none (the
    parameter is ignored), a supervisor picks a team member, everyone-seeing roles pick a team first (listing
    every manager of a province would put thousands of options on every page; the chosen manager stays
    selectable); portfolio roles have no team filter."""
    filterset = CustomerFilterSet(data, queryset=customer_list(user=user), request=request)
    if user.role in roles.ACCOUNT_MANAGERS and not user.is_superuser:
        del filterset.filters["account_manager"]
    elif user.role == Role.SUPERVISOR and not user.is_superuser:
        own_team = Q(team__supervisor=user) | Q(pk=user.pk)
        filterset.filters["account_manager"].queryset = account_managers().filter(own_team)
    else:
        team, chosen = parse_id(data.get("team")), parse_id(data.get("account_manager"))
        if team or chosen:
            scope = Q(team_id=team) if team else Q()
            scope |= Q(pk=chosen) if chosen else Q()
            filterset.filters["account_manager"].queryset = account_managers().filter(scope)
        else:
            del filterset.filters["account_manager"]
    if user.role in roles.PORTFOLIO and not user.is_superuser:
        del filterset.filters["team"]
    return filterset
