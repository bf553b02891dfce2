"""Forms of the provisioning pages: one form for every step action (the service checks what each needs)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from channels.models import User
from kam.form_helpers import RefuseControlCharacters


class StepActionForm(RefuseControlCharacters, forms.Form):
    # The revision of the step the actor saw: a step changed meanwhile answers a conflict, not a silent overwrite.
    revision = forms.IntegerField(min_value=0, max_value=2_147_483_647, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    to_user = forms.ModelChoiceField(label=_("Hand over to"), queryset=User.objects.none(), required=False)
    order_data_wrong = forms.BooleanField(label=_("The order's own data is wrong (back to the first step)"),
                                          required=False)  # fmt: skip

    def __init__(self, *args, colleagues=None, **kwargs):
        super().__init__(*args, **kwargs)
        if colleagues is not None:
            self.fields["to_user"].queryset = colleagues


class AssessmentForm(forms.Form):
    month = forms.DateField(label=_("Month"), input_formats=["%Y-%m"], required=False,
                            widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))  # fmt: skip
