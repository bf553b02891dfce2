"""Forms of the tier pages: the run form of the evaluation page, the filters of the tier-change list, and
the manual override with its approvers. They collect and type-check input only; customers.tiering.services
validates and writes."""

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy, pgettext_lazy

from channels import roles
from channels.models import User
from customers.models import Tier, TierEvaluation
from customers.tiering.selectors import DIRECTION_DOWN, DIRECTION_UP
from kam.form_helpers import DATE, TEXT, RefuseControlCharacters

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{1,2})$")
NO_TIER = "none"  # how "untiered" is spelt in the from/to filters


def parse_month(value: str) -> date | None:
    match = MONTH_PATTERN.match((value or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


class MonthField(forms.CharField):
    default_error_messages = {"invalid": gettext_lazy('Give the month as "YYYY-MM".')}

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        month = parse_month(value)
        if month is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return month


class RunForm(forms.Form):
    kind = forms.ChoiceField(choices=TierEvaluation.Kind.choices)
    period = MonthField(
        required=False, label=gettext_lazy("Billing month"),
        help_text=gettext_lazy("YYYY-MM; empty: the latest billed month"),
    )  # fmt: skip


TIER_FILTER_CHOICES = [("", "---------"), *Tier.choices, (NO_TIER, gettext_lazy("No tier"))]


class TierChangeFilterForm(forms.Form):
    month = MonthField(required=False, label=gettext_lazy("Month"), help_text="YYYY-MM")
    direction = forms.ChoiceField(
        required=False, label=gettext_lazy("Direction"),
        choices=[("", gettext_lazy("Both")), (DIRECTION_UP, gettext_lazy("Upgrades")),
                 (DIRECTION_DOWN, gettext_lazy("Downgrades"))],
    )  # fmt: skip
    from_tier = forms.ChoiceField(required=False, label=pgettext_lazy("tier", "From"), choices=TIER_FILTER_CHOICES)
    to_tier = forms.ChoiceField(required=False, label=pgettext_lazy("tier", "To"), choices=TIER_FILTER_CHOICES)
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def selector_filters(self) -> dict:
        data = self.cleaned_data

        def tier(value):
            return None if not value else "" if value == NO_TIER else value

        return {"month": data["month"], "direction": data["direction"], "customer": data["customer"],
                "from_tier": tier(data["from_tier"]), "to_tier": tier(data["to_tier"])}  # fmt: skip


def approvers():
    """Who may approve a tier override (customers.policy.may_approve_override): supervisors and administrators."""
    approving = Q(role__in=roles.APPROVERS) | Q(is_superuser=True)
    return User.objects.filter(approving, is_active=True).order_by("username")


class TierOverrideForm(RefuseControlCharacters, forms.Form):
    tier = forms.ChoiceField(label=gettext_lazy("Tier"), choices=Tier.choices)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, widget=TEXT)
    approved_by = forms.ModelChoiceField(label=gettext_lazy("Approved by"), queryset=User.objects.none())
    expires_on = forms.DateField(
        label=gettext_lazy("Expires"), required=False, widget=DATE,
        help_text=gettext_lazy("Empty: after the months the tier rules give an override."),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approved_by"].queryset = approvers()
