"""API serializers: output serializers per role, input serializers with explicit allow-listed fields.

Input serializers only check shapes and types; the services (customers.services) apply the business
rules and write. Types are strict: a JSON number where a string is expected is refused, not coerced.
"""

import datetime

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from channels.models import User
from customers import identifiers
from customers.fields import VisibleContactField, VisibleCustomerField
from customers.models import (
    Contact,
    Customer,
    GroupMember,
    Industry,
    MergeRecord,
    Region,
    SpendCategory,
    SpendRecord,
    Tier,
    Visit,
)
from customers.policy import may_see_staff_contacts
from customers.services import feed_customer_map
from kam.api.fields import (
    EmailField,
    StrictBooleanField,
    StrictCharField,
    URLField,
    count_field,
    id_field,
    optional_text,
)

# A feed request is validated row by row in memory and written in one transaction; this bounds both.
FEED_MAX_ROWS = 5000


def _active_staff():
    return User.objects.filter(is_active=True)


# --- output ------------------------------------------------------------------------------------------------


class StaffSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name", "mobile"]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not may_see_staff_contacts(request.user):
            data["mobile"] = ""
        return data


CUSTOMER_OUTPUT_FIELDS = [
    "id", "code", "name", "short_name", "credit_code", "credit_code_exception", "address", "postal_code", "region",
    "industry", "ownership", "phone", "email", "website", "employees", "members_count", "relationship_since",
    "status", "tier", "is_strategic", "account_manager", "parent", "merged_into", "created_at", "updated_at",
    "tier_changed_at", "service_tier",
    *Customer.SENSITIVE_FIELDS,
]  # fmt: skip
# Tier and value outputs that are finance data (Customer.FINANCE_FIELDS): maintained by customers.tiering,
# read-only everywhere, not for call-center agents.
CUSTOMER_FINANCE_OUTPUT_FIELDS = Customer.FINANCE_FIELDS
CUSTOMER_OUTPUT_FIELDS += CUSTOMER_FINANCE_OUTPUT_FIELDS


class CustomerSerializer(serializers.ModelSerializer):
    """A customer as its account manager, supervisor, data steward, analyst and admin see it."""

    account_manager = StaffSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Customer
        fields = CUSTOMER_OUTPUT_FIELDS
        read_only_fields = fields


class CustomerServiceSerializer(CustomerSerializer):
    """A customer as a call-center agent sees it: no finance, strategy, attitude or budget fields.
    The views pick it whenever customers.policy.hidden_customer_fields(user) is not empty."""

    class Meta(CustomerSerializer.Meta):
        fields = [
            f for f in CUSTOMER_OUTPUT_FIELDS
            if f not in Customer.SENSITIVE_FIELDS and f not in CUSTOMER_FINANCE_OUTPUT_FIELDS
        ]  # fmt: skip
        read_only_fields = fields


class MergeRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = MergeRecord
        fields = ["id", "survivor", "duplicate", "merged_by", "merged_at", "reason", "moved"]
        read_only_fields = fields


CONTACT_OUTPUT_FIELDS = [
    "id", "customer", "name", "gender", "birthday", "education", "department", "title", "decision_role", "influence",
    "attitude", "mobile", "office_phone", "email", "address", "hobbies", "character", "is_key_person", "active_from",
    "active_to", "created_at", "updated_at",
]  # fmt: skip


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = CONTACT_OUTPUT_FIELDS
        read_only_fields = fields


class ContactServiceSerializer(ContactSerializer):
    """A contact as a call-center agent sees it (customers.policy.hidden_contact_fields)."""

    class Meta(ContactSerializer.Meta):
        fields = [f for f in CONTACT_OUTPUT_FIELDS if f not in Contact.SENSITIVE_FIELDS]
        read_only_fields = fields


class VisitSerializer(serializers.ModelSerializer):
    visited_by = StaffSerializer(read_only=True)

    class Meta:
        model = Visit
        fields = ["id", "customer", "visited_on", "kind", "contacts", "purpose", "outcome", "next_step",
                  "next_visit_on", "visited_by", "created_at"]  # fmt: skip
        read_only_fields = fields


class SpendRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = SpendRecord
        fields = ["id", "customer", "month", "category", "amount", "updated_at"]
        read_only_fields = fields


class GroupMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = GroupMember
        fields = ["id", "customer", "msisdn", "status", "joined_on", "left_on", "updated_at"]
        read_only_fields = fields


class LookupCustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "code", "tier", "status"]
        read_only_fields = fields


class LookupContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "title", "mobile"]
        read_only_fields = fields


class CallerMatchSerializer(serializers.Serializer):
    """One customers.selectors.CallerMatch: who is calling, and whom to put them through to."""

    customer = LookupCustomerSerializer()
    contact = LookupContactSerializer(allow_null=True)
    is_member = serializers.BooleanField(help_text=_("The number is an active mobile on the group's plan."))
    account_manager = StaffSerializer(source="customer.account_manager", allow_null=True)


class FeedResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    customers = serializers.IntegerField()


class HandoverResultSerializer(serializers.Serializer):
    moved = serializers.IntegerField()


# --- input -------------------------------------------------------------------------------------------------


def amount_field() -> serializers.DecimalField:
    """An optional amount in 10k RMB: never negative (Customer's amounts_not_negative constraint)."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0)


class CustomerInputSerializer(serializers.Serializer):
    """What a client may write on a customer: exactly customers.services.CUSTOMER_WRITABLE_FIELDS, plus the
    duplicate confirmation and the reason recorded in the history."""

    name = StrictCharField(max_length=200)
    short_name = optional_text(max_length=100)
    credit_code = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=30)
    credit_code_exception = optional_text(max_length=200)
    address = optional_text(max_length=300)
    postal_code = optional_text(max_length=6)
    region = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all(), required=False, allow_null=True)
    industry = serializers.PrimaryKeyRelatedField(queryset=Industry.objects.all(), required=False, allow_null=True)
    ownership = serializers.ChoiceField(choices=Customer.Ownership.choices, required=False, allow_blank=True)
    phone = optional_text(max_length=30)
    email = EmailField(required=False, allow_blank=True)
    website = URLField(required=False, allow_blank=True)
    employees = count_field(required=False, allow_null=True)
    relationship_since = serializers.DateField(required=False, allow_null=True)
    # All statuses, so the schema shares one enum with the output; the service refuses "merged" with a clear error.
    status = serializers.ChoiceField(choices=Customer.Status.choices, required=False)
    tier = serializers.ChoiceField(choices=Tier.choices, required=False, allow_blank=True)
    is_strategic = StrictBooleanField(required=False)
    account_manager = serializers.PrimaryKeyRelatedField(queryset=_active_staff(), required=False, allow_null=True)
    parent = VisibleCustomerField(required=False, allow_null=True)
    main_business = optional_text()
    organisation = optional_text()
    development_plan = optional_text()
    business_needs = optional_text()
    key_purchase_factors = optional_text()
    purchase_decision_process = optional_text()
    annual_revenue = amount_field()
    profit_growth = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, allow_null=True)
    annual_budget = amount_field()
    telecom_budget = amount_field()
    reimbursement_policy = optional_text()
    competitor_products = optional_text()
    attitude = serializers.ChoiceField(choices=Customer.Attitude.choices, required=False, allow_blank=True)
    confirm_not_duplicate = StrictBooleanField(
        required=False, help_text=_("Set to true to save although likely duplicates exist (after a 409 answer).")
    )
    reason = optional_text(max_length=300, help_text=_("Why the change is made; kept in the change history."))


class MergeInputSerializer(serializers.Serializer):
    duplicate = VisibleCustomerField(help_text=_("The duplicate record; it is merged into the customer in the URL."))
    reason = optional_text(max_length=300)


class HandoverInputSerializer(serializers.Serializer):
    to_user = serializers.PrimaryKeyRelatedField(queryset=_active_staff())
    reason = StrictCharField(max_length=300)


class PortfolioHandoverInputSerializer(serializers.Serializer):
    from_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    to_user = serializers.PrimaryKeyRelatedField(queryset=_active_staff())
    reason = StrictCharField(max_length=300)
    customers = serializers.ListField(
        child=id_field(), required=False, allow_empty=False, max_length=FEED_MAX_ROWS,
        help_text=_("Only these customers of the giving account manager; leave out to hand over the whole portfolio."),
    )  # fmt: skip


class LookupQuerySerializer(serializers.Serializer):
    phone = StrictCharField(max_length=40, help_text=_("The calling number, in any formatting (+86, spaces, dashes)."))


class ContactInputSerializer(serializers.Serializer):
    """Exactly customers.services.CONTACT_WRITABLE_FIELDS; `customer` only when creating (a contact does not move)."""

    name = StrictCharField(max_length=50)
    gender = serializers.ChoiceField(choices=Contact.Gender.choices, required=False, allow_blank=True)
    birthday = serializers.DateField(required=False, allow_null=True)
    education = serializers.ChoiceField(choices=Contact.Education.choices, required=False, allow_blank=True)
    department = optional_text(max_length=100)
    title = optional_text(max_length=100)
    decision_role = serializers.ChoiceField(choices=Contact.DecisionRole.choices, required=False, allow_blank=True)
    influence = serializers.ChoiceField(choices=Contact.Influence.choices, required=False, allow_blank=True)
    attitude = serializers.ChoiceField(choices=Customer.Attitude.choices, required=False, allow_blank=True)
    mobile = optional_text(max_length=20)
    office_phone = optional_text(max_length=30)
    email = EmailField(required=False, allow_blank=True)
    address = optional_text(max_length=300)
    hobbies = optional_text()
    character = optional_text()
    is_key_person = StrictBooleanField(required=False)
    active_from = serializers.DateField(required=False, allow_null=True)
    active_to = serializers.DateField(required=False, allow_null=True)
    reason = optional_text(max_length=300, help_text=_("Why the change is made; kept in the change history."))


class ContactCreateSerializer(ContactInputSerializer):
    customer = VisibleCustomerField()


class VisitInputSerializer(serializers.Serializer):
    customer = VisibleCustomerField()
    visited_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=Visit.Kind.choices, required=False)
    contacts = VisibleContactField(many=True, required=False)
    purpose = StrictCharField(max_length=300)
    outcome = optional_text()
    next_step = optional_text(max_length=300)
    next_visit_on = serializers.DateField(required=False, allow_null=True)


# --- billing feeds -----------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class MonthField(serializers.Field):
    """A billed month as "YYYY-MM" or "YYYY-MM-01"; stored as the first day of the month."""

    default_error_messages = {"invalid": _('Give the month as "YYYY-MM" (or "YYYY-MM-01").')}

    def to_internal_value(self, data):
        if isinstance(data, str):
            text = data.strip()
            for pattern in ("%Y-%m", "%Y-%m-%d"):
                try:
                    day = datetime.datetime.strptime(text, pattern).date()
                except ValueError:
                    continue
                if day.day == 1:
                    return day
        self.fail("invalid")

    def to_representation(self, value):
        return value.strftime("%Y-%m")


class SpendRowSerializer(serializers.Serializer):
    customer = id_field()
    month = MonthField()
    category = serializers.ChoiceField(choices=SpendCategory.choices)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)

    unique_fields = ("customer", "month", "category")  # SpendRecord's unique constraint


class MemberRowSerializer(serializers.Serializer):
    customer = id_field()
    msisdn = StrictCharField(max_length=20, help_text=_("11-digit mainland mobile number."))
    status = serializers.ChoiceField(choices=GroupMember.Status.choices)
    joined_on = serializers.DateField()
    left_on = serializers.DateField(required=False, allow_null=True)

    unique_fields = ("customer", "msisdn")  # GroupMember's unique constraint

    def validate_msisdn(self, value):
        digits = identifiers.phone_digits(value)
        if not identifiers.MOBILE_PATTERN.match(digits):
            raise serializers.ValidationError(_("Enter an 11-digit mainland mobile number, e.g. 138 0000 1234."))
        return digits

    def validate(self, attrs):
        # The table has a check constraint on this pairing; refuse it here so the batch never half-fails.
        left_on = attrs.get("left_on")
        if attrs["status"] == GroupMember.Status.ACTIVE and left_on:
            raise serializers.ValidationError({"left_on": [_("An active member has no leaving date.")]})
        if attrs["status"] != GroupMember.Status.ACTIVE and not left_on:
            raise serializers.ValidationError({"left_on": [_("Give the date the member left.")]})
        if left_on and left_on < attrs["joined_on"]:
            raise serializers.ValidationError({"left_on": [_("The leaving date is before the joining date.")]})
        attrs["left_on"] = left_on
        return attrs


def validate_feed(data, row_serializer) -> list[dict]:
    """Validate a whole feed before anything is written: a JSON list of rows or {"rows": [...]}.

    Every bad row is reported under its index ({"rows": {"3": {"amount": [...]}}}); one bad row fails
    the request. Rows naming the same fact twice are refused too (after merged ids are resolved to
    their survivor), since one upsert cannot write a row twice."""
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not rows:
        raise serializers.ValidationError({"rows": [_('Send a non-empty JSON list of rows, or {"rows": [...]}.')]})
    if len(rows) > FEED_MAX_ROWS:
        raise serializers.ValidationError(
            {"rows": [_("At most %(max)d rows per request; split the feed.") % {"max": FEED_MAX_ROWS}]}
        )
    errors: dict[str, dict] = {}
    valid: dict[int, dict] = {}
    for index, raw in enumerate(rows):
        serializer = row_serializer(data=raw)
        if serializer.is_valid():
            valid[index] = serializer.validated_data
        else:
            errors[str(index)] = serializer.errors
    survivors = feed_customer_map({row["customer"] for row in valid.values()})
    seen: dict[tuple, int] = {}
    for index, row in valid.items():
        if row["customer"] not in survivors:
            errors[str(index)] = {"customer": [_("There is no customer with this id.")]}
            continue
        key = (survivors[row["customer"]], *(row[f] for f in row_serializer.unique_fields if f != "customer"))
        if key in seen:
            errors[str(index)] = {"non_field_errors": [_("This row repeats row %(row)d.") % {"row": seen[key]}]}
            continue
        seen[key] = index
    if errors:
        raise serializers.ValidationError({"rows": dict(sorted(errors.items(), key=lambda item: int(item[0])))})
    return [valid[index] for index in sorted(valid)]
