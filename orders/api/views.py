"""Orders API. The product catalogue is reference data: every signed-in user reads all of it; it is edited in
the admin only."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from kam.api.errors import INVALID, NOT_FOUND
from kam.api.viewsets import ScopedViewSet
from orders.api.filters import ProductFilterSet
from orders.api.serializers import ProductSerializer
from orders.models import Product


@extend_schema_view(
    list=extend_schema(
        summary="List catalogue products",
        description="Every product, legacy and inactive ones included (filter with `legacy` and `is_active`).",
        responses={200: ProductSerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(summary="Get a catalogue product", responses={200: ProductSerializer, **NOT_FOUND}),
)
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet
