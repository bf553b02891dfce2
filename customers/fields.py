"""Fields other apps use to take a customer, a contact or a region as input (API serializers and page forms),
and the shape of a likely duplicate in their 409 answers.

A customer or contact id the caller may not see fails exactly like an id that does not exist: the fields'
querysets go through `visible_to`."""

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from customers.models import Contact, Customer


class VisibleCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id the caller may see; other people's ids fail exactly like ids that do not exist."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Customer.objects.none(), **kwargs)  # the queryset only types the schema

    def get_queryset(self):
        return Customer.objects.visible_to(self.context["request"].user).live()


class VisibleContactField(serializers.PrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Contact.objects.none(), **kwargs)

    def get_queryset(self):
        return Contact.objects.visible_to(self.context["request"].user)


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name


class DuplicateSerializer(serializers.Serializer):
    """One likely duplicate (customers.duplicates.DuplicateCandidate) in a 409 answer."""

    id = serializers.IntegerField(source="customer.pk")
    name = serializers.CharField(source="customer.name")
    score = serializers.IntegerField(help_text=_("How alike, 0-100."))
    reasons = serializers.ListField(child=serializers.CharField())


class DuplicateConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    duplicates = DuplicateSerializer(many=True, help_text=_("The likely duplicates you may see."))
    hidden_duplicates = serializers.IntegerField(help_text=_("Likely duplicates in other people's portfolios."))


class TeamGroupedIterator(ModelChoiceIterator):
    """Staff choices in one <optgroup> per team (teams by name, people by name inside), then those without."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        groups: dict[str, list] = {}
        people = self.queryset.select_related("team").order_by("team__name", "display_name", "username")
        for person in people:
            groups.setdefault(person.team.name if person.team else gettext("No team"), []).append(self.choice(person))
        no_team = groups.pop(gettext("No team"), None)
        yield from groups.items()
        if no_team:
            yield (gettext("No team"), no_team)


class StaffChoiceField(forms.ModelChoiceField):
    """A member of staff picked from a list grouped by team (a province has dozens of account managers)."""

    iterator = TeamGroupedIterator
