"""Tier API: the tier rules (read by everyone, changed by admins), the tier moves of the customers you may
see, and tier evaluations (dry run, evaluation, publication) started by admins and supervisors.

Every read is scoped by customers.tiering.selectors (Customer.objects.visible_to); every write calls a
customers.tiering.services function, which asks customers.policy who may do it."""

import calendar

import django_filters
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from customers.api.serializers import MonthField, StaffSerializer
from customers.models import Customer, Tier, TierBand, TierChange, TierEvaluation, TierPolicy
from customers.policy import may_change_tier_rules
from customers.tiering import engine, selectors, services
from kam.api.errors import FORBIDDEN, INVALID, NOT_FOUND
from kam.api.fields import StrictBooleanField, StrictCharField, count_field
from kam.api.filters import IdFilter
from kam.api.permissions import PERMISSIONS
from kam.api.viewsets import ScopedViewSet, validated
from kam.validators import day_start

# --- serializers -------------------------------------------------------------------------------------------


class TierBandSerializer(serializers.ModelSerializer):
    class Meta:
        model = TierBand
        fields = ["tier", "min_revenue", "min_members", "alt_min_revenue", "strategic_only", "annual_retention"]
        read_only_fields = fields


class TierRulesChangeSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    changed_at = serializers.DateTimeField(source="history_date")
    changed_by = StaffSerializer(source="history_user", allow_null=True)
    reason = serializers.CharField(source="history_change_reason", allow_null=True)


class TierRulesSerializer(serializers.ModelSerializer):
    bands = TierBandSerializer(many=True, help_text=_("Best tier first."))
    history = TierRulesChangeSerializer(many=True, help_text=_("The latest rule versions, newest first."))

    class Meta:
        model = TierPolicy
        fields = ["version", "months_window", "publication", "downgrade_after", "override_months", "ltv_margin",
                  "ltv_discount_rate", "ltv_years", "updated_at", "bands", "history"]  # fmt: skip
        read_only_fields = fields


class TierBandInputSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=Tier.choices)
    min_revenue = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    min_members = count_field(required=False, allow_null=True)
    alt_min_revenue = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    strategic_only = StrictBooleanField(required=False)
    annual_retention = serializers.DecimalField(max_digits=4, decimal_places=3, required=False)


class TierRulesInputSerializer(serializers.Serializer):
    """PUT sends every policy field; PATCH any of them. `bands` lists only the bands that change."""

    months_window = serializers.IntegerField(min_value=1, max_value=24)
    publication = serializers.ChoiceField(choices=TierPolicy.Cadence.choices)
    downgrade_after = serializers.IntegerField(min_value=1, max_value=12)
    override_months = serializers.IntegerField(min_value=1, max_value=60)
    ltv_margin = serializers.DecimalField(max_digits=4, decimal_places=3)
    ltv_discount_rate = serializers.DecimalField(max_digits=4, decimal_places=3)
    ltv_years = serializers.IntegerField(min_value=1, max_value=30)
    bands = TierBandInputSerializer(many=True, required=False)
    reason = StrictCharField(required=False, allow_blank=True, max_length=100,
                             help_text=_("Why the rules change; kept in the history."))  # fmt: skip

    def validate_bands(self, value):
        tiers = [band["tier"] for band in value]
        if len(tiers) != len(set(tiers)):
            raise serializers.ValidationError(_("Each tier at most once."))
        return value


class TierChangeSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = TierChange
        fields = ["id", "customer", "customer_name", "from_tier", "to_tier", "is_upgrade", "source", "reason",
                  "changed_at", "rule_version", "evaluation"]  # fmt: skip
        read_only_fields = fields


class TierEvaluationSerializer(serializers.ModelSerializer):
    period = MonthField()
    started_by = StaffSerializer(allow_null=True)

    class Meta:
        model = TierEvaluation
        fields = ["id", "period", "kind", "rule_version", "started_at", "finished_at", "started_by", "customers",
                  "upgrades", "downgrades", "statements", "customers_written"]  # fmt: skip
        read_only_fields = fields


class TierMoveSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    name = serializers.CharField()
    from_tier = serializers.CharField(source="from")
    to_tier = serializers.CharField(source="to")
    is_upgrade = serializers.BooleanField()
    source = serializers.CharField()
    reason = serializers.CharField()


class TierEvaluationDetailSerializer(TierEvaluationSerializer):
    moves = serializers.SerializerMethodField(
        help_text=_("A dry run's moves, among the customers you may see (up to 5,000 are kept).")
    )

    class Meta(TierEvaluationSerializer.Meta):
        fields = [*TierEvaluationSerializer.Meta.fields, "moves"]
        read_only_fields = fields

    @extend_schema_field(TierMoveSerializer(many=True))
    def get_moves(self, evaluation) -> list[dict]:
        moves = evaluation.moves or []
        user = self.context["request"].user
        if moves and not user.sees_all_customers:
            ids = [move["customer"] for move in moves]
            visible = set(Customer.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
            moves = [m for m in moves if m["customer"] in visible]
        return TierMoveSerializer(moves, many=True).data


class TierEvaluationInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TierEvaluation.Kind.choices)
    period = MonthField(required=False, help_text=_("The billed month to evaluate; default: the latest billed."))


# --- filters -------------------------------------------------------------------------------------------------


class TierChangeFilterSet(django_filters.FilterSet):
    # A plain number, not a choice among all customers (see customers.api.filters.ByCustomerFilterSet).
    customer = IdFilter(field_name="customer_id", label=_("Customer id"))
    month = django_filters.DateFilter(
        method="filter_month", input_formats=["%Y-%m"], label=_("Month of the move (YYYY-MM)")
    )
    direction = django_filters.ChoiceFilter(
        choices=[("up", _("Upgrades")), ("down", _("Downgrades"))], method="filter_direction", label=_("Direction")
    )

    class Meta:
        model = TierChange
        fields = ["customer", "month", "direction"]

    def filter_month(self, queryset, name, value):
        # No bound on a side where the calendar ends (0001-01, 9999-12): kam.validators.day_start.
        first = value.replace(day=1)
        start = day_start(first)
        end = day_start(first, days_later=calendar.monthrange(first.year, first.month)[1])
        if start:
            queryset = queryset.filter(changed_at__gte=start)
        return queryset.filter(changed_at__lt=end) if end else queryset

    def filter_direction(self, queryset, name, value):
        return queryset.filter(is_upgrade=value == "up")


# --- views ---------------------------------------------------------------------------------------------------

RULES_HISTORY = 20  # rule versions shown with the rules


def _rules_payload() -> dict:
    rules = engine.load_rules()
    tier_policy = rules.policy
    tier_policy.bands = rules.bands
    tier_policy.history = list(
        TierPolicy.history.filter(id=tier_policy.pk)
        .select_related("history_user")
        .order_by("-history_date")[:RULES_HISTORY]
    )
    return TierRulesSerializer(tier_policy).data


class TierRulesView(GenericAPIView):
    """The tier rules: policy and bands (DOMAIN.md §1.2)."""

    permission_classes = PERMISSIONS
    serializer_class = TierRulesSerializer
    pagination_class = None
    filter_backends = []

    def get_object(self):
        """The rules are one row, not a queryset: DRF's OPTIONS asks for the object to describe PUT and PATCH."""
        tier_policy = engine.load_rules().policy
        self.check_object_permissions(self.request, tier_policy)
        return tier_policy

    @extend_schema(summary="Get the tier rules", responses={200: TierRulesSerializer})
    def get(self, request):
        return Response(_rules_payload())

    @extend_schema(
        summary="Change the tier rules",
        description="Administrators. Every change bumps the rule version; the history keeps each version. "
        "The next evaluation applies the new rules.",
        request=TierRulesInputSerializer,
        responses={200: TierRulesSerializer, **INVALID, **FORBIDDEN},
    )
    def put(self, request):
        return self._change(request, partial=False)

    @extend_schema(
        summary="Change some of the tier rules",
        description="Administrators. Fields left out stay as they are.",
        request=TierRulesInputSerializer,
        responses={200: TierRulesSerializer, **INVALID, **FORBIDDEN},
    )
    def patch(self, request):
        return self._change(request, partial=True)

    def _change(self, request, *, partial: bool):
        if not may_change_tier_rules(request.user):
            raise PermissionDenied(_("Only an administrator may change the tier rules."))
        data = validated(TierRulesInputSerializer, request, partial=partial)
        bands = {band.pop("tier"): band for band in data.pop("bands", [])}
        reason = data.pop("reason", "")
        services.tier_rules_update(by=request.user, reason=reason, bands=bands, **data)
        return Response(_rules_payload())


@extend_schema_view(
    list=extend_schema(
        summary="List tier moves",
        description="Moves of the customers you may see, newest first. Call-center agents get none (the reasons "
        "quote revenue).",
        responses={200: TierChangeSerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(summary="Get a tier move", responses={200: TierChangeSerializer, **NOT_FOUND}),
)
class TierChangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = TierChange.objects.none()
    serializer_class = TierChangeSerializer
    filterset_class = TierChangeFilterSet

    def get_queryset(self):
        return selectors.tier_changes(user=self.request.user)


@extend_schema_view(
    list=extend_schema(
        summary="List tier evaluations",
        description="Administrators, supervisors and analysts; newest first.",
        responses={200: TierEvaluationSerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(
        summary="Get a tier evaluation",
        description="With a dry run's moves among the customers you may see.",
        responses={200: TierEvaluationDetailSerializer, **NOT_FOUND},
    ),
    create=extend_schema(
        summary="Start a tier evaluation",
        description="Administrators start any kind; supervisors dry runs and evaluations. It runs in the background: "
        "the answer is the pending evaluation, finished when `finished_at` is set.",
        request=TierEvaluationInputSerializer,
        responses={202: TierEvaluationSerializer, **INVALID, **FORBIDDEN},
    ),
)
class TierEvaluationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    queryset = TierEvaluation.objects.none()

    def get_queryset(self):
        return TierEvaluation.objects.visible_to(self.request.user).select_related("started_by")

    def get_serializer_class(self):
        return TierEvaluationDetailSerializer if self.action == "retrieve" else TierEvaluationSerializer

    def create(self, request):
        data = validated(TierEvaluationInputSerializer, request)
        evaluation = services.tier_evaluation_start(kind=data["kind"], period=data.get("period"), by=request.user)
        evaluation.refresh_from_db()  # finished already when the task ran eagerly
        return Response(TierEvaluationSerializer(evaluation).data, status=status.HTTP_202_ACCEPTED)
