"""Forms of the ticket page's actions (one form, the fields each action needs; the services check the rest)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from channels.models import User, Workstation
from kam.db import LONG_TEXT
from kam.form_helpers import RefuseControlCharacters


class TicketActionForm(RefuseControlCharacters, forms.Form):
    revision = forms.IntegerField(min_value=0, max_value=2**31 - 1, required=False, widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("Text"), required=False, max_length=LONG_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Workstation.objects.all(), required=False)
    to_user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        if people is not None:
            self.fields["to_user"].queryset = people
