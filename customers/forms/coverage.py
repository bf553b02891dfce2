"""The coverage page's form: the one-click assignment's choice of account manager, each labelled with their
load against their capacity. customers.coverage.services checks and writes."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.form_helpers import RefuseControlCharacters


class CandidateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return candidate_label(obj)


def candidate_label(user) -> str:
    if user.capacity:
        return _("%(name)s (%(load)d of %(capacity)d)") % {"name": user, "load": user.load, "capacity": user.capacity}
    return _("%(name)s (%(load)d customers)") % {"name": user, "load": user.load}


class AssignForm(RefuseControlCharacters, forms.Form):
    account_manager = CandidateChoiceField(queryset=None, label=gettext_lazy("Account manager"))

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_manager"].queryset = candidates
