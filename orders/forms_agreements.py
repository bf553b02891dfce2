"""Page forms of agreements. They collect and type-check input only; orders.services.agreements checks the
terms and writes (its ValidationErrors are shown on these forms)."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from channels.models import User
from customers.models import Customer
from kam.form_helpers import DATE, TEXT, RefuseControlCharacters
from orders.models import Agreement, AgreementTemplate, Product, SlaClass

CUSTOMER_CHOICES = 200  # the drafter's own customers offered in the customer select


class ProductField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.label}"


class PersonField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


class AgreementForm(RefuseControlCharacters, forms.Form):
    """The agreement's terms. On create also the customer and the template; on an effective agreement the
    reason of the change."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    template = forms.ModelChoiceField(label=_("Template"), queryset=AgreementTemplate.objects.filter(is_active=True),
                                      required=False)  # fmt: skip
    title = forms.CharField(label=_("Title"), max_length=200)
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=0, max_value=32767, initial=12)
    discount_cap = forms.DecimalField(label=_("Discount cap (%)"), max_digits=5, decimal_places=2, initial=0)
    sla_class = forms.ChoiceField(label=_("SLA class"), choices=SlaClass.choices, initial=SlaClass.STANDARD)
    auto_renewal = forms.BooleanField(label=_("Renews automatically"), required=False)
    starts_on = forms.DateField(label=_("Starts on"), required=False, widget=DATE,
                                help_text=_("Empty: the day it becomes effective."))  # fmt: skip
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=DATE,
                              help_text=_("Empty: at the end of the term."))  # fmt: skip
    terms = forms.CharField(label=_("Terms"), required=False, max_length=20000, widget=TEXT)
    editors = PersonField(label=_("Named editors"), queryset=User.objects.none(), required=False,
                          help_text=_("Who may change the agreement once it is effective."))  # fmt: skip
    reason = forms.CharField(label=_("Reason for the change"), max_length=300, required=False)

    def __init__(self, *args, user: User, agreement: Agreement | None = None, customer: Customer | None = None,
                 **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.agreement = agreement
        visible = Customer.objects.visible_to(user).live()
        if agreement is not None:
            del self.fields["customer"], self.fields["template"]
            customer = agreement.customer
        elif customer is not None:
            self.fields["customer"].queryset = visible
            self.fields["customer"].initial = customer.pk
            self.fields["customer"].widget = forms.HiddenInput()
        else:
            self.fields["customer"].queryset = visible.filter(account_manager=user).order_by("name")[:CUSTOMER_CHOICES]
        if agreement is None or agreement.status != Agreement.Status.EFFECTIVE:
            del self.fields["reason"]
        # Editors: who serves the customer (its account manager and the team's supervisor), the drafter, and
        # whoever is an editor already; the service checks that each sees the customer.
        manager = customer.account_manager if customer is not None else user
        ids = {user.pk}
        if manager is not None:
            ids.add(manager.pk)
            if manager.team_id:
                ids.update(User.objects.filter(supervised_teams=manager.team_id).values_list("pk", flat=True))
        candidates = User.objects.filter(pk__in=ids, is_active=True)
        if agreement is not None:
            ids.add(agreement.created_by_id)
            candidates = User.objects.filter(Q(pk__in=ids, is_active=True) | Q(editable_agreements=agreement))
        self.fields["editors"].queryset = candidates.distinct().order_by("display_name", "username")


class ItemForm(RefuseControlCharacters, forms.Form):
    product = ProductField(label=_("Product"), queryset=Product.objects.offered().order_by("code"))
    unit_price = forms.DecimalField(label=_("Unit price (RMB/month)"), max_digits=12, decimal_places=2, min_value=0)
    discount = forms.DecimalField(label=_("Discount (%)"), max_digits=5, decimal_places=2, min_value=0,
                                  max_value=100, required=False)  # fmt: skip
    max_quantity = forms.IntegerField(label=_("Maximum quantity"), min_value=1, max_value=2147483647, required=False)


ItemFormSet = forms.formset_factory(ItemForm, extra=2, max_num=50, absolute_max=50, validate_max=True,
                                    can_delete=True)  # fmt: skip


def items_of(formset) -> list[dict]:
    """The filled, not deleted rows of a valid formset."""
    return [
        {k: form.cleaned_data.get(k) for k in ("product", "unit_price", "discount", "max_quantity")}
        for form in formset.forms
        if form.cleaned_data and form.cleaned_data.get("product") and not form.cleaned_data.get("DELETE")
    ]


class ReasonForm(RefuseControlCharacters, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class SignForm(forms.Form):
    signed_on = forms.DateField(label=_("Signed on"), required=False, widget=DATE)


class ActivateForm(forms.Form):
    starts_on = forms.DateField(label=_("Starts on"), required=False, widget=DATE)
