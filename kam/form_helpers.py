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


def run_service(request, call, *, form: forms.Form | None = None, conflicts: tuple = ()) -> int | None:
    """A page's POST action: validate `form` (if any), then `call()` the service. None when it went through
    (the caller redirects); otherwise the status to answer with the page again — 409 when the service raised
    one of `conflicts` (shown as a message: someone acted first), 400 for a ValidationError (on the form's fields
    when there is a form, as a message when there is none) or an invalid form."""
    from django.contrib import messages

    if form is not None and not form.is_valid():
        return 400
    try:
        call()
    except conflicts as exc:
        messages.error(request, str(exc))
        return 409
    except ValidationError as exc:
        if form is not None:
            add_service_errors(form, exc)
        else:
            messages.error(request, " ".join(exc.messages))
        return 400
    return None


class RefuseControlCharacters:
    """Form mixin: every text field (CharField and its kinds: e-mail, URL, regex...) refuses control characters
    with a field error (kam.validators), as the API does. Mix it into every form whose text is saved. The check
    is added when the form is cleaned, so it covers the fields a form adds in its own __init__ too."""

    def full_clean(self):
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and refuse_control_characters not in field.validators:
                field.validators.append(refuse_control_characters)
        super().full_clean()
