"""Form helpers shared by every app's pages."""

from django import forms
from django.core.exceptions import ValidationError

from kam.validators import refuse_control_characters

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT = forms.Textarea(attrs={"rows": 3})


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the form has that field."""
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, exc.messages)


class RefuseControlCharacters:
    """Form mixin: every text field (CharField and its kinds: e-mail, URL, regex...) refuses control characters
    with a field error (kam.validators), as the API does. Mix it into every form whose text is saved. The check
    is added when the form is cleaned, so it covers the fields a form adds in its own __init__ too."""

    def full_clean(self):
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and refuse_control_characters not in field.validators:
                field.validators.append(refuse_control_characters)
        super().full_clean()
