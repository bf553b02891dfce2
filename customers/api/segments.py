"""Segments API: saved segments (own and shared), their members (keyset-paginated, scoped to what the caller
may see), freezing and export. Someone else's private segment is a 404; a shared one can be read by everyone
and changed only by its owner (403). Definitions are validated by customers.segments.criteria; their errors come
back under `errors.definition.<criterion>`.

Analysts may create and share segments although their role is read-only on customer data: a segment is an
analysis, not a change to any customer."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from channels.exports.writers import XLSX_TYPE
from channels.fields import ACCEPTED, api_export_response
from customers.api.serializers import StaffSerializer
from customers.models import Customer, Segment
from customers.policy import may_change_segment, may_see_spend
from customers.segments import exports as segment_exports
from customers.segments import selectors, services
from kam.api.errors import ErrorSerializer
from kam.api.fields import StrictBooleanField, StrictCharField
from kam.api.viewsets import ScopedViewSet

INVALID = {400: OpenApiResponse(ErrorSerializer, description="Invalid input; `errors` names the fields.")}
FORBIDDEN = {403: OpenApiResponse(ErrorSerializer, description="Only the segment's owner may do this.")}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such segment among those you may see.")}
SEGMENT_FIELDS = ("name", "description", "is_shared", "definition")


class SegmentSerializer(serializers.ModelSerializer):
    owner = StaffSerializer(read_only=True)
    is_frozen = serializers.BooleanField(read_only=True)
    definition = serializers.DictField(
        read_only=True, help_text=_("Criteria, all of which a member meets (see the definition schema in the docs).")
    )

    class Meta:
        model = Segment
        fields = ["id", "name", "description", "owner", "is_shared", "is_frozen", "frozen_at", "definition",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields


class SegmentInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    description = StrictCharField(required=False, allow_blank=True)
    is_shared = StrictBooleanField(required=False, help_text=_("Supervisors, analysts and administrators only."))
    definition = serializers.DictField(
        required=False,
        help_text=_(
            'A JSON object of criteria, all of which must hold: tier [codes, "none"], industry [codes], '
            "region (code, with the divisions below it), status [codes], spend_min / spend_max (average monthly "
            "revenue, RMB), spend_trend (growing | stable | declining), members_min / members_max, "
            "value_min / value_max (0-100), account_manager [user ids], no_account_manager (bool), "
            "visit_overdue (bool), is_strategic (bool), and criteria added by later apps."
        ),
    )


class SegmentMemberSerializer(serializers.ModelSerializer):
    account_manager = StaffSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Customer
        fields = ["id", "code", "name", "short_name", "tier", "status", "industry", "region", "account_manager",
                  "members_count", "value_score", "avg_monthly_revenue"]  # fmt: skip
        read_only_fields = fields


class SegmentMemberServiceSerializer(SegmentMemberSerializer):
    """A member row for people who may not see spend (call-center agents): no value or revenue."""

    class Meta(SegmentMemberSerializer.Meta):
        fields = [f for f in SegmentMemberSerializer.Meta.fields if f not in ("value_score", "avg_monthly_revenue")]
        read_only_fields = fields


class IgnoreFormatParameter(DefaultContentNegotiation):
    """On the export, `?format=` names the file type, not a DRF renderer; errors still answer in JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _definition_errors(exc: DjangoValidationError) -> ValidationError:
    """The service keys definition errors by criterion: nest them under `definition`."""
    if not hasattr(exc, "error_dict"):
        return ValidationError({"non_field_errors": exc.messages})
    errors: dict = {}
    for key, messages in exc.message_dict.items():
        if key in SEGMENT_FIELDS:
            errors[key] = messages
        elif key == NON_FIELD_ERRORS:
            errors["non_field_errors"] = messages
        else:
            errors.setdefault("definition", {})[key] = messages
    return ValidationError(errors)


@extend_schema_view(
    list=extend_schema(summary="List segments", description="Your own segments and the shared ones."),
    retrieve=extend_schema(summary="Get a segment", responses={200: SegmentSerializer, **NOT_FOUND}),
    create=extend_schema(
        summary="Save a segment",
        request=SegmentInputSerializer,
        responses={201: SegmentSerializer, **INVALID},
    ),
    update=extend_schema(
        summary="Change a segment",
        description="Owner only; a frozen segment cannot be changed. Fields left out stay as they are.",
        request=SegmentInputSerializer,
        responses={200: SegmentSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a segment",
        request=SegmentInputSerializer,
        responses={200: SegmentSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND},
    ),
    destroy=extend_schema(
        summary="Delete a segment",
        description="Owner only. Frozen segments are kept (campaigns may target them).",
        responses={204: None, **INVALID, **FORBIDDEN, **NOT_FOUND},
    ),
)
class SegmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ScopedViewSet):
    queryset = Segment.objects.none()  # types the schema; get_queryset scopes by user
    serializer_class = SegmentSerializer
    permission_classes = [IsAuthenticated]  # analysts too: a segment is an analysis, not a change to customers
    filter_backends = []

    def get_queryset(self):
        return Segment.objects.visible_to(self.request.user).select_related("owner")

    def _input(self, *, partial: bool) -> dict:
        serializer = SegmentInputSerializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _owned(self) -> Segment:
        segment = self.get_object()
        if not may_change_segment(self.request.user, segment):
            raise PermissionDenied(_("Only the owner may change this segment."))
        return segment

    def create(self, request):
        data = self._input(partial=False)
        try:
            segment = services.segment_create(owner=request.user, definition=data.pop("definition", {}), **data)
        except DjangoValidationError as exc:
            raise _definition_errors(exc) from None
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        segment = self._owned()
        data = self._input(partial=partial)
        try:
            segment = services.segment_update(segment=segment, by=request.user, **data)
        except DjangoValidationError as exc:
            raise _definition_errors(exc) from None
        return Response(SegmentSerializer(segment).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        services.segment_delete(segment=self._owned(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Members of a segment",
        description="The customers of the segment that you may see (a frozen segment: its fixed list), newest "
        "first, by cursor. People who may not see spend get no value score or revenue.",
        responses={200: SegmentMemberSerializer(many=True), **NOT_FOUND},
    )
    @action(detail=True, methods=["get"], serializer_class=SegmentMemberSerializer)
    def members(self, request, pk=None):
        segment = self.get_object()
        try:
            members = selectors.member_rows(selectors.segment_members(segment, user=request.user))
        except DjangoValidationError as exc:
            raise _definition_errors(exc) from None
        page = self.paginate_queryset(members)
        serializer_class = SegmentMemberSerializer if may_see_spend(request.user) else SegmentMemberServiceSerializer
        return self.get_paginated_response(serializer_class(page, many=True).data)

    @extend_schema(
        summary="Freeze a segment",
        description="Owner only. Copies the current members (those you see) into a fixed list for campaigns; "
        "the segment cannot be changed afterwards, only copied.",
        request=None,
        responses={200: SegmentSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def freeze(self, request, pk=None):
        segment = services.segment_freeze(segment=self._owned(), by=request.user)
        return Response(SegmentSerializer(segment).data)

    @extend_schema(
        summary="Export the members",
        description="An XLSX workbook or a CSV file (UTF-8 with BOM) of every member you may see. Up to "
        "KAM_EXPORT_IMMEDIATE_MAX_ROWS rows (5,000 by default) the file is the answer; beyond, the export is "
        "prepared in the background: 202 with the job (see /api/v1/exports/), and you are notified when the file "
        "is ready. Cells that a spreadsheet would run as a formula are escaped.",
        parameters=[
            OpenApiParameter("format", str, enum=["xlsx", "csv"], default="xlsx", description="File type."),
        ],
        responses={
            (200, XLSX_TYPE): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.STR,
            **ACCEPTED,
            **INVALID,
            **NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=IgnoreFormatParameter, pagination_class=None)
    def export(self, request, pk=None):
        segment = self.get_object()
        fmt = request.query_params.get("format", "xlsx")
        if fmt not in ("xlsx", "csv"):
            raise ValidationError({"format": [_("Choose xlsx or csv.")]})
        try:
            source = segment_exports.segment_export_source(segment, user=request.user)
        except DjangoValidationError as exc:
            raise _definition_errors(exc) from None
        return api_export_response(
            user=request.user, kind=segment_exports.SEGMENT, parameters=segment_exports.segment_parameters(segment),
            fmt=fmt, source=source,
        )  # fmt: skip
