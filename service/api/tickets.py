"""Tickets API: /api/v1/tickets/ (list, retrieve, create; assign, hand-over, accept, message, notes, wait,
resolve, refuse, close, reopen) and /api/v1/sla-policies/ (read-only).

Every queryset starts from `visible_to(user)`: another person's ticket is a 404 on its detail and every action;
ids in the input (customer, contact, subscription, category, queue, person) are looked up among the rows the
caller may see and answer "not found" in their field. Writes call service.services.tickets: TicketConflict → 409,
PermissionDenied → 403, ValidationError → 400 with the field messages."""

import django_filters
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from channels import roles
from channels.models import User, Workstation
from customers.models import Contact, Customer
from kam.api.errors import FORBIDDEN, INVALID, NOT_FOUND, conflict_response
from kam.api.fields import StrictBooleanField, StrictCharField, count_field, id_field, optional_text
from kam.api.filters import IdFilter
from kam.api.viewsets import ScopedViewSet, validated
from kam.db import LONG_TEXT
from orders.models import Subscription
from service import policy, selectors
from service.models import OPEN_TICKET_STATES, SlaPolicy, Ticket, TicketCategory, TicketEvent
from service.services import requests as request_services
from service.services import tickets as services

CONFLICT = {409: OpenApiResponse(description="The ticket changed since the revision you sent, or is not in a "
                                 "state that allows this.")}  # fmt: skip
ACTION_ANSWERS = {**INVALID, **FORBIDDEN, **NOT_FOUND, **CONFLICT}

# --- output ----------------------------------------------------------------------------------------------


class TicketSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id", "number", "customer", "customer_name", "contact", "caller_phone", "kind", "request_type",
            "category", "channel", "priority", "subject", "description", "subscription", "symptom", "impact",
            "cause", "regulator_appeal", "status", "owner", "handover_to", "queue", "assignee", "sla_policy",
            "first_response_due", "resolution_due", "first_response_at", "resolution", "repeat_of", "reopened",
            "created_by", "created_at", "resolved_at", "closed_at", "revision", "request_data", "request_applied_at",
        ]  # fmt: skip
        read_only_fields = fields


class TicketEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketEvent
        fields = ["action", "at", "actor", "to_user", "to_queue", "note"]
        read_only_fields = fields


class SlaPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = [
            "id", "sequence", "name", "is_active", "kinds", "category", "service_tiers", "sla_classes", "channels",
            "priority", "working_hours", "first_response_minutes", "next_reply_minutes", "update_minutes",
            "resolution_minutes", "hard_cap_minutes", "warn_percent", "follow_up_hours",
        ]  # fmt: skip
        read_only_fields = fields


# --- input -----------------------------------------------------------------------------------------------


class TicketInputSerializer(serializers.Serializer):
    customer = id_field()
    kind = serializers.ChoiceField(choices=Ticket.Kind.choices)
    subject = StrictCharField(max_length=200)
    description = optional_text()
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices, required=False, default=Ticket.Channel.HOTLINE)
    request_type = serializers.ChoiceField(choices=Ticket.RequestType.choices, required=False, allow_blank=True)
    category = id_field(required=False, allow_null=True)
    contact = id_field(required=False, allow_null=True)
    caller_phone = optional_text(max_length=20)
    subscription = id_field(required=False, allow_null=True)
    symptom = optional_text(max_length=300)
    impact = optional_text(max_length=300)
    regulator_appeal = StrictBooleanField(required=False, default=False)
    request_data = serializers.DictField(
        child=serializers.JSONField(), required=False,
        help_text=gettext_lazy('Member requests: {"msisdns": ["139…", …]} (1–500); group information: {"phone", '
                               '"address", "short_name"}.'),
    )  # fmt: skip


class TextSerializer(serializers.Serializer):
    text = StrictCharField(max_length=LONG_TEXT)
    revision = count_field(required=False)


class AssignSerializer(serializers.Serializer):
    queue = id_field(required=False, allow_null=True)
    assignee = id_field(required=False, allow_null=True)
    note = optional_text()
    revision = count_field(required=False)


class HandOverSerializer(serializers.Serializer):
    to = id_field()
    note = optional_text()


def _resolve_create(user, data: dict) -> dict:
    """Ids → rows the caller may see; one that is not is "not found" in its field (never named)."""
    errors: dict = {}
    customer = Customer.objects.visible_to(user).filter(pk=data["customer"]).first()
    if customer is None:
        errors["customer"] = [_("No such customer.")]
    data["customer"] = customer
    if data.get("contact"):
        contact = Contact.objects.visible_to(user).filter(pk=data["contact"], customer=customer).first()
        if contact is None:
            errors["contact"] = [_("No such contact of this customer.")]
        data["contact"] = contact
    if data.get("subscription"):
        subscription = Subscription.objects.visible_to(user).filter(pk=data["subscription"]).first()
        if subscription is None:
            errors["subscription"] = [_("No such subscription.")]
        data["subscription"] = subscription
    if data.get("category"):
        category = TicketCategory.objects.filter(pk=data["category"], is_active=True).first()
        if category is None:
            errors["category"] = [_("No such category.")]
        data["category"] = category
    if errors:
        raise ApiValidationError(errors)
    return data


def _person(pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    staff = [*policy.TAKE_TICKETS, *roles.WORKSTATIONS]
    person = User.objects.filter(pk=pk, is_active=True, role__in=staff).first()
    if person is None:
        raise ApiValidationError({field: [_("No such person who takes tickets.")]})
    return person


# --- filters ---------------------------------------------------------------------------------------------


class TicketFilterSet(filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label=gettext_lazy("Customer id"))
    status = django_filters.MultipleChoiceFilter(choices=Ticket.Status.choices,
                                                 label=gettext_lazy("Status (repeat for several)"))  # fmt: skip
    kind = django_filters.ChoiceFilter(choices=Ticket.Kind.choices, label=gettext_lazy("Kind"))
    open = django_filters.BooleanFilter(method="open_only", label=gettext_lazy("Open tickets only"))

    class Meta:
        model = Ticket
        fields = ["customer", "status", "kind"]

    def open_only(self, queryset, name, value):
        return queryset.filter(status__in=OPEN_TICKET_STATES) if value else queryset


# --- viewsets --------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List tickets",
        description="Tickets of the customers you may see, and those in your hands (owned, assigned, offered, in "
        "your workstation's queue), newest first.",
        responses={200: TicketSerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(summary="Get a ticket", responses={200: TicketSerializer, **NOT_FOUND}),
    create=extend_schema(
        summary="Take a ticket",
        description="You own it (first-contact ownership). The answer carries the `priority`, "
        "`first_response_due` and `resolution_due` of the first matching SLA policy.",
        request=TicketInputSerializer,
        responses={201: TicketSerializer, **INVALID, **FORBIDDEN},
    ),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Ticket.objects.none()
    serializer_class = TicketSerializer
    filterset_class = TicketFilterSet
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return Ticket.objects.visible_to(self.request.user).order_by("-created_at", "-id")

    def handle_exception(self, exc):
        if isinstance(exc, services.TicketConflict):
            return conflict_response(str(exc))
        if isinstance(exc, Ticket.DoesNotExist):
            exc = NotFound(_("No such ticket."))
        return super().handle_exception(exc)

    def _answer(self, pk, code=status.HTTP_200_OK) -> Response:
        return Response(TicketSerializer(self.get_queryset().get(pk=pk)).data, status=code)

    def create(self, request):
        data = _resolve_create(request.user, validated(TicketInputSerializer, request))
        ticket = services.ticket_create(by=request.user, **data)
        return self._answer(ticket.pk, status.HTTP_201_CREATED)

    @extend_schema(summary="Send to a queue, a person or both", request=AssignSerializer,
                   responses={200: TicketSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        ticket = self.get_object()
        data = validated(AssignSerializer, request)
        queue = None
        if data.get("queue"):
            queue = Workstation.objects.filter(pk=data["queue"]).first()
            if queue is None:
                raise ApiValidationError({"queue": [_("No such queue.")]})
        services.assign(ticket, by=request.user, queue=queue, assignee=_person(data.get("assignee"), "assignee"),
                        note=data.get("note", ""), revision=data.get("revision"))  # fmt: skip
        return self._answer(ticket.pk)

    @extend_schema(summary="Offer the ownership to somebody", description="The owner stays until it is accepted.",
                   request=HandOverSerializer, responses={200: TicketSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request, pk=None):
        ticket = self.get_object()
        data = validated(HandOverSerializer, request)
        services.offer_hand_over(ticket, by=request.user, to=_person(data["to"], "to"), note=data.get("note", ""))
        return self._answer(ticket.pk)

    @extend_schema(summary="Accept the ownership offered to you", request=None,
                   responses={200: TicketSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        ticket = self.get_object()
        services.accept_hand_over(ticket, by=request.user)
        return self._answer(ticket.pk)

    @extend_schema(summary="Message the customer", description="Sent by SMS to the contact; meets the first "
                   "response, the next reply and the progress update.", request=TextSerializer,
                   responses={200: TicketSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def message(self, request, pk=None):
        ticket = self.get_object()
        data = validated(TextSerializer, request)
        services.message_customer(ticket, by=request.user, text=data["text"], revision=data.get("revision"))
        return self._answer(ticket.pk)

    @extend_schema(methods=["get"], summary="The ticket's timeline", request=None,
                   responses={200: TicketEventSerializer(many=True), **NOT_FOUND})  # fmt: skip
    @extend_schema(methods=["post"], summary="Add an internal note", request=TextSerializer,
                   responses={201: TicketEventSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["get", "post"])
    def notes(self, request, pk=None):
        ticket = self.get_object()
        if request.method == "GET":
            return Response(TicketEventSerializer(selectors.timeline(ticket), many=True).data)
        event = services.add_note(ticket, by=request.user, text=validated(TextSerializer, request)["text"])
        return Response(TicketEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Wait for the customer (clocks pause, not the hard cap)", request=TextSerializer,
                   responses={200: TicketSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def wait(self, request, pk=None):
        ticket = self.get_object()
        data = validated(TextSerializer, request)
        services.wait_for_customer(ticket, by=request.user, note=data["text"], revision=data.get("revision"))
        return self._answer(ticket.pk)

    @extend_schema(summary="Resolve, with what the customer is told", request=TextSerializer,
                   responses={200: TicketSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        ticket = self.get_object()
        data = validated(TextSerializer, request)
        services.resolve(ticket, by=request.user, resolution=data["text"], revision=data.get("revision"))
        return self._answer(ticket.pk)

    @extend_schema(summary="Refuse, with the reason the customer is told", request=TextSerializer,
                   responses={200: TicketSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        ticket = self.get_object()
        data = validated(TextSerializer, request)
        services.refuse(ticket, by=request.user, reason=data["text"], revision=data.get("revision"))
        return self._answer(ticket.pk)

    @extend_schema(summary="Close a resolved ticket", request=None, responses={200: TicketSerializer, **ACTION_ANSWERS})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        ticket = self.get_object()
        services.close(ticket, by=request.user)
        return self._answer(ticket.pk)

    @extend_schema(summary="Apply a member or group-information request to the customer (once)",
                   description="Who may change the customer: its account manager, supervisor or an admin.",
                   request=None, responses={200: TicketSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        ticket = self.get_object()
        request_services.apply(ticket, by=request.user)
        return self._answer(ticket.pk)

    @extend_schema(summary="Reopen once (the customer is not satisfied)", request=TextSerializer,
                   responses={200: TicketSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        ticket = self.get_object()
        services.reopen(ticket, by=request.user, reason=validated(TextSerializer, request)["text"])
        return self._answer(ticket.pk)


@extend_schema_view(
    list=extend_schema(summary="List SLA policies", description="In the order they are tried: the first whose "
                       "conditions all match a ticket applies.", responses={200: SlaPolicySerializer(many=True)}),
    retrieve=extend_schema(summary="Get an SLA policy", responses={200: SlaPolicySerializer, **NOT_FOUND}),
)  # fmt: skip
class SlaPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = SlaPolicy.objects.none()
    serializer_class = SlaPolicySerializer

    def get_queryset(self):
        return SlaPolicy.objects.visible_to(self.request.user).order_by("sequence", "id")
