"""Forms of the ticket page's actions (one form, the fields each action needs; the services check the rest)."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels.models import User, Workstation
from kam.db import LONG_TEXT
from kam.form_helpers import RefuseControlCharacters
from service.models import FollowUp, Ticket, TicketCategory
from service.services.requests import clean_request_data
from service.services.tickets import ticket_rule_errors


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


class TicketForm(RefuseControlCharacters, forms.Form):
    """The desk's new ticket; the customer and the caller's number come from the screen (hidden)."""

    customer = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    caller_phone = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Kind"), choices=Ticket.Kind.choices)
    request_type = forms.ChoiceField(label=_("Request type"), choices=[("", "—"), *Ticket.RequestType.choices],
                                     required=False)  # fmt: skip
    category = forms.ModelChoiceField(label=_("Category"), queryset=TicketCategory.objects.filter(is_active=True),
                                      required=False)  # fmt: skip
    channel = forms.ChoiceField(
        label=_("Intake channel"), choices=Ticket.Channel.choices, initial=Ticket.Channel.HOTLINE
    )
    subject = forms.CharField(label=pgettext_lazy("heading", "Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, max_length=LONG_TEXT,
                                  widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    contact = forms.TypedChoiceField(label=_("Contact"), coerce=int, required=False, empty_value=None)
    subscription = forms.TypedChoiceField(label=_("Affected subscription"), coerce=int, required=False,
                                          empty_value=None)  # fmt: skip
    symptom = forms.CharField(label=_("Symptom"), max_length=300, required=False)
    regulator_appeal = forms.BooleanField(label=_("Appealed to the regulator (申诉)"), required=False)
    members = forms.CharField(label=_("Member numbers (one per line)"), required=False, max_length=8000,
                              widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    new_phone = forms.CharField(label=_("New main phone"), required=False, max_length=30)
    new_address = forms.CharField(label=_("New address"), required=False, max_length=200)

    def request_data(self) -> dict:
        """What a member or group-information request asks, from the form's fields."""
        data = self.cleaned_data
        if data.get("request_type") in ("member_add", "member_remove"):
            return {"msisdns": [line.strip() for line in data.get("members", "").splitlines() if line.strip()]}
        if data.get("request_type") == "group_info":
            return {k: v for k, v in (("phone", data.get("new_phone")), ("address", data.get("new_address"))) if v}
        return {}

    def __init__(self, *args, contacts=(), subscriptions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [("", "—"), *((c.pk, c.name) for c in contacts)]
        self.fields["subscription"].choices = [
            ("", "—"), *((s.pk, f"{s.product.label} · {s.service_id}") for s in subscriptions)
        ]  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("kind"):
            _normalised, request_errors = clean_request_data(data.get("request_type") or "", self.request_data())
            for message in request_errors.values():
                self.add_error("members" if data.get("request_type") != "group_info" else "new_phone", message)
            for field, message in ticket_rule_errors(
                kind=data["kind"], request_type=data.get("request_type") or "",
                regulator_appeal=bool(data.get("regulator_appeal")), category=data.get("category"),
            ).items():  # fmt: skip
                if field in self.fields:
                    self.add_error(field, message)
        return data


class ProspectForm(RefuseControlCharacters, forms.Form):
    name = forms.CharField(label=_("Name of the caller's organisation"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=30)


class ServiceFlagsForm(RefuseControlCharacters, forms.Form):
    is_vip = forms.BooleanField(label=_("VIP handling"), required=False)
    is_blacklisted = forms.BooleanField(label=_("Blacklisted"), required=False)
    reason = forms.CharField(label=_("Why"), max_length=300)


class FollowUpForm(RefuseControlCharacters, forms.Form):
    answer = forms.ChoiceField(label=_("How satisfied are you?"), choices=FollowUp.Answer.choices,
                               widget=forms.RadioSelect)  # fmt: skip
    score = forms.TypedChoiceField(label=_("Score"), choices=[("", "—"), *((n, n) for n in range(5, 0, -1))],
                                   coerce=int, required=False, empty_value=None)  # fmt: skip
    comment = forms.CharField(label=_("Anything to tell us?"), required=False, max_length=LONG_TEXT,
                              widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip


class OpportunityFromTicketForm(RefuseControlCharacters, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("lead", _("Lead")), ("opportunity", _("Opportunity"))],
                             initial="lead")  # fmt: skip
    title = forms.CharField(label=pgettext_lazy("heading", "Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, max_length=LONG_TEXT,
                                  widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip


class FaultReportForm(RefuseControlCharacters, forms.Form):
    started_at = forms.DateTimeField(
        label=_("Outage from"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    restored_at = forms.DateTimeField(label=_("Restored at"),
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))  # fmt: skip
    cause = forms.CharField(label=_("Cause"), max_length=LONG_TEXT, widget=forms.Textarea(attrs={"rows": 2}))
    impact = forms.CharField(label=_("Impact"), max_length=LONG_TEXT, widget=forms.Textarea(attrs={"rows": 2}))
    fix = forms.CharField(label=_("What was done"), max_length=LONG_TEXT, widget=forms.Textarea(attrs={"rows": 2}))
    prevention = forms.CharField(label=_("Prevention"), max_length=LONG_TEXT,
                                 widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
