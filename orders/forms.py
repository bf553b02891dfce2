from django import forms
from django.utils.translation import gettext_lazy as _

from orders import selectors


class CatalogueFilterForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), required=False)
    legacy = forms.BooleanField(label=_("Show legacy products"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All categories")), *selectors.product_categories()]
