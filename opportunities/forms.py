"""Page forms of the opportunities app. They collect and type-check input only; opportunities.services
validates the business rules and writes (its ValidationErrors are shown on these forms)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from channels import roles
from channels.models import ChannelType, User
from customers.fields import RegionChoiceField
from customers.models import Customer, Industry, Region
from kam.form_helpers import DATE, TEXT, RefuseControlCharacters
from kam.validators import refuse_times_outside_utc
from opportunities.models import (
    OPEN_STAGES,
    STAGE_MOVES,
    Activity,
    CloseReason,
    Kind,
    NeedType,
    Opportunity,
    Stage,
    next_stage_forward,
)
from opportunities.services import Prospect
from orders.models import Product

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def offered_products():
    return Product.objects.offered().order_by("code")


class ProductChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return f"{obj.code} {obj.label}" if getattr(obj, "code", "") else str(obj)


# --- capture -----------------------------------------------------------------------------------------


class CaptureForm(RefuseControlCharacters, forms.Form):
    """Capture a lead or an opportunity (seed 004 五(二)): an existing customer (chosen from a search)
    or a prospect (name, phone, region, industry), the contact, the need and the products of interest."""

    SECTIONS = (
        (_("The need"), ("kind", "title", "description", "need_type", "informatisation")),
        (_("Contact"), ("contact_name", "contact_phone", "key_person")),
        (_("Products and value"), ("products", "expected_value", "expected_close")),
        (_("Captured through"), ("contact_channel",)),
    )

    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.LEAD,
                             help_text=_("A lead: the need is not clear yet. An opportunity: a named product or "
                                         "a concrete need, and the customer wants to go on."))  # fmt: skip
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=TEXT)
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none(), required=False,
                                      widget=forms.HiddenInput)  # fmt: skip
    prospect_name = forms.CharField(
        label=_("Prospect name"), max_length=200, required=False,
        help_text=_("Full registered name of a customer not in the database yet."),
    )  # fmt: skip
    prospect_phone = forms.CharField(label=_("Prospect phone"), max_length=30, required=False)
    prospect_region = RegionChoiceField(label=_("Region"), queryset=Region.objects.none(), required=False)
    prospect_industry = forms.ModelChoiceField(label=_("Industry"), queryset=Industry.objects.none(), required=False)
    confirm_not_duplicate = forms.BooleanField(label=_("This is not a duplicate, register the prospect anyway"),
                                               required=False)  # fmt: skip
    contact_name = forms.CharField(label=_("Contact name"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=30, required=False)
    key_person = forms.CharField(label=_("Key person"), max_length=100, required=False,
                                 help_text=_("The decision maker, if known."))  # fmt: skip
    need_type = forms.ChoiceField(label=_("Need type"), choices=[("", "---------"), *NeedType.choices],
                                  required=False)  # fmt: skip
    informatisation = forms.CharField(
        label=_("Informatisation status"), required=False, widget=TEXT,
        help_text=_("What the customer runs today (network, systems, suppliers)."),
    )  # fmt: skip
    products = ProductChoiceField(label=_("Products of interest"), queryset=Product.objects.none(), required=False)
    expected_value = forms.DecimalField(label=_("Expected monthly value (RMB)"), max_digits=14, decimal_places=2,
                                        required=False, min_value=0)  # fmt: skip
    expected_close = forms.DateField(label=_("Expected close date"), required=False, widget=DATE)
    contact_channel = forms.ModelChoiceField(label=_("Contact channel"), queryset=ChannelType.objects.none(),
                                             required=False)  # fmt: skip

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        kwargs.setdefault("initial", {}).setdefault("contact_channel", user.channel_type_id)
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.visible_to(user).live()
        self.fields["prospect_region"].queryset = Region.objects.select_related("parent__parent")
        self.fields["prospect_industry"].queryset = Industry.objects.all()
        self.fields["products"].queryset = offered_products()
        self.fields["contact_channel"].queryset = ChannelType.objects.all()

    def sections(self):
        return [(title, [self[n] for n in names]) for title, names in self.SECTIONS]

    def prospect_fields(self):
        return [self[n] for n in ("prospect_name", "prospect_phone", "prospect_region", "prospect_industry")]

    def clean(self):
        data = super().clean()
        if data.get("customer") is None and not (data.get("prospect_name") or "").strip():
            if not self.has_error("customer"):
                self.add_error(None, _("Choose an existing customer or name a new prospect."))
        prospect = Prospect.from_input(data) if data.get("customer") is None else None
        if prospect is not None:
            # The customer checks on the prospect, in the same answer as the form's own errors.
            for field, messages in prospect.errors(by=self.user).items():
                if not self.has_error(field):
                    self.add_error(field, messages)
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        names = ("description", "contact_name", "contact_phone", "key_person", "need_type", "informatisation",
                 "expected_value", "expected_close")  # fmt: skip
        return {name: data[name] for name in names if data.get(name) not in (None, "")}


# --- actions on one opportunity ----------------------------------------------------------------------


class ReturnForm(RefuseControlCharacters, forms.Form):
    reason = forms.CharField(
        label=_("Why can you not serve it?"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class StageForm(RefuseControlCharacters, forms.Form):
    stage = forms.ChoiceField(label=_("Move to stage"), choices=())
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, opportunity: Opportunity | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = STAGE_MOVES.get(opportunity.stage, set()) if opportunity is not None else set(OPEN_STAGES)
        self.fields["stage"].choices = [(s.value, s.label) for s in OPEN_STAGES if s in allowed]
        if opportunity is not None:
            self.fields["stage"].initial = next_stage_forward(opportunity.stage)


class QualifyForm(RefuseControlCharacters, forms.Form):
    products = ProductChoiceField(label=_("Products of interest"), queryset=Product.objects.none(), required=False)
    need_type = forms.ChoiceField(label=_("Need type"), choices=[("", "---------"), *NeedType.choices],
                                  required=False)  # fmt: skip
    expected_value = forms.DecimalField(label=_("Expected monthly value (RMB)"), max_digits=14, decimal_places=2,
                                        required=False, min_value=0)  # fmt: skip
    expected_close = forms.DateField(label=_("Expected close date"), required=False, widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["products"].queryset = offered_products()


class CloseForm(RefuseControlCharacters, forms.Form):
    RESULTS = [(Stage.WON.value, Stage.WON.label), (Stage.LOST.value, Stage.LOST.label),
               (Stage.SUSPENDED.value, Stage.SUSPENDED.label)]  # fmt: skip

    result = forms.ChoiceField(label=_("Result"), choices=RESULTS)
    reason = forms.ModelChoiceField(label=_("Reason"), queryset=CloseReason.objects.none(), required=False)
    competitor = forms.CharField(label=_("Competitor"), max_length=100, required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = CloseReason.objects.filter(is_active=True)


class ActivityForm(RefuseControlCharacters, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices, initial=Activity.Kind.CALL)
    notes = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 2}))
    at = forms.DateTimeField(
        label=_("When"), required=False, widget=DATETIME, help_text=_("Empty: now."),
        validators=[refuse_times_outside_utc],
    )  # fmt: skip
    next_action = forms.CharField(label=_("Next action"), max_length=200, required=False)
    next_action_due = forms.DateField(label=_("Next action due"), required=False, widget=DATE)


class DispatchForm(RefuseControlCharacters, forms.Form):
    CHANNELS = [
        ("", "---------"),
        ("account_manager", _("The customer's account manager")),
        ("social_channel", _("Core partner agent (phone account manager as second cover)")),
        ("phone_account_manager", _("Phone account managers (least loaded)")),
        ("operations_center", _("Back to the operations-center queue")),
    ]

    to_user = forms.CharField(label=_("To a person (user name)"), max_length=150, required=False)
    to_channel = forms.ChoiceField(label=_("Or to a channel"), choices=CHANNELS, required=False)
    reason = forms.CharField(label=_("Why"), max_length=500, required=False)

    def clean_to_user(self):
        name = (self.cleaned_data.get("to_user") or "").strip()
        if not name:
            return None
        user = User.objects.filter(username=name, is_active=True, role__in=roles.SERVING).first()
        if user is None:
            raise forms.ValidationError(
                _("No active account manager, phone account manager or partner with this user name.")
            )
        return user

    def clean(self):
        data = super().clean()
        if not self.errors and (data.get("to_user") is None) == (not data.get("to_channel")):
            raise forms.ValidationError(_("Name a person or a channel (one of the two)."))
        return data
