"""FilterSets of opportunities, shared by the pages and the API (the API's subclass adds its own filters in
opportunities/api/filters.py). One search rule for both: a number (exact), words of the title, or a
customer's name as the customer search finds it."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers import selectors as customer_selectors
from customers.models import Customer
from opportunities.models import CLOSED_STAGES, Kind, Opportunity, RoutingStatus, Stage

# At most this many matching customers take part in a search (the customer search itself is indexed).
SEARCH_CUSTOMERS = 500


class OpportunityFilterSet(django_filters.FilterSet):
    """The filters of every opportunity list: the search and the kind."""

    q = django_filters.CharFilter(label=_("Customer or title"), method="filter_search")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Kind.choices)

    class Meta:
        model = Opportunity
        fields = ["q", "kind"]

    def filter_search(self, queryset, name, value):
        term = " ".join((value or "").split())
        if not term:
            return queryset
        matching = customer_selectors.customer_search(Customer.objects.all(), term).values("pk")[:SEARCH_CUSTOMERS]
        return queryset.filter(Q(customer_id__in=matching) | Q(title__icontains=term) | Q(code__iexact=term))


class MyOpportunityFilterSet(OpportunityFilterSet):
    """Filters of "my opportunities" (list and kanban). Closed ones are left out unless asked for."""

    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=Stage.choices)
    routing_status = django_filters.ChoiceFilter(label=_("Routing status"), choices=RoutingStatus.choices)
    closed = django_filters.BooleanFilter(label=_("Include closed"), method="filter_closed", widget=forms.CheckboxInput)

    class Meta(OpportunityFilterSet.Meta):
        fields = ["q", "kind", "stage", "routing_status", "closed"]

    def filter_closed(self, queryset, name, value):
        return queryset

    @property
    def qs(self):
        rows = super().qs
        data = self.form.cleaned_data if self.form.is_valid() else {}
        if not data.get("closed") and data.get("stage") not in CLOSED_STAGES:
            rows = rows.exclude(stage__in=CLOSED_STAGES)
        return rows
