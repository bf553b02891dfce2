"""Forms of the installed-base pages: a customer leaving."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kam.form_helpers import RefuseControlCharacters


class CustomerLeaveForm(RefuseControlCharacters, forms.Form):
    reason = forms.CharField(
        label=_("Why does the customer leave?"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
