"""Order entry API: /api/v1/orders/ (list, retrieve, create, partial_update of a draft; submit, cancel, approve,
reject) and /api/v1/pre-acceptances/ (list, create; convert and refuse for the operations center).

Every queryset starts from `visible_to(user)`: another person's order is a 404 on its detail and every action.
Writes validate an input serializer and call orders.services.ordering. Errors of an order's lines are keyed
flat, like the services key them: "lines[0].quantity", "lines[0].values.bandwidth" — the same shape whether
the serializer or the service finds them. Conflict → 409, PermissionDenied → 403, ValidationError → 400."""

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

from channels.models import ChannelType
from customers.models import Customer
from kam.api.errors import FORBIDDEN, INVALID, NOT_FOUND, conflict_response
from kam.api.fields import StrictBooleanField, StrictCharField, count_field, id_field, optional_text
from kam.api.filters import IdFilter
from kam.api.viewsets import ScopedViewSet, validated
from kam.db import LONG_TEXT
from orders import policy
from orders.api.agreements import ReasonSerializer  # one reason shape for every action
from orders.models import Agreement, Order, OrderLine, PreAcceptance, Product, Subscription
from orders.selectors import ordering as selectors
from orders.services import ordering as services

MAX_VALUES = 40
CONFLICT = {409: OpenApiResponse(description="The order (or form) is not in a state that allows this.")}
ACTION_ANSWERS = {**INVALID, **FORBIDDEN, **NOT_FOUND, **CONFLICT}

# --- output ----------------------------------------------------------------------------------------------


class OrderLineSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="code", read_only=True)
    net_price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = OrderLine
        fields = ["id", "product", "quantity", "unit_price", "discount", "net_price", "values", "subscription",
                  "status", "provisioning_type"]  # fmt: skip


class OrderSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    intake_channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id", "number", "customer", "customer_name", "kind", "status", "source", "agreement", "intake_channel",
            "note", "needs_construction", "requested_on", "committed_on", "created_by", "created_at",
            "submitted_at", "approval_reasons", "approved_by", "approved_at", "cancelled_at", "cancel_reason", "lines",
        ]  # fmt: skip


class PreAcceptanceSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="code", read_only=True)
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = PreAcceptance
        fields = ["id", "customer", "customer_name", "product", "channel", "details", "values", "contact_name",
                  "contact_phone", "status", "submitted_by", "submitted_at", "handled_by", "handled_at",
                  "refusal_reason", "order"]  # fmt: skip


# --- input -----------------------------------------------------------------------------------------------


def template_values_field(**kwargs):
    return serializers.DictField(child=serializers.JSONField(), required=False, **kwargs)


def check_values(values: dict) -> dict:
    """Flat key: scalar pairs, bounded (the template decides what each key must be)."""
    if len(values) > MAX_VALUES:
        raise serializers.ValidationError(_("At most %(max)s template values.") % {"max": MAX_VALUES})
    for key, value in values.items():
        if len(key) > 40:
            raise serializers.ValidationError(_("A template field key has at most 40 characters."))
        if isinstance(value, (dict, list)) or (isinstance(value, str) and len(value) > LONG_TEXT):
            raise serializers.ValidationError(
                _("The value of “%(key)s” must be a number or a short text.") % {"key": key}
            )
    return values


class LineInputSerializer(serializers.Serializer):
    product = serializers.SlugRelatedField(slug_field="code", queryset=Product.objects.all())
    quantity = count_field(min_value=1, max_value=services.MAX_QUANTITY, required=False, default=1)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False,
                                          allow_null=True)  # fmt: skip
    discount = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False)
    values = template_values_field()
    subscription = id_field(required=False, allow_null=True)

    def validate_values(self, values):
        return check_values(values)


class OrderInputSerializer(serializers.Serializer):
    customer = id_field()
    kind = serializers.ChoiceField(choices=Order.Kind.choices, required=False, default=Order.Kind.NEW)
    agreement = id_field(required=False, allow_null=True)
    intake_channel = serializers.SlugRelatedField(slug_field="code", queryset=ChannelType.objects.all(),
                                                  required=False, allow_null=True)  # fmt: skip
    requested_on = serializers.DateField(required=False, allow_null=True)
    needs_construction = StrictBooleanField(required=False)
    note = optional_text()
    lines = LineInputSerializer(many=True, required=False, max_length=services.MAX_LINES)


class OrderUpdateSerializer(OrderInputSerializer):
    customer = None
    kind = None


class PreAcceptanceInputSerializer(serializers.Serializer):
    customer = id_field()
    product = serializers.SlugRelatedField(slug_field="code", queryset=Product.objects.all())
    details = StrictCharField(max_length=LONG_TEXT)
    values = template_values_field()
    contact_name = optional_text(max_length=50)
    contact_phone = optional_text(max_length=30)

    def validate_values(self, values):
        return check_values(values)


class ConvertInputSerializer(serializers.Serializer):
    quantity = count_field(min_value=1, max_value=services.MAX_QUANTITY, required=False, default=1)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False,
                                          allow_null=True)  # fmt: skip
    requested_on = serializers.DateField(required=False, allow_null=True)
    note = optional_text()


def flat_errors(errors) -> dict:
    """DRF's nested errors of `lines` ({"lines": [{"quantity": [...]}, {}]}) as the services' flat keys."""
    flat: dict = {}
    for field, messages in errors.items():
        # DRF answers a list of per-line dicts, or (newer) a dict of the failing lines by index.
        per_line = dict(enumerate(messages)) if isinstance(messages, list) else messages
        if field == "lines" and isinstance(per_line, dict) and all(isinstance(v, dict) for v in per_line.values()):
            for index, line in per_line.items():
                for name, line_messages in line.items():
                    if name == "values" and isinstance(line_messages, dict):
                        for key, value_messages in line_messages.items():
                            flat[f"lines[{index}].values.{key}"] = value_messages
                    else:
                        flat[f"lines[{index}].{name}"] = line_messages
        else:
            flat[field] = messages
    return flat


def order_input(serializer_class, request, *, partial: bool = False) -> dict:
    try:
        return validated(serializer_class, request, partial=partial)
    except ApiValidationError as exc:
        raise ApiValidationError(flat_errors(exc.detail)) from None


def resolve(user, data: dict) -> dict:
    """Ids → rows the caller may see: agreement, subscriptions. One not visible is 'not found' in its field."""
    errors: dict = {}
    if data.get("agreement"):
        agreement = Agreement.objects.visible_to(user).filter(pk=data["agreement"]).first()
        if agreement is None:
            errors["agreement"] = [_("No such agreement.")]
        data["agreement"] = agreement
    lines = data.get("lines")
    if lines is not None:
        ids = {line["subscription"] for line in lines if line.get("subscription")}
        found = {s.pk: s for s in Subscription.objects.visible_to(user).filter(pk__in=ids)} if ids else {}
        for index, line in enumerate(lines):
            pk = line.get("subscription")
            line["subscription"] = found.get(pk) if pk else None
            if pk and pk not in found:
                errors[f"lines[{index}].subscription"] = [_("No such subscription.")]
            line["values"] = line.get("values") or {}
    channel = data.get("intake_channel")
    if channel is not None and not (user.is_admin_role or policy.may_handle_pre_acceptance(user)):
        own = services.intake_channel_of(user)
        if own is None or own.pk != channel.pk:
            errors["intake_channel"] = [_("You take orders through your own channel.")]
    if errors:
        raise ApiValidationError(errors)
    return data


# --- filters ---------------------------------------------------------------------------------------------


class OrderFilterSet(filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label=gettext_lazy("Customer id"))
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices,
                                                 label=gettext_lazy("Status (repeat for several)"))  # fmt: skip
    kind = django_filters.ChoiceFilter(choices=Order.Kind.choices, label=gettext_lazy("Kind"))

    class Meta:
        model = Order
        fields = ["customer", "status", "kind"]


class PreAcceptanceFilterSet(filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label=gettext_lazy("Customer id"))
    status = django_filters.ChoiceFilter(choices=PreAcceptance.Status.choices, label=gettext_lazy("Status"))

    class Meta:
        model = PreAcceptance
        fields = ["customer", "status"]


# --- viewsets --------------------------------------------------------------------------------------------


class ServiceErrors:
    """Service exceptions → one answer each."""

    not_found = gettext_lazy("No such order.")

    def handle_exception(self, exc):
        if isinstance(exc, services.Conflict):
            return conflict_response(str(exc))
        if isinstance(exc, (Order.DoesNotExist, PreAcceptance.DoesNotExist)):
            exc = NotFound(self.not_found)
        return super().handle_exception(exc)


@extend_schema_view(
    list=extend_schema(
        summary="List orders",
        description="Orders of the customers you may see, newest first, with their lines.",
        responses={200: OrderSerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(summary="Get an order", responses={200: OrderSerializer, **NOT_FOUND}),
    create=extend_schema(
        summary="Enter a draft order",
        description="Lines name catalogue product codes; `values` are the product's order-template fields. Values "
        "given must be right; required ones may wait for `submit`. Errors are keyed `lines[0].values.bandwidth`.",
        request=OrderInputSerializer,
        responses={201: OrderSerializer, **INVALID, **FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary="Change a draft order",
        description="`lines`, when given, replace all the lines.",
        request=OrderUpdateSerializer,
        responses={200: OrderSerializer, **ACTION_ANSWERS},
    ),
)
class OrderViewSet(ServiceErrors, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Order.objects.none()
    serializer_class = OrderSerializer
    filterset_class = OrderFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if self.action in ("list", "retrieve"):
            return selectors.order_rows_with_lines(self.request.user)
        return Order.objects.visible_to(self.request.user)

    def _answer(self, pk, code=status.HTTP_200_OK) -> Response:
        order = selectors.order_rows_with_lines(self.request.user).get(pk=pk)
        return Response(OrderSerializer(order).data, status=code)

    def create(self, request):
        data = resolve(request.user, order_input(OrderInputSerializer, request))
        customer = Customer.objects.visible_to(request.user).filter(pk=data.pop("customer")).first()
        order = services.order_create(customer, by=request.user, **data)
        return self._answer(order.pk, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        order = self.get_object()
        data = resolve(request.user, order_input(OrderUpdateSerializer, request, partial=True))
        services.order_update(order, by=request.user, **data)
        return self._answer(order.pk)

    @extend_schema(
        summary="Submit a draft",
        description="Template errors answer 400 (all at once). Terms beyond the agreement send the order to "
        "approval (`in_approval`, `approval_reasons` name each term); otherwise it is `submitted` with its "
        "committed date and provisioning starts.",
        request=None,
        responses={200: OrderSerializer, **ACTION_ANSWERS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        order = self.get_object()
        services.order_submit(order, by=request.user)
        return self._answer(order.pk)

    @extend_schema(summary="Cancel an order (draft, in approval or submitted)", request=ReasonSerializer,
                   responses={200: OrderSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()
        services.order_cancel(order, by=request.user, reason=validated(ReasonSerializer, request)["reason"])
        return self._answer(order.pk)

    @extend_schema(summary="Approve an order beyond its agreement", description="The supervisor of the customer's "
                   "team, or an admin.", request=None, responses={200: OrderSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        order = self.get_object()
        services.order_approve(order, by=request.user)
        return self._answer(order.pk)

    @extend_schema(summary="Reject an order beyond its agreement", description="Back to draft with the reason; "
                   "whoever entered it is told.", request=ReasonSerializer,
                   responses={200: OrderSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        order = self.get_object()
        services.order_reject(order, by=request.user, reason=validated(ReasonSerializer, request)["reason"])
        return self._answer(order.pk)


@extend_schema_view(
    list=extend_schema(
        summary="List pre-acceptance forms",
        description="Forms of the customers you may see, newest first; `?status=queued` is the operations "
        "center's queue.",
        responses={200: PreAcceptanceSerializer(many=True), **INVALID},
    ),
    create=extend_schema(
        summary="Send a pre-acceptance form to the operations center",
        description="Contact channels (hotline, halls, partners…); the product must be one your channel may accept.",
        request=PreAcceptanceInputSerializer,
        responses={201: PreAcceptanceSerializer, **INVALID, **FORBIDDEN},
    ),
)
class PreAcceptanceViewSet(ServiceErrors, mixins.ListModelMixin, ScopedViewSet):
    queryset = PreAcceptance.objects.none()
    serializer_class = PreAcceptanceSerializer
    filterset_class = PreAcceptanceFilterSet
    not_found = gettext_lazy("No such form.")

    def get_queryset(self):
        return selectors.pre_acceptance_rows(self.request.user)

    def create(self, request):
        data = validated(PreAcceptanceInputSerializer, request)
        customer = Customer.objects.visible_to(request.user).filter(pk=data.pop("customer")).first()
        form = services.pre_acceptance_submit(customer, by=request.user, **data)
        row = selectors.pre_acceptance_rows(request.user).get(pk=form.pk)
        return Response(PreAcceptanceSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Make the form into a draft order (operations center)", request=ConvertInputSerializer,
                   responses={201: OrderSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        form = self.get_object()
        data = validated(ConvertInputSerializer, request)
        order = services.pre_acceptance_convert(form, by=request.user, **data)
        row = selectors.order_rows_with_lines(request.user).get(pk=order.pk)
        return Response(OrderSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Refuse the form with a reason (operations center)", request=ReasonSerializer,
                   responses={200: PreAcceptanceSerializer, **ACTION_ANSWERS})  # fmt: skip
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        form = self.get_object()
        services.pre_acceptance_refuse(form, by=request.user, reason=validated(ReasonSerializer, request)["reason"])
        return Response(PreAcceptanceSerializer(selectors.pre_acceptance_rows(request.user).get(pk=form.pk)).data)
