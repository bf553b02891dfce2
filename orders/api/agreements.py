"""Agreements API (`/api/v1/agreements/`): serializers and the viewset.

Every queryset starts from Agreement.objects.visible_to(user): another customer's agreement is a 404 on its
detail, its versions and every action. Input serializers check shapes and bounds; the term checks, who may do
what and the life cycle are orders.services.agreements. Its errors map to one answer each: InvalidTransition
→ 409 (the state does not allow it, like opportunities' Conflict), PermissionDenied → 403, ValidationError →
400 with the fields named."""

import django_filters
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from channels.models import User
from customers.fields import VisibleCustomerField
from kam.api.errors import FORBIDDEN, INVALID, NOT_FOUND, ErrorSerializer, conflict_response
from kam.api.fields import StrictBooleanField, StrictCharField, count_field, optional_text
from kam.api.filters import IdFilter
from kam.api.viewsets import ScopedViewSet, validated
from orders.models import Agreement, AgreementItem, AgreementTemplate, AgreementVersion, Product, SlaClass
from orders.selectors import agreements as selectors
from orders.services import agreements as services

CONFLICT = {409: OpenApiResponse(ErrorSerializer, description="The agreement is not in a state that allows this "
                                 "(already submitted, approved, effective; changed meanwhile).")}  # fmt: skip


# --- output ------------------------------------------------------------------------------------------------


class AgreementItemSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = AgreementItem
        fields = ["product", "unit_price", "discount", "max_quantity", "note"]
        read_only_fields = fields


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name"]
        read_only_fields = fields


class AgreementListSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    drafted_by = serializers.CharField(source="created_by.__str__", read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id", "number", "title", "customer", "customer_name", "status", "version", "starts_on", "ends_on",
            "term_months", "auto_renewal", "sla_class", "discount_cap", "drafted_by", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class AgreementSerializer(AgreementListSerializer):
    items = AgreementItemSerializer(many=True, read_only=True)
    editors = PersonSerializer(many=True, read_only=True)
    template = serializers.SlugRelatedField(slug_field="code", read_only=True)
    approved_by = serializers.CharField(source="approved_by.__str__", read_only=True, default=None)

    class Meta(AgreementListSerializer.Meta):
        fields = [
            *AgreementListSerializer.Meta.fields, "template", "terms", "items", "editors", "submitted_at",
            "approved_by", "approved_at", "approval_note", "signed_on", "effective_at", "ended_at", "end_reason",
        ]  # fmt: skip
        read_only_fields = fields


class AgreementVersionSerializer(serializers.ModelSerializer):
    changed_by = serializers.CharField(source="changed_by.__str__", read_only=True)

    class Meta:
        model = AgreementVersion
        fields = ["version", "changed_by", "changed_at", "reason", "changes"]
        read_only_fields = fields


# --- input -------------------------------------------------------------------------------------------------


class ItemInputSerializer(serializers.Serializer):
    product = serializers.SlugRelatedField(
        slug_field="code", queryset=Product.objects.filter(is_active=True), help_text=gettext_lazy("Catalogue code.")
    )
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    discount = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False)
    max_quantity = count_field(min_value=1, required=False, allow_null=True)
    note = optional_text(max_length=200)


class EditorField(serializers.PrimaryKeyRelatedField):
    """An active user by id."""

    def __init__(self, **kwargs):
        super().__init__(queryset=User.objects.filter(is_active=True), **kwargs)


class AgreementUpdateSerializer(serializers.Serializer):
    title = StrictCharField(max_length=200, required=False)
    terms = optional_text(max_length=20000)
    term_months = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    discount_cap = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    sla_class = serializers.ChoiceField(choices=SlaClass.choices, required=False)
    auto_renewal = StrictBooleanField(required=False)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    items = ItemInputSerializer(many=True, required=False, max_length=100)
    editors = serializers.ListField(child=EditorField(), required=False, max_length=50,
                                    help_text=gettext_lazy("User ids of the named editors."))  # fmt: skip
    reason = optional_text(max_length=300, help_text=gettext_lazy("Required once the agreement is effective."))


class AgreementCreateSerializer(AgreementUpdateSerializer):
    customer = VisibleCustomerField()
    template = serializers.SlugRelatedField(
        slug_field="code", queryset=AgreementTemplate.objects.filter(is_active=True), required=False, allow_null=True
    )
    title = StrictCharField(max_length=200)
    reason = None


class ReasonSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=300)


class ApproveSerializer(serializers.Serializer):
    note = optional_text(max_length=300)


class SignSerializer(serializers.Serializer):
    signed_on = serializers.DateField(required=False)


class ActivateSerializer(serializers.Serializer):
    starts_on = serializers.DateField(required=False)


# --- filters -----------------------------------------------------------------------------------------------


class AgreementFilterSet(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label=gettext_lazy("Customer id"))
    status = django_filters.MultipleChoiceFilter(
        choices=Agreement.Status.choices, label=gettext_lazy("Status (repeat for several)")
    )
    expiring_within = django_filters.NumberFilter(
        method="filter_expiring", min_value=0, max_value=3650,
        label=gettext_lazy("Effective and ending within this many days"),
    )  # fmt: skip

    class Meta:
        model = Agreement
        fields = ["customer", "status", "expiring_within"]

    def filter_expiring(self, queryset, name, value):
        return queryset.filter(selectors.expiring_q(int(value)))


# --- viewset -----------------------------------------------------------------------------------------------

ANSWERS = {200: AgreementSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND, **CONFLICT}


@extend_schema_view(
    list=extend_schema(
        summary="List agreements",
        description="Agreements of the customers you may see, newest first. `expiring_within=90`: effective ones "
        "ending within 90 days.",
        responses={200: AgreementListSerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(summary="Get an agreement", responses={200: AgreementSerializer, **NOT_FOUND}),
    create=extend_schema(
        summary="Draft an agreement",
        description="Terms not given come from the `template` (code); without `items` the template's products "
        "are listed at their lowest list price. Every violated term is named in `errors`.",
        request=AgreementCreateSerializer,
        responses={201: AgreementSerializer, **INVALID, **FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary="Change an agreement",
        description="A draft: its drafter or the customer's account manager. Effective: only a named editor, "
        "with a `reason`; each change is a new version (see `versions`). `items` replaces all items.",
        request=AgreementUpdateSerializer,
        responses=ANSWERS,
    ),
)
class AgreementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Agreement.objects.none()
    serializer_class = AgreementSerializer
    filterset_class = AgreementFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            return selectors.agreement_rows(user)
        if self.action == "retrieve":
            return selectors.agreement_detail(user)
        return Agreement.objects.visible_to(user)

    def get_serializer_class(self):
        return AgreementListSerializer if self.action == "list" else AgreementSerializer

    def handle_exception(self, exc):
        if isinstance(exc, services.InvalidTransition):
            return conflict_response(" ".join(exc.messages))
        return super().handle_exception(exc)

    def _answer(self, pk, *, code=status.HTTP_200_OK) -> Response:
        return Response(AgreementSerializer(selectors.agreement_detail(self.request.user).get(pk=pk)).data, status=code)

    def create(self, request):
        data = validated(AgreementCreateSerializer, request)
        agreement = services.agreement_create(
            data.pop("customer"), by=request.user, template=data.pop("template", None), title=data.pop("title"),
            items=data.pop("items", None), editors=data.pop("editors", ()), **data,
        )  # fmt: skip
        return self._answer(agreement.pk, code=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        agreement = self.get_object()
        data = validated(AgreementUpdateSerializer, request)
        services.agreement_update(
            agreement, by=request.user, reason=data.pop("reason", ""), items=data.pop("items", None),
            editors=data.pop("editors", None), **data,
        )  # fmt: skip
        return self._answer(agreement.pk)

    @extend_schema(summary="Submit it for internal approval", request=None, responses=ANSWERS)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        services.agreement_submit(self.get_object(), by=request.user)
        return self._answer(pk)

    @extend_schema(
        summary="Approve it (the approver)",
        description="The supervisor of the customer's account manager's team, or an admin.",
        request=ApproveSerializer,
        responses=ANSWERS,
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        agreement = self.get_object()
        services.agreement_approve(
            agreement, by=request.user, note=validated(ApproveSerializer, request).get("note", "")
        )
        return self._answer(pk)

    @extend_schema(summary="Send it back to draft (the approver)", request=ReasonSerializer, responses=ANSWERS)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        agreement = self.get_object()
        services.agreement_reject(agreement, by=request.user, reason=validated(ReasonSerializer, request)["reason"])
        return self._answer(pk)

    @extend_schema(summary="Record the customer's signature", request=SignSerializer, responses=ANSWERS)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        agreement = self.get_object()
        services.agreement_sign(
            agreement, by=request.user, signed_on=validated(SignSerializer, request).get("signed_on")
        )
        return self._answer(pk)

    @extend_schema(
        summary="Make it effective",
        description="Numbers it (AG + 8 digits); it starts on `starts_on` (today by default) and ends after its term.",
        request=ActivateSerializer,
        responses=ANSWERS,
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        agreement = self.get_object()
        starts_on = validated(ActivateSerializer, request).get("starts_on")
        services.agreement_activate(agreement, by=request.user, starts_on=starts_on)
        return self._answer(pk)

    @extend_schema(summary="Terminate it before its end", request=ReasonSerializer, responses=ANSWERS)
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        agreement = self.get_object()
        services.agreement_terminate(agreement, by=request.user, reason=validated(ReasonSerializer, request)["reason"])
        return self._answer(pk)

    @extend_schema(
        summary="Its versions",
        description="Newest first: who changed what (`changes`: field → [before, after]; items as "
        "`item:<product code>`) and why.",
        responses={200: AgreementVersionSerializer(many=True), **NOT_FOUND},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def versions(self, request, pk=None):
        page = self.paginate_queryset(selectors.versions_of(self.get_object()))
        return self.get_paginated_response(AgreementVersionSerializer(page, many=True).data)
