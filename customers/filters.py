"""The customer FilterSet, shared by the "my customers" page and the API (one set of rules)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from channels import roles
from channels.models import Team, User
from customers.models import Customer, Industry, Tier
from customers.selectors import customer_search, customer_search_ranked, region_with_descendants
from kam.api.filters import IdFilter

SEARCH_FILTERS = ("q", "search")  # the page's and the API's name of one search


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search", label=_("Search"),
        help_text=_("Name, short name, alias, customer code, credit code or phone"),
    )  # fmt: skip
    tier = django_filters.MultipleChoiceFilter(choices=Tier.choices, label=_("Tier"))
    status = django_filters.MultipleChoiceFilter(
        choices=[c for c in Customer.Status.choices if c[0] != Customer.Status.MERGED], label=_("Status")
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
    ordering = django_filters.OrderingFilter(
        fields=(("name", "name"), ("code", "code"), ("tier", "tier"), ("members_count", "members_count"),
                ("created_at", "created_at"), ("updated_at", "updated_at"), ("value_score", "value_score")),
        field_labels={"name": _("Name"), "code": _("Customer code"), "tier": _("Tier"),
                      "members_count": _("Members"), "created_at": _("Created"), "updated_at": _("Updated"),
                      "value_score": _("Value score")},
        label=_("Sort by"),
    )  # fmt: skip

    class Meta:
        model = Customer
        fields = ["q", "tier", "status", "industry", "region", "account_manager", "is_strategic", "parent"]

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
