"""Work-orders API: list and retrieve work orders with their steps, and the step actions
`/api/v1/work-orders/{id}/steps/{sequence}/claim|complete|reject|block|unblock|hand-over/`.

Every queryset starts from `visible_to(user)`: another customer's work order (or a step outside an executor's
workstation) is a 404 on its detail and on every action. Each action carries the step's `revision` the caller
saw; the service writes only if nobody changed the step since, so a lost race answers 409 with where the step
stands now. Service errors map to one answer each: StepConflict → 409, PermissionDenied → 403,
ValidationError → 400."""

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)  # fmt: skip
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from channels.models import User
from kam.api.errors import FORBIDDEN, INVALID, NOT_FOUND, conflict_response
from kam.api.fields import StrictBooleanField, id_field, optional_text
from kam.api.filters import IdFilter
from kam.api.viewsets import ScopedViewSet, validated
from kam.validators import INT_MAX
from orders.models import OPEN_STEP_STATES, StepEvent, WorkOrder, WorkStep
from orders.services import provisioning as services

# --- serializers -----------------------------------------------------------------------------------------


class StepEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = StepEvent
        fields = ["action", "actor", "to_user", "at", "note"]
        read_only_fields = fields


class WorkStepSerializer(serializers.ModelSerializer):
    workstation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    events = serializers.SerializerMethodField()

    class Meta:
        model = WorkStep
        fields = [
            "id", "sequence", "name", "name_en", "action", "workstation", "status", "assignee", "duration_hours",
            "ready_at", "due_at", "started_at", "completed_at", "completed_by", "on_time", "block_reason",
            "times_rejected", "warned_at", "escalated_at", "revision", "events",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(StepEventSerializer(many=True))
    def get_events(self, step: WorkStep) -> list:
        """The step's history on a detail (prefetched into `event_list`); empty in lists."""
        events = getattr(step, "event_list", None)
        return StepEventSerializer(events, many=True).data if events else []


class WorkOrderSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="order_line.order_id", read_only=True)
    order_line = serializers.IntegerField(source="order_line_id", read_only=True)
    product = serializers.CharField(source="order_line.product.code", read_only=True)
    steps = WorkStepSerializer(many=True, read_only=True, source="step_list")

    class Meta:
        model = WorkOrder
        fields = ["id", "number", "customer", "order", "order_line", "product", "status", "created_at", "due_at",
                  "completed_at", "escalated_at", "steps"]  # fmt: skip
        read_only_fields = fields


class StepConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    status = serializers.CharField(required=False)
    revision = serializers.IntegerField(required=False)
    assignee = serializers.IntegerField(required=False, allow_null=True)


class RevisionInputSerializer(serializers.Serializer):
    revision = serializers.IntegerField(min_value=0, max_value=INT_MAX, help_text=gettext_lazy(
        "The step's revision as you saw it: if it changed meanwhile the action answers 409."))  # fmt: skip


class NoteInputSerializer(RevisionInputSerializer):
    note = optional_text(max_length=300)


class ReasonInputSerializer(RevisionInputSerializer):
    reason = optional_text(max_length=300)

    def validate_reason(self, value):
        if not value.strip():
            raise serializers.ValidationError(_("Give the reason."))
        return value


class RejectInputSerializer(ReasonInputSerializer):
    order_data_wrong = StrictBooleanField(required=False, default=False, help_text=gettext_lazy(
        "The order's own data is wrong: back to the first step (the order was not right the first time)."))  # fmt: skip


class HandOverInputSerializer(NoteInputSerializer):
    to_user = id_field(help_text=gettext_lazy("Id of a colleague at the step's workstation."))


# --- filters ---------------------------------------------------------------------------------------------


class WorkOrderFilterSet(filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=WorkOrder.Status.choices,
                                                 label=gettext_lazy("Status (repeat for several)"))  # fmt: skip
    overdue = django_filters.BooleanFilter(method="filter_overdue",
                                           label=gettext_lazy("With an open step past its due time"))  # fmt: skip
    workstation = IdFilter(method="filter_workstation", label=gettext_lazy("With an open step at this workstation"))
    customer = IdFilter(field_name="customer_id", label=gettext_lazy("Customer id"))

    class Meta:
        model = WorkOrder
        fields = ["status", "overdue", "workstation", "customer"]

    def _with_open_step(self, queryset, **conditions):
        steps = WorkStep.objects.filter(status__in=OPEN_STEP_STATES, **conditions).values("work_order_id")
        return queryset.filter(pk__in=steps)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = WorkStep.objects.filter(status__in=OPEN_STEP_STATES, due_at__lt=timezone.now())
        rows = queryset.filter(pk__in=overdue.values("work_order_id"))
        return rows if value else queryset.exclude(pk__in=overdue.values("work_order_id"))

    def filter_workstation(self, queryset, name, value):
        return self._with_open_step(queryset, workstation_id=value) if value else queryset


# --- viewset ---------------------------------------------------------------------------------------------

CONFLICT = {409: OpenApiResponse(StepConflictSerializer, description="The step changed since the revision you "
                                 "sent (claimed, completed or sent back by someone else), or is not in a state "
                                 "that allows this.")}  # fmt: skip
ACTION_ANSWERS = {200: WorkOrderSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND, **CONFLICT}
SEQUENCE = OpenApiParameter("seq", int, OpenApiParameter.PATH, description="The step's sequence in the work order.")


def work_order_rows(user, *, events: bool):
    """The caller's work orders with their steps (and the steps' events on a detail): constant queries a page."""
    steps = WorkStep.objects.select_related("workstation").order_by("sequence")
    if events:
        steps = steps.prefetch_related(
            Prefetch("events", queryset=StepEvent.objects.order_by("at", "id"), to_attr="event_list")
        )
    # to_attr: plain lists on the rows, not a queryset cloned per work order and per step (≈ 0.4 ms each)
    return (
        WorkOrder.objects.visible_to(user)
        .select_related("order_line__product")
        .prefetch_related(Prefetch("steps", queryset=steps, to_attr="step_list"))
    )


def _step_action(name: str, input_serializer, summary: str, description: str):
    """One POST action on a step of the work order: validate, find the visible step, call the service."""

    def act(self, request, pk=None, seq=None):
        work_order = self.get_object()
        step = WorkStep.objects.visible_to(request.user).filter(work_order=work_order, sequence=int(seq)).first()
        if step is None:
            raise NotFound(_("No such step."))
        self.step = step
        data = validated(input_serializer, request)
        common = {"by": request.user, "revision": data.pop("revision")}
        if name == "hand-over":
            to_user = User.objects.filter(pk=data.pop("to_user"), is_active=True).first()
            if to_user is None:  # the same answer as for someone of another workstation: ids are not probed
                raise ValidationError({"to_user": [_("Hand the step over to someone of its workstation.")]})
            services.step_hand_over(step, to_user=to_user, **common, **data)
        else:
            getattr(services, f"step_{name}")(step, **common, **data)
        return Response(WorkOrderSerializer(work_order_rows(request.user, events=True).get(pk=work_order.pk)).data)

    act.__name__ = f"step_{name.replace('-', '_')}"  # before @action: the router maps the route to this name
    act = action(detail=True, methods=["post"], url_path=rf"steps/(?P<seq>[0-9]{{1,4}})/{name}",
                 url_name=f"step-{name}")(act)  # fmt: skip
    return extend_schema(summary=summary, description=description, request=input_serializer,
                         parameters=[SEQUENCE], responses=ACTION_ANSWERS)(act)  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary="List work orders",
        description="Those you may see (your customers'; workstation staff: those with a step at your workstation "
        "or in your hands), newest first, each with its steps (no events: retrieve one for its history).",
        responses={200: WorkOrderSerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(
        summary="Get a work order",
        description="With every step and its events.",
        responses={200: WorkOrderSerializer, **NOT_FOUND},
    ),  # fmt: skip
)
class WorkOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = WorkOrder.objects.none()  # types the schema; get_queryset scopes by user
    serializer_class = WorkOrderSerializer
    filterset_class = WorkOrderFilterSet

    def get_queryset(self):
        if self.action in ("list", "retrieve"):
            return work_order_rows(self.request.user, events=self.action == "retrieve")
        return WorkOrder.objects.visible_to(self.request.user)

    def handle_exception(self, exc):
        if isinstance(exc, services.StepConflict):
            step = getattr(self, "step", None)
            extra = {}
            if step is not None:
                extra = WorkStep.objects.filter(pk=step.pk).values("status", "revision", "assignee").first() or {}
            return conflict_response(str(exc), **extra)
        if isinstance(exc, WorkStep.DoesNotExist | WorkOrder.DoesNotExist):
            exc = NotFound(_("No such work order."))
        return super().handle_exception(exc)

    step_claim = _step_action(
        "claim", RevisionInputSerializer, "Claim a step",
        "Take a step waiting in the queue (staff of its workstation, its manager, the operations center).",
    )  # fmt: skip
    step_complete = _step_action(
        "complete", NoteInputSerializer, "Complete a step",
        "The holder completes it: the next step is queued; a resource check reserves the line's resources (none "
        "free: the step is blocked with the reason instead); the acceptance completes the line and creates the "
        "subscription. Of two completing at once one wins, the other gets 409.",
    )  # fmt: skip
    step_reject = _step_action(
        "reject", RejectInputSerializer, "Send a step back",
        "Back to the step before (or to the first one when the order's data is wrong), with a reason.",
    )  # fmt: skip
    step_block = _step_action("block", ReasonInputSerializer, "Block a step", "It cannot go on: give the reason.")
    step_unblock = _step_action("unblock", NoteInputSerializer, "Unblock a step", "Back to work or to the queue.")
    step_hand_over = _step_action(
        "hand-over", HandOverInputSerializer, "Hand a step over", "To a colleague at the step's workstation."
    )
