"""The segment forms: their criteria fields come from the criteria registry (customers.segments.criteria), so
a criterion registered by a later app appears on the form without a change here. The forms only collect
input; the registry validates the definition and customers.segments.services writes."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from channels.models import User
from customers.models import Segment
from customers.policy import may_share_segments
from customers.segments.criteria import clean_definition, registered_criteria
from kam.form_helpers import RefuseControlCharacters, add_service_errors


class DefinitionForm(forms.Form):
    """The criteria only (the preview count uses it while the user is still choosing)."""

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.criteria = registered_criteria(user)
        for criterion in self.criteria:
            field = criterion.field_factory()
            field.required = False
            field.label = criterion.label
            self.fields[criterion.key] = field
        self.definition: dict = {}

    def criteria_fields(self):
        return [self[c.key] for c in self.criteria]

    def clean(self):
        cleaned = super().clean()
        raw = {c.key: cleaned.get(c.key) for c in self.criteria if c.key in cleaned}
        try:
            self.definition = clean_definition(raw, user=self.user)
        except ValidationError as exc:
            add_service_errors(self, exc)
        return cleaned


class SegmentForm(RefuseControlCharacters, DefinitionForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_shared = forms.BooleanField(
        label=_("Shared"), required=False, help_text=_("Everyone can see and export a shared segment (each person "
                                                       "sees only the customers they may see).")
    )  # fmt: skip

    def __init__(self, *args, user: User, segment: Segment | None = None, **kwargs):
        if segment is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": segment.name, "description": segment.description, "is_shared": segment.is_shared,
                **segment.definition,
            }  # fmt: skip
        super().__init__(*args, user=user, **kwargs)
        if not may_share_segments(user) and not (segment is not None and segment.is_shared):
            del self.fields["is_shared"]

    def head_fields(self):
        return [self[name] for name in ("name", "description", "is_shared") if name in self.fields]

    def service_fields(self) -> dict:
        return {
            "name": self.cleaned_data["name"],
            "description": self.cleaned_data.get("description", ""),
            "is_shared": self.cleaned_data.get("is_shared", False),
            "definition": self.definition,
        }
