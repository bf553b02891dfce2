"""The customer import page's upload form; customers.imports.reader checks and parses the file."""

from django import forms
from django.utils.translation import gettext_lazy


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Excel (.xlsx) or CSV file"))
