"""Opportunities API serializers: output shapes and input serializers that only check shapes and types.

The services (opportunities.services) apply the business rules and write. Users are given by id, channels
by their code, close reasons by their code and products by their catalogue code (`INET`, `DATA`...): codes
are stable across databases, which matters to the web portal and partner systems that capture through the API.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from channels.models import ChannelType, Team, User
from customers.fields import VisibleContactField, VisibleCustomerField
from customers.models import Customer, Industry, Region
from kam.api.fields import DateTimeField, StrictBooleanField, StrictCharField
from kam.validators import INT_MAX
from opportunities.models import (
    Activity,
    CloseReason,
    Kind,
    NeedType,
    Opportunity,
    RoutingRule,
    Stage,
    Transfer,
)
from orders.models import Product

# The channels `dispatch` accepts (opportunities.services.dispatch maps each to a pool or rule).
DISPATCH_CHANNELS = ("account_manager", "social_channel", "phone_account_manager", "operations_center")


def _text(**kwargs) -> StrictCharField:
    return StrictCharField(required=False, allow_blank=True, **kwargs)


def _code_field(model, **kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="code", queryset=model.objects.all(), **kwargs)


def _read_code(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="code", read_only=True, **kwargs)


class ProductCodesField(serializers.ListField):
    """A list of catalogue product codes, resolved to active products; unknown or retired codes are named
    in the error."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _('Catalogue product codes, e.g. ["INET", "DATA"].'))
        super().__init__(child=StrictCharField(max_length=20), max_length=50, **kwargs)

    def to_internal_value(self, data):
        codes = list(dict.fromkeys(super().to_internal_value(data)))
        products = {p.code: p for p in Product.objects.filter(code__in=codes, is_active=True)}
        unknown = [code for code in codes if code not in products]
        if unknown:
            raise serializers.ValidationError(
                _("Not in the catalogue (or retired): %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        return [products[code] for code in codes]


# --- output ------------------------------------------------------------------------------------------------


class CustomerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name"]
        read_only_fields = fields


OPPORTUNITY_OUTPUT_FIELDS = [
    "id", "code", "kind", "title", "description", "customer", "contact", "contact_name", "contact_phone",
    "key_person", "need_type", "informatisation", "products", "stage", "probability", "expected_value",
    "weighted_value", "expected_close", "contact_channel", "captured_by", "routing_status", "assigned_to",
    "assigned_team", "assigned_channel", "assigned_partner", "second_cover", "dispatched_at", "claim_due_at",
    "return_due_at", "claimed_by", "claimed_at", "next_action", "next_action_due", "last_activity_at",
    "closed_at", "close_reason", "competitor", "close_note", "created_at",
]  # fmt: skip


class OpportunitySerializer(serializers.ModelSerializer):
    """A lead or opportunity. People are user ids; channels, close reason and products are codes."""

    customer = CustomerRefSerializer(read_only=True)
    products = _read_code(many=True)
    contact_channel = _read_code(allow_null=True)
    assigned_channel = _read_code(allow_null=True)
    close_reason = _read_code(allow_null=True)
    weighted_value = serializers.DecimalField(
        max_digits=16, decimal_places=2, read_only=True, allow_null=True,
        help_text=_("Expected value × probability."),
    )  # fmt: skip

    class Meta:
        model = Opportunity
        fields = OPPORTUNITY_OUTPUT_FIELDS
        read_only_fields = fields


class OpportunityConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    routing_status = serializers.CharField(required=False)
    claimed_by = serializers.IntegerField(required=False, allow_null=True)


class TransferSerializer(serializers.ModelSerializer):
    from_channel = _read_code(allow_null=True)
    to_channel = _read_code(allow_null=True)

    class Meta:
        model = Transfer
        fields = ["id", "action", "from_user", "from_channel", "to_user", "to_channel", "to_team", "to_partner",
                  "by", "at", "reason", "rule", "rule_name"]  # fmt: skip
        read_only_fields = fields


class ActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = ["id", "kind", "at", "by", "notes"]
        read_only_fields = fields


class RoutingRuleSerializer(serializers.ModelSerializer):
    """A routing rule as stored; empty conditions match anything. Writes: admins only."""

    name = StrictCharField(max_length=100)
    tiers = serializers.ListField(child=StrictCharField(max_length=2), required=False)
    region_prefixes = serializers.ListField(child=StrictCharField(max_length=12), required=False)
    industries = serializers.ListField(child=StrictCharField(max_length=4), required=False)
    products = _code_field(Product, many=True, required=False)
    contact_channels = _code_field(ChannelType, many=True, required=False)
    target_team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    target_user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )

    class Meta:
        model = RoutingRule
        fields = ["id", "name", "priority", "is_active", "kind", "customer_condition", "tiers", "region_prefixes",
                  "industries", "products", "contact_channels", "amount_min", "amount_max", "use_channel_matrix",
                  "target", "target_team", "target_user", "second_cover", "capacity", "updated_at"]  # fmt: skip
        read_only_fields = ["id", "updated_at"]
        # PositiveIntegerField's range on every database (SQLite's own would let 2**40 through).
        extra_kwargs = {"priority": {"max_value": INT_MAX}, "capacity": {"max_value": INT_MAX}}

    def validate(self, attrs):
        # The table's check constraints, answered as field errors instead of an IntegrityError.
        merged = {f: getattr(self.instance, f) for f in ("target", "target_team", "target_user", "amount_min",
                                                          "amount_max")} if self.instance else {}  # fmt: skip
        merged.update(attrs)
        errors = {}
        if merged.get("target") == RoutingRule.Target.TEAM_POOL and not merged.get("target_team"):
            errors["target_team"] = [_("A team pool needs its team.")]
        if merged.get("target") == RoutingRule.Target.USER and not merged.get("target_user"):
            errors["target_user"] = [_("Name the person.")]
        low, high = merged.get("amount_min"), merged.get("amount_max")
        if low is not None and high is not None and low > high:
            errors["amount_max"] = [_("The upper bound is below the lower bound.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class TraceStepSerializer(serializers.Serializer):
    rule = serializers.CharField()
    matched = serializers.BooleanField()
    why = serializers.CharField()


class PlacementSerializer(serializers.Serializer):
    """routing.Placement: where the opportunity would go."""

    rule = serializers.IntegerField(source="rule.pk", allow_null=True, default=None)
    rule_name = serializers.CharField(source="rule.name", allow_null=True, default=None)
    to_queue = serializers.BooleanField(help_text=_("Nothing placed it: the operations-center queue."))
    user = serializers.IntegerField(source="user.pk", allow_null=True, default=None)
    team = serializers.IntegerField(source="team_id", allow_null=True)
    partner = serializers.IntegerField(source="partner.pk", allow_null=True, default=None)
    channel = serializers.CharField(source="channel.code", allow_null=True, default=None)
    second_cover = serializers.IntegerField(source="second_cover.pk", allow_null=True, default=None)
    reason = serializers.CharField()
    trace = serializers.SerializerMethodField()

    @extend_schema_field(TraceStepSerializer(many=True))
    def get_trace(self, placement) -> list:
        return [{"rule": rule, "matched": matched, "why": str(why)} for rule, matched, why in placement.trace]


# --- input -------------------------------------------------------------------------------------------------


class OpportunityInputSerializer(serializers.Serializer):
    """Capture: an existing `customer` (id) or a prospect (`prospect_name`, which goes through duplicate
    matching), never both. `contact_channel` defaults to the capturing user's channel."""

    kind = serializers.ChoiceField(choices=Kind.choices)
    title = StrictCharField(max_length=200)
    description = _text()
    customer = VisibleCustomerField(required=False, allow_null=True)
    prospect_name = StrictCharField(required=False, allow_blank=True, max_length=200)
    prospect_phone = _text(max_length=30)
    prospect_region = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.all(), required=False, allow_null=True, help_text=_("Region code.")
    )
    prospect_industry = serializers.PrimaryKeyRelatedField(
        queryset=Industry.objects.all(), required=False, allow_null=True, help_text=_("Industry code.")
    )
    confirm_not_duplicate = StrictBooleanField(
        required=False,
        help_text=_(
            "Set to true to register the prospect although likely duplicates exist (after a 409 answer)."
        ),  # fmt: skip
    )
    contact_channel = _code_field(ChannelType, required=False, allow_null=True)
    contact = VisibleContactField(required=False, allow_null=True)
    contact_name = _text(max_length=50)
    contact_phone = _text(max_length=30)
    key_person = _text(max_length=100)
    need_type = serializers.ChoiceField(choices=NeedType.choices, required=False, allow_blank=True)
    informatisation = _text()
    products = ProductCodesField(required=False)
    expected_value = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True,
                                              min_value=0)  # fmt: skip
    expected_close = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs):
        if bool(attrs.get("customer")) == bool((attrs.get("prospect_name") or "").strip()):
            raise serializers.ValidationError(
                {"customer": [_("Name an existing customer or a new prospect (prospect_name), one of the two.")]}
            )
        return attrs


class ReturnInputSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=1000, help_text=_("Why you cannot serve it."))


class DispatchInputSerializer(serializers.Serializer):
    to_user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    to_channel = serializers.ChoiceField(
        choices=[(c, c) for c in DISPATCH_CHANNELS],
        required=False,
        help_text=_("A channel whose pool or default rule picks the receiver."),
    )
    reason = _text(max_length=1000)

    def validate(self, attrs):
        if bool(attrs.get("to_user")) == bool(attrs.get("to_channel")):
            raise serializers.ValidationError({"to_user": [_("Name a person or a channel (one of the two).")]})
        return attrs


class StageInputSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    note = _text(max_length=1000)


class CloseInputSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=[(s, Stage(s).label) for s in (Stage.WON, Stage.LOST, Stage.SUSPENDED)])
    reason = _code_field(CloseReason, required=False, allow_null=True, help_text=_("Close reason code."))
    competitor = _text(max_length=100)
    note = _text()


class QualifyInputSerializer(serializers.Serializer):
    products = ProductCodesField(required=False)
    expected_value = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True,
                                              min_value=0)  # fmt: skip
    expected_close = serializers.DateField(required=False, allow_null=True)
    need_type = serializers.ChoiceField(choices=NeedType.choices, required=False, allow_blank=True)


class ActivityInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Activity.Kind.choices, required=False)
    notes = StrictCharField()
    at = DateTimeField(required=False, allow_null=True, help_text=_("When; default now."))
    next_action = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=200)
    next_action_due = serializers.DateField(required=False, allow_null=True)


class RuleTestInputSerializer(serializers.Serializer):
    opportunity = serializers.PrimaryKeyRelatedField(queryset=Opportunity.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "request" in self.context:
            self.fields["opportunity"].queryset = Opportunity.objects.visible_to(self.context["request"].user)
