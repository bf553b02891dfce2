"""Forms of the order pages: the entry wizard's steps, a draft line's editor, the actions with a reason, the
pre-acceptance form and the list filters. The template fields are built from the product's OrderField rows
(orders.order_fields); the services decide what is valid and their errors are shown on these forms."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kam.db import LONG_TEXT
from kam.form_helpers import DATE, TEXT, RefuseControlCharacters
from orders import order_fields
from orders.models import Order
from orders.services.ordering import MAX_QUANTITY, REASON_MAX


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Number or customer"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All"))] + Order.Status.choices)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All"))] + Order.Kind.choices)


class CustomerSearchForm(forms.Form):
    q = forms.CharField(label=_("Customer name or number"), required=False, max_length=100)


class StartForm(forms.Form):
    """Wizard step 1, after the customer: kind, agreement and the product (or the subscription acted on)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Order.Kind.choices, initial=Order.Kind.NEW)
    agreement = forms.ModelChoiceField(label=_("Agreement"), queryset=None, required=False,
                                       empty_label=_("No agreement"))  # fmt: skip
    product = forms.ModelChoiceField(label=_("Product"), queryset=None, required=False)
    subscription = forms.ModelChoiceField(
        label=_("Subscription (change, suspension, resumption, termination)"), queryset=None, required=False
    )

    def __init__(self, *args, agreements, products, subscriptions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreement"].queryset = agreements
        self.fields["product"].queryset = products
        self.fields["subscription"].queryset = subscriptions

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Order.Kind.NEW and not data.get("product"):
            self.add_error("product", _("Choose the product."))
        if kind and kind != Order.Kind.NEW and not data.get("subscription"):
            self.add_error("subscription", _("Choose the subscription the order acts on."))
        return data


class TemplateValuesMixin:
    """The template fields' values as posted, so their checks (orders.order_fields) run with the form's own and
    the page shows every error at once, even when another field is wrong."""

    def raw_template_values(self) -> dict:
        found = {}
        for spec in self.specs:
            value = self.data.get(self.add_prefix(f"v_{spec.key}"))
            if value not in ("", None):
                found[spec.key] = value
        return found

    def add_template_errors(self, *, partial: bool) -> dict:
        """Checks the posted template values; their errors go on their fields. Returns the cleaned values."""
        cleaned, errors = order_fields.validate_values(self.specs, self.raw_template_values(), partial=partial)
        for key, messages in errors.items():
            field = f"v_{key.removeprefix('values.')}"
            if field in self.fields and not self.has_error(field):
                self.add_error(field, messages)
        return cleaned


class LineForm(TemplateValuesMixin, RefuseControlCharacters, forms.Form):
    """Quantity, price, discount and the product's template fields (one form field per OrderField)."""

    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1)
    unit_price = forms.DecimalField(label=_("Unit price (RMB/month)"), min_value=0, max_digits=12, decimal_places=2)
    discount = forms.DecimalField(label=_("Discount (%)"), min_value=0, max_value=100, max_digits=5,
                                  decimal_places=2, initial=0, required=False)  # fmt: skip

    def __init__(self, *args, specs, **kwargs):
        super().__init__(*args, **kwargs)
        self.specs = specs
        for spec in specs:
            self.fields[f"v_{spec.key}"] = order_fields.form_field(spec)
            self.fields[f"v_{spec.key}"].spec_required = spec.required

    def template_values(self) -> dict:
        data = self.cleaned_data
        return {
            spec.key: data.get(f"v_{spec.key}") for spec in self.specs if data.get(f"v_{spec.key}") not in ("", None)
        }

    def add_value_errors(self, errors: dict, prefix: str) -> None:
        """The services' "…values.<key>" errors on their form fields; the others on the form."""
        for key, messages in errors.items():
            name = key.removeprefix(prefix)
            if name.startswith("values."):
                field = f"v_{name.removeprefix('values.')}"
                self.add_error(field if field in self.fields else None, messages)
            else:
                self.add_error(name if name in self.fields else None, messages)

    def template_fields(self):
        return [self[f"v_{spec.key}"] for spec in self.specs]


class HeaderForm(RefuseControlCharacters, forms.Form):
    requested_on = forms.DateField(label=_("Requested date"), required=False, widget=DATE)
    needs_construction = forms.BooleanField(label=_("Construction needed"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=LONG_TEXT, widget=TEXT)


class ReasonForm(RefuseControlCharacters, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX)


class PreAcceptanceForm(TemplateValuesMixin, RefuseControlCharacters, forms.Form):
    details = forms.CharField(label=_("What the customer asks for"), max_length=LONG_TEXT, widget=TEXT)
    contact_name = forms.CharField(label=_("Contact name"), required=False, max_length=50)
    contact_phone = forms.CharField(label=_("Contact phone"), required=False, max_length=30)

    def __init__(self, *args, specs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.specs = list(specs)
        for spec in self.specs:
            self.fields[f"v_{spec.key}"] = order_fields.form_field(spec)

    def template_values(self) -> dict:
        data = self.cleaned_data
        return {
            spec.key: data.get(f"v_{spec.key}") for spec in self.specs if data.get(f"v_{spec.key}") not in ("", None)
        }


class ConvertForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1)
