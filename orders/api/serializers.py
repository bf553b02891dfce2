"""API serializers of the orders app."""

from rest_framework import serializers

from orders.models import Product


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "category",
            "provisioning_type",
            "billing_unit",
            "list_price_min",
            "list_price_max",
            "is_member_level",
            "sla_class_default",
            "scope",
            "legacy",
            "needs_contract",
            "min_contract_months",
            "is_active",
            "sort_order",
        ]
        read_only_fields = fields
