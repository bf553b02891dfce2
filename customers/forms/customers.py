"""Forms of the customer pages (customer, contact, visit, merge, handover, caller lookup). They collect and
type-check input only; customers.services validates and writes.

The forms are plain `Form`s built from the model's fields, not ModelForms: a ModelForm would write the
input onto the customer before the service sees it, and the service compares old and new values
(a changed name is checked for duplicates again)."""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import fields_for_model, model_to_dict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels.models import User
from customers import selectors, services
from customers.fields import RegionChoiceField, StaffChoiceField
from customers.models import Contact, Customer, Region, Visit
from customers.policy import (
    hidden_contact_fields,
    hidden_customer_fields,
    may_assign_account_manager,
    may_override_credit_code,
)
from customers.services import CONTACT_WRITABLE_FIELDS, CUSTOMER_WRITABLE_FIELDS
from kam.form_helpers import DATE, TEXT, RefuseControlCharacters


def _is_text(model, name: str) -> bool:
    return isinstance(model._meta.get_field(name), models.TextField)


def customer_form_fields(user: User) -> list[str]:
    """The customer fields this user may set, in form order (the services' own rules decide)."""
    hidden = hidden_customer_fields(user)
    names = [f for f in CUSTOMER_WRITABLE_FIELDS if f not in hidden]
    if not may_override_credit_code(user):
        names.remove("credit_code_exception")
    if not may_assign_account_manager(user):
        names.remove("account_manager")
    return names


class CustomerForm(RefuseControlCharacters, forms.Form):
    SECTIONS = (
        (_("Basic information"), ("name", "short_name", "credit_code", "credit_code_exception", "parent", "region",
                                  "industry", "ownership", "address", "postal_code", "phone", "email", "website",
                                  "employees", "relationship_since")),
        (_("Relationship"), ("status", "tier", "is_strategic", "account_manager")),
        (_("Strategy and finance"), Customer.SENSITIVE_FIELDS),
        ("", ("reason",)),
    )  # fmt: skip

    confirm_not_duplicate = forms.BooleanField(label=_("This is not a duplicate, create anyway"), required=False)

    def __init__(self, *args, user: User, customer: Customer | None = None, **kwargs):
        self.user, self.customer = user, customer
        names = customer_form_fields(user)
        if customer is not None:
            initial = model_to_dict(customer, fields=[n for n in names if n != "parent"])
            initial["parent"] = customer.parent.code if customer.parent_id else ""
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        model_fields = fields_for_model(
            Customer,
            fields=[n for n in names if n != "parent"],
            widgets={"relationship_since": DATE, **{f: TEXT for f in names if _is_text(Customer, f)}},
            field_classes={"region": RegionChoiceField},
        )
        model_fields["region"].queryset = Region.objects.select_related("parent__parent")
        model_fields["status"].choices = [c for c in Customer.Status.choices if c[0] != Customer.Status.MERGED]
        if "account_manager" in model_fields:
            model_fields["account_manager"].queryset = selectors.account_managers()
        self.fields.update(model_fields)
        # "Check as you type": htmx asks for the duplicate hint while the name is entered (a GET, no state change).
        self.fields["name"].widget.attrs.update({
            "autocomplete": "off", "hx-get": reverse("customers:duplicate-check"), "hx-target": "#duplicate-hint",
            "hx-trigger": "input changed delay:500ms", "hx-include": "[name='credit_code'],[name='phone']",
            **({"hx-vals": json.dumps({"exclude": customer.pk})} if customer is not None else {}),
        })  # fmt: skip
        self.fields["parent"] = forms.CharField(
            label=_("Parent customer"), required=False, max_length=12,
            help_text=_("Customer code (KA…) of the parent in the group hierarchy."),
        )  # fmt: skip
        if customer is not None:
            self.fields["reason"] = forms.CharField(label=_("Reason for the change"), required=False, max_length=200)
        order = [name for _title, names in self.SECTIONS for name in names]
        self.order_fields([n for n in order if n in self.fields] + ["confirm_not_duplicate"])

    def clean_parent(self):
        code = (self.cleaned_data.get("parent") or "").strip().upper()
        if not code:
            return None
        parent = Customer.objects.visible_to(self.user).live().filter(code=code).first()
        if parent is None:
            raise ValidationError(_("There is no customer with this code that you may see."))
        return parent

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            # The service, which checks credit code, phone, postal code, parent…, is only called with a valid
            # form: run its field rules on the values that passed, so every error shows in one answer.
            found = services.customer_field_errors(by=self.user, customer=self.customer, **self.service_fields())
            for field, messages in found.items():
                if field in self.fields and field not in self.errors:
                    self.add_error(field, messages)
        return cleaned

    def sections(self):
        """(title, bound fields) per section, leaving out fields this user does not get."""
        return [
            (title, [self[n] for n in names if n in self.fields])
            for title, names in self.SECTIONS
            if any(n in self.fields for n in names)
        ]

    def service_fields(self) -> dict:
        names = customer_form_fields(self.user)
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class ContactForm(RefuseControlCharacters, forms.Form):
    def __init__(self, *args, user: User, contact: Contact | None = None, **kwargs):
        hidden = hidden_contact_fields(user)
        self.names = [f for f in CONTACT_WRITABLE_FIELDS if f not in hidden]
        if contact is not None:
            kwargs.setdefault("initial", model_to_dict(contact, fields=self.names))
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(
                Contact, fields=self.names,
                widgets={"birthday": DATE, "active_from": DATE, "active_to": DATE, "hobbies": TEXT, "character": TEXT},
                labels={"active_to": _("Left the company on")},
            )
        )  # fmt: skip

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.names if name in self.cleaned_data}


class VisitForm(RefuseControlCharacters, forms.Form):
    visited_on = forms.DateField(label=_("Date"), widget=DATE)
    kind = forms.ChoiceField(
        label=pgettext_lazy("visit", "Kind"), choices=Visit.Kind.choices, initial=Visit.Kind.ON_SITE
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contacts met"), queryset=Contact.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=300)
    outcome = forms.CharField(label=_("Outcome"), required=False, widget=TEXT)
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)
    next_visit_on = forms.DateField(label=_("Next visit planned"), required=False, widget=DATE)

    def __init__(self, *args, customer: Customer, **kwargs):
        kwargs.setdefault("initial", {"visited_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        # Only this customer's contacts can be chosen; people who left are still listed (a farewell visit).
        self.fields["contacts"].queryset = customer.contacts.all()


class MergeForm(RefuseControlCharacters, forms.Form):
    survivor = forms.IntegerField(widget=forms.HiddenInput)
    duplicate = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason for the merge"), max_length=300)


class HandoverForm(RefuseControlCharacters, forms.Form):
    SCOPE_ALL, SCOPE_SELECTED = "all", "selected"

    from_user = forms.ModelChoiceField(label=_("From account manager"), queryset=User.objects.none())
    to_user = StaffChoiceField(label=_("To account manager"), queryset=User.objects.none())
    scope = forms.ChoiceField(
        label=_("Customers"), widget=forms.RadioSelect, initial=SCOPE_ALL,
        choices=[(SCOPE_ALL, _("All customers of this account manager")),
                 (SCOPE_SELECTED, _("Only the ones ticked below"))],
    )  # fmt: skip
    customers = forms.ModelMultipleChoiceField(
        label=_("Customers to hand over"), queryset=Customer.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args, givers, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_user"].queryset = givers
        self.fields["to_user"].queryset = selectors.account_managers()
        self.fields["customers"].queryset = customers

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == self.SCOPE_SELECTED and not cleaned.get("customers"):
            self.add_error("customers", _("Tick the customers to hand over."))
        return cleaned


class LookupForm(forms.Form):
    phone = forms.CharField(label=_("Calling number"), max_length=30)
