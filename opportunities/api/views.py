"""Opportunities API. Every queryset starts from Opportunity.objects.visible_to(user), so another person's
opportunity is a 404 on its detail and on every action; writes validate an input serializer and call
opportunities.services, which decide who may do what. Service errors map to one answer each:
Conflict → 409, PermissionDenied → 403, Opportunity.DoesNotExist → 404, ValidationError → 400."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from channels.roles import Role
from customers import selectors as customer_selectors
from customers.fields import DuplicateConflictSerializer, DuplicateSerializer
from customers.services import DuplicateWarning
from kam.api.errors import FORBIDDEN, INVALID, NOT_FOUND, conflict_response
from kam.api.viewsets import ScopedViewSet, validated
from opportunities import policy, routing, services
from opportunities.api import filters
from opportunities.api import serializers as s
from opportunities.models import Opportunity, RoutingRule, Transfer
from orders.models import Product

CONFLICT = {409: OpenApiResponse(s.OpportunityConflictSerializer, description="The opportunity is not in a state "
                                 "that allows this (already claimed, closed, changed meanwhile).")}  # fmt: skip
DUPLICATES = {409: OpenApiResponse(DuplicateConflictSerializer, description="The prospect may already exist; "
                                   "resend with `confirm_not_duplicate: true` to register it anyway.")}  # fmt: skip
ACTION_ANSWERS = {200: s.OpportunitySerializer, **INVALID, **FORBIDDEN, **NOT_FOUND, **CONFLICT}


def opportunity_rows(user):
    """The caller's opportunities with what the serializer reads: constant queries per page."""
    return (
        Opportunity.objects.visible_to(user)
        .select_related("customer", "contact_channel", "assigned_channel", "close_reason")
        .prefetch_related(Prefetch("products", queryset=Product.objects.only("id", "code")))
    )


def prospect_duplicates_response(exc: DuplicateWarning, user) -> Response:
    """409 with the likely duplicates the caller may see; the others are only counted, never named."""
    shown, hidden = customer_selectors.visible_duplicates(user=user, candidates=exc.candidates)
    return conflict_response(str(exc), duplicates=DuplicateSerializer(shown, many=True).data, hidden_duplicates=hidden)


@extend_schema_view(
    list=extend_schema(
        summary="List leads and opportunities",
        description="Those you may see (captured by you, sent to you, your pool or partner, your portfolio's "
        "customers; the operations center sees all), newest first.",
        responses={200: s.OpportunitySerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(summary="Get a lead or opportunity", responses={200: s.OpportunitySerializer, **NOT_FOUND}),
    create=extend_schema(
        summary="Capture a lead or opportunity",
        description="Routed asynchronously after the answer: it comes back with `routing_status: pending`. "
        "Name an existing `customer` (id) or a prospect (`prospect_name`); a prospect that may already exist "
        "answers 409 with the candidates you may see. `products` are catalogue product codes.",
        request=s.OpportunityInputSerializer,
        responses={201: s.OpportunitySerializer, **INVALID, **FORBIDDEN, **DUPLICATES},
    ),
)
class OpportunityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Opportunity.objects.none()  # types the schema; get_queryset scopes by user
    serializer_class = s.OpportunitySerializer
    filterset_class = filters.OpportunityApiFilterSet

    def get_queryset(self):
        if self.action in ("list", "retrieve"):
            return opportunity_rows(self.request.user)
        # Actions only need to know the caller may see it; the service reloads (and locks) the row.
        return Opportunity.objects.visible_to(self.request.user)

    def handle_exception(self, exc):
        if isinstance(exc, services.Conflict):
            return self._conflict(exc)
        if isinstance(exc, Opportunity.DoesNotExist):
            exc = NotFound(_("No such opportunity."))
        return super().handle_exception(exc)

    def _conflict(self, exc) -> Response:
        """The 409 says why, and where the opportunity stands now (who claimed it)."""
        extra = {}
        pk = self.kwargs.get("pk")
        if pk is not None:
            row = (
                Opportunity.objects.visible_to(self.request.user)
                .filter(pk=pk)
                .values("routing_status", "claimed_by")
                .first()
            )
            extra = row or {}
        return conflict_response(str(exc), **extra)

    def _answer(self, pk) -> Response:
        return Response(self.get_serializer(opportunity_rows(self.request.user).get(pk=pk)).data)

    def create(self, request):
        data = validated(s.OpportunityInputSerializer, request)
        prospect = services.Prospect.from_input(data)
        for field in ("prospect_name", "prospect_phone", "prospect_region", "prospect_industry"):
            data.pop(field, None)
        try:
            opp = services.opportunity_capture(
                by=request.user, prospect=prospect, confirm_not_duplicate=data.pop("confirm_not_duplicate", False),
                products=data.pop("products", []), **data,
            )  # fmt: skip
        except DuplicateWarning as exc:
            return prospect_duplicates_response(exc, request.user)
        # The object as captured: routing runs after the answer, so it says `pending`.
        return Response(self.get_serializer(opp).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Claim it",
        description="The receiver (or their pool, partner staff, the second cover) accepts it. A second claim "
        "answers 409 naming who claimed it.",
        request=None,
        responses=ACTION_ANSWERS,
    )
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        opp = self.get_object()
        services.opportunity_claim(pk=opp.pk, by=request.user)
        return self._answer(opp.pk)

    @extend_schema(
        summary="Return it to the operations center",
        description="A receiver that cannot serve it gives it back with a reason; the operations center re-dispatches.",
        request=s.ReturnInputSerializer,
        responses=ACTION_ANSWERS,
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        opp = self.get_object()
        data = validated(s.ReturnInputSerializer, request)
        services.opportunity_return(pk=opp.pk, by=request.user, reason=data["reason"])
        return self._answer(opp.pk)

    @extend_schema(
        summary="Dispatch it (operations center)",
        description="Send it to a person (`to_user`) or a channel (`to_channel`: account_manager, social_channel, "
        "phone_account_manager, operations_center). Dispatchers and admins.",
        request=s.DispatchInputSerializer,
        responses=ACTION_ANSWERS,
    )
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_to(self, request, pk=None):  # not `dispatch`: that name is the view's own entry point
        opp = self.get_object()
        if not policy.may_dispatch(request.user):
            raise PermissionDenied(_("Only the operations center dispatches opportunities."))
        data = validated(s.DispatchInputSerializer, request)
        services.opportunity_dispatch(
            pk=opp.pk, by=request.user, to_user=data.get("to_user"), to_channel=data.get("to_channel"),
            reason=data.get("reason", ""),
        )  # fmt: skip
        return self._answer(opp.pk)

    @extend_schema(
        summary="Move it to another sales stage",
        description="Allowed moves: one step back, up to two forward. Closing goes through `close`.",
        request=s.StageInputSerializer,
        responses=ACTION_ANSWERS,
    )
    @action(detail=True, methods=["post"])
    def stage(self, request, pk=None):
        opp = self.get_object()
        data = validated(s.StageInputSerializer, request)
        services.opportunity_move_stage(pk=opp.pk, by=request.user, stage=data["stage"], note=data.get("note", ""))
        return self._answer(opp.pk)

    @extend_schema(
        summary="Close it",
        description="Won (from quote/bid on), lost or suspended with a close reason code; a loss to a competitor "
        "names the competitor.",
        request=s.CloseInputSerializer,
        responses=ACTION_ANSWERS,
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        opp = self.get_object()
        data = validated(s.CloseInputSerializer, request)
        services.opportunity_close(
            pk=opp.pk, by=request.user, result=data["result"], reason=data.get("reason"),
            competitor=data.get("competitor", ""), note=data.get("note", ""),
        )  # fmt: skip
        return self._answer(opp.pk)

    @extend_schema(
        summary="Qualify a lead into an opportunity",
        description="Name the products of interest (catalogue codes) or the need type.",
        request=s.QualifyInputSerializer,
        responses=ACTION_ANSWERS,
    )
    @action(detail=True, methods=["post"])
    def qualify(self, request, pk=None):
        opp = self.get_object()
        data = validated(s.QualifyInputSerializer, request)
        services.opportunity_qualify(
            pk=opp.pk, by=request.user, products=data.get("products", []), expected_value=data.get("expected_value"),
            expected_close=data.get("expected_close"), need_type=data.get("need_type", ""),
        )  # fmt: skip
        return self._answer(opp.pk)

    @extend_schema(
        methods=["get"],
        summary="Activities on it",
        description="Newest first.",
        responses={200: s.ActivitySerializer(many=True), **NOT_FOUND},
    )
    @extend_schema(
        methods=["post"],
        summary="Log an activity",
        description="Its owner (who claimed it), the owner's supervisor or an admin.",
        request=s.ActivityInputSerializer,
        responses={201: s.ActivitySerializer, **INVALID, **FORBIDDEN, **NOT_FOUND, **CONFLICT},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def activities(self, request, pk=None):
        opp = self.get_object()
        if request.method == "POST":
            data = validated(s.ActivityInputSerializer, request)
            activity = services.activity_create(pk=opp.pk, by=request.user, kind=data.get("kind") or "call",
                                             notes=data["notes"], at=data.get("at"),
                                             next_action=data.get("next_action"),
                                             next_action_due=data.get("next_action_due"))  # fmt: skip
            return Response(s.ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(opp.activities.all())
        return self.get_paginated_response(s.ActivitySerializer(page, many=True).data)

    @extend_schema(
        summary="Its transfer log",
        description="Every routing step in order: captured, routed, queued, dispatched, claimed, returned, "
        "escalated — from and to whom (user ids, channel codes), by whom, when, why and the rule that fired.",
        responses={200: s.TransferSerializer(many=True), **NOT_FOUND},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def transfers(self, request, pk=None):
        opp = self.get_object()
        rows = Transfer.objects.filter(opportunity=opp).select_related("from_channel", "to_channel")
        return Response(s.TransferSerializer(rows, many=True).data)


class RoutingRulePermission(BasePermission):
    """Dispatchers read the rules; only admins change them."""

    message = _("Only the operations center may see routing rules, and only administrators change them.")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_admin_role:
            return True
        return user.role == Role.DISPATCHER and (request.method in SAFE_METHODS or view.action == "test")


@extend_schema_view(
    list=extend_schema(
        summary="List routing rules",
        description="In the order they are tried.",
        responses={200: s.RoutingRuleSerializer(many=True), **FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary="Get a routing rule", responses={200: s.RoutingRuleSerializer, **FORBIDDEN, **NOT_FOUND}
    ),
    create=extend_schema(
        summary="Add a routing rule (admins)", responses={201: s.RoutingRuleSerializer, **INVALID, **FORBIDDEN}
    ),
    update=extend_schema(
        summary="Change a routing rule (admins)",
        responses={200: s.RoutingRuleSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a routing rule (admins)",
        responses={200: s.RoutingRuleSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND},
    ),
    destroy=extend_schema(summary="Delete a routing rule (admins)", responses={204: None, **FORBIDDEN, **NOT_FOUND}),
)
class RoutingRuleViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    mixins.DestroyModelMixin, ScopedViewSet,
):  # fmt: skip
    """Routing rules are reference data, edited like in the admin: the serializer writes the row."""

    queryset = RoutingRule.objects.none()
    serializer_class = s.RoutingRuleSerializer
    permission_classes = [RoutingRulePermission]
    filter_backends = []
    pagination_class = None  # a handful of ordered rules; the order is the point

    def get_queryset(self):
        return (
            RoutingRule.objects.visible_to(self.request.user)
            .select_related("target_team", "target_user")
            .prefetch_related(Prefetch("products", queryset=Product.objects.only("id", "code")), "contact_channels")
        )

    @extend_schema(
        summary="Dry-run the rules on an opportunity",
        description="What routing would decide for the opportunity now: every rule tried, why it matched or "
        "not, and the placement. Writes nothing.",
        request=s.RuleTestInputSerializer,
        responses={200: s.PlacementSerializer, **INVALID, **FORBIDDEN},
    )
    @action(detail=False, methods=["post"])
    def test(self, request):
        opp = validated(s.RuleTestInputSerializer, request)["opportunity"]
        opp = Opportunity.objects.select_related("customer", "customer__account_manager").get(pk=opp.pk)
        return Response(s.PlacementSerializer(routing.decide(opp)).data)
