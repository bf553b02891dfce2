"""API FilterSets. The customer filters are the page's CustomerFilterSet, so both follow one set of rules."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend

from customers.filters import SORT_KEYS, CustomerFilterSet, CustomerOrdering
from customers.models import Contact, GroupMember, SpendRecord, Visit
from kam.api.filters import IdFilter


class CustomerApiFilterSet(CustomerFilterSet):
    search = django_filters.CharFilter(method="filter_search", label=_("Search (same as q)"))

    class Meta(CustomerFilterSet.Meta):
        fields = [*CustomerFilterSet.Meta.fields, "search"]


# The API list pages by keyset (kam.api.pagination.SortedKeysetPagination): a sort key needs one index on (key, id)
# and a value in every row, so the customer code (empty for a moment after an insert) is the page's only.
API_SORTS = {key: expression for key, expression in SORT_KEYS.items() if key != "code"}
CustomerApiFilterSet.base_filters["ordering"] = CustomerOrdering(
    fields=[(key, key) for key in API_SORTS],
    label=_("Sort by (name, tier, members_count, value_score, revenue; '-' first for descending)"),
)


class RankedSearchBackend(DjangoFilterBackend):
    """The FilterSet's filters, and in a list with a search the best matches first
    (CustomerFilterSet.ranked; KeysetPagination pages the Tiered result group by group)."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None or getattr(view, "action", None) != "list":
            return super().filter_queryset(request, queryset, view)
        if not filterset.is_valid() and self.raise_exception:
            raise utils.translate_validation(filterset.errors)
        return filterset.ranked()


class ByCustomerFilterSet(django_filters.FilterSet):
    """`customer` as a plain number, not a choice among all customers: a choice field would answer 400
    for ids that do not exist and 200 for other people's, and so tell which ids exist."""

    customer = IdFilter(field_name="customer_id", label=_("Customer id"))


class ContactFilterSet(ByCustomerFilterSet):
    class Meta:
        model = Contact
        fields = ["customer"]


class VisitFilterSet(ByCustomerFilterSet):
    class Meta:
        model = Visit
        fields = ["customer"]


class SpendFilterSet(ByCustomerFilterSet):
    class Meta:
        model = SpendRecord
        fields = ["customer"]


class MemberFilterSet(ByCustomerFilterSet):
    class Meta:
        model = GroupMember
        fields = ["customer"]
