"""API FilterSets of the product catalogue."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from orders import selectors
from orders.models import Product


class ProductFilterSet(filters.FilterSet):
    category = django_filters.CharFilter(label=_("Category (exact, as stored)"))
    search = django_filters.CharFilter(method="filter_search", label=_("Search code, name or English name"))

    class Meta:
        model = Product
        fields = ["category", "provisioning_type", "legacy", "is_active", "search"]

    def filter_search(self, queryset, name, value):
        return selectors.product_search(queryset, value)
