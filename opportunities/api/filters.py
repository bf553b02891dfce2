"""API FilterSets of opportunities. Ids are plain numbers, not choices among all rows: a choice field would
answer 400 for ids that do not exist and 200 for other people's, and so tell which ids exist."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from kam.api.filters import IdFilter
from kam.validators import day_start, parse_id
from opportunities.filters import OpportunityFilterSet
from opportunities.models import Opportunity, RoutingStatus, Stage


class UserOrMeField(forms.Field):
    """A user id (kam.validators.parse_id) or "me"; anything else is a field error."""

    def to_python(self, value):
        if value in self.empty_values or value == "me":
            return value or None
        number = parse_id(value)
        if number is None:
            raise ValidationError(_('Give a user id or "me".'), code="invalid")
        return number


@extend_schema_field(OpenApiTypes.STR)
class UserOrMeFilter(django_filters.Filter):
    """A user id, or `me` for the caller."""

    field_class = UserOrMeField

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if value == "me":
            return qs.filter(**{self.field_name: self.parent.request.user})
        return qs.filter(**{f"{self.field_name}_id": value})


class OpportunityApiFilterSet(OpportunityFilterSet):
    """The pages' filters (search, kind) and the API's own: several stages or states, ids, dates."""

    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices, label=_("Stage (repeat for several)"))
    routing_status = django_filters.MultipleChoiceFilter(
        choices=RoutingStatus.choices, label=_("Routing status (repeat for several)")
    )
    customer = IdFilter(field_name="customer_id", label=_("Customer id"))
    assigned_to = UserOrMeFilter(field_name="assigned_to", label=_('Receiver: a user id or "me"'))
    captured_by = UserOrMeFilter(field_name="captured_by", label=_('Captured by: a user id or "me"'))
    created_from = django_filters.DateFilter(method="filter_created_from", label=_("Captured on or after (date)"))
    created_to = django_filters.DateFilter(method="filter_created_to", label=_("Captured on or before (date)"))
    search = django_filters.CharFilter(method="filter_search", label=_("Number, words of the title or customer"))

    class Meta:
        model = Opportunity
        fields = ["q", "kind", "stage", "routing_status", "customer", "assigned_to", "captured_by"]

    # Day bounds as datetimes, so the created_at index serves the range (no per-row date cast). At the ends of the
    # calendar there is no such instant (kam.validators.day_start): no bound on that side.
    def filter_created_from(self, queryset, name, value):
        start = day_start(value)
        return queryset.filter(created_at__gte=start) if start else queryset

    def filter_created_to(self, queryset, name, value):
        end = day_start(value, days_later=1)
        return queryset.filter(created_at__lt=end) if end else queryset
