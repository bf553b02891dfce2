"""API of the installed base: `/api/v1/subscriptions/` and `/api/v1/resources/` (read-only; they change only
through orders and provisioning). Subscriptions follow the customer's visibility; the resource inventory is
the operations center's and provisioning's, others see the rows of their customers (ResourceQuerySet.scope)."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from kam.api.errors import INVALID, NOT_FOUND
from kam.api.filters import IdFilter
from kam.api.viewsets import ScopedViewSet
from orders.models import Order, OrderLine, Resource, Subscription

# --- serializers ------------------------------------------------------------------------------------------


class SubscriptionSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id", "customer", "product", "agreement", "service_id", "status", "quantity", "bandwidth_mbps",
            "members", "monthly_price", "sla_class", "started_on", "ended_on",
        ]  # fmt: skip
        read_only_fields = fields


class ResourceSerializer(serializers.ModelSerializer):
    """`subscription` and `reserved_for` (an order line) are named only to who may see them: the inventory is
    open to provisioning, a customer's subscription is not (the view passes the visible ids in the context)."""

    class Meta:
        model = Resource
        fields = [
            "id", "kind", "identifier", "region_code", "status", "reserved_for", "reserved_at", "subscription",
            "in_use_since", "released_at",
        ]  # fmt: skip
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        visible = self.context.get("visible_refs") or {}
        for field in ("subscription", "reserved_for"):
            if data[field] is not None and data[field] not in visible.get(field, ()):
                data[field] = None
        return data


# --- filters ------------------------------------------------------------------------------------------------


class SubscriptionFilterSet(filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label=_("Customer id"))
    product = django_filters.CharFilter(field_name="product__code", max_length=20, label=_("Product code"))
    status = django_filters.MultipleChoiceFilter(
        choices=Subscription.Status.choices, label=_("Status (repeat for several)")
    )

    class Meta:
        model = Subscription
        fields = ["customer", "product", "status"]


class ResourceFilterSet(filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Resource.Kind.choices, label=_("Kind"))
    status = django_filters.MultipleChoiceFilter(
        choices=Resource.Status.choices, label=_("Status (repeat for several)")
    )
    region = django_filters.CharFilter(field_name="region_code", max_length=6, label=_("Region code (exact)"))

    class Meta:
        model = Resource
        fields = ["kind", "status", "region"]


# --- viewsets -----------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List subscriptions",
        description="The installed base of the customers you may see, newest first; filter by customer, product "
        "code and status.",
        responses={200: SubscriptionSerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(summary="Get a subscription", responses={200: SubscriptionSerializer, **NOT_FOUND}),
)
class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Subscription.objects.none()
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilterSet

    def get_queryset(self):
        return Subscription.objects.visible_to(self.request.user).select_related("product")


@extend_schema_view(
    list=extend_schema(
        summary="List resources",
        description="Circuit ids, number blocks, IP blocks and ports. The operations center, provisioning, "
        "analysts and admins see the whole inventory; others the rows held by or reserved for their customers.",
        responses={200: ResourceSerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(summary="Get a resource", responses={200: ResourceSerializer, **NOT_FOUND}),
)
class ResourceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Resource.objects.none()
    serializer_class = ResourceSerializer
    filterset_class = ResourceFilterSet

    def get_serializer(self, *args, **kwargs):
        if args:  # the rows to show: which subscriptions and order lines they name may this user see (2 queries)
            rows = list(args[0]) if kwargs.get("many") else [args[0]]
            kwargs["context"] = {**self.get_serializer_context(), "visible_refs": self._visible_refs(rows)}
        return super().get_serializer(*args, **kwargs)

    def _visible_refs(self, rows: list[Resource]) -> dict[str, set[int]]:
        user = self.request.user
        subscriptions = {row.subscription_id for row in rows if row.subscription_id}
        lines = {row.reserved_for_id for row in rows if row.reserved_for_id}
        return {
            "subscription": set(
                Subscription.objects.visible_to(user).filter(pk__in=subscriptions).values_list("pk", flat=True)
            ) if subscriptions else set(),
            "reserved_for": set(
                OrderLine.objects.filter(pk__in=lines, order__in=Order.objects.visible_to(user).values("pk"))
                .values_list("pk", flat=True)
            ) if lines else set(),
        }  # fmt: skip
