"""Segment criteria over the installed base (seed 003 客户细分): customers that hold, or do not hold, products.
Registered from OrdersConfig.ready() through customers' criterion registry; each is one EXISTS subquery over
live subscriptions (index `sub_live_product_idx`), whatever the number of customers."""

from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from orders.models import Product, Subscription

LIVE_STATES = (Subscription.Status.ACTIVE, Subscription.Status.SUSPENDED)


def _product_choices():
    return [(pk, f"{code} {name}") for pk, code, name in Product.objects.values_list("pk", "code", "name")]


def _products_field():
    # Choices (ids) rather than a ModelMultipleChoiceField: an empty answer must clean to [] (no criterion),
    # not to an empty queryset that the registry would store.
    return forms.TypedMultipleChoiceField(
        choices=_product_choices, coerce=int, required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )


def _holding(value):
    return Exists(
        Subscription.objects.filter(customer=OuterRef("pk"), status__in=LIVE_STATES, product_id__in=list(value))
    )


def apply_holds(queryset, value):
    """Customers with a live subscription of any of the products (stored as product ids)."""
    return queryset.filter(_holding(value)) if value else queryset


def apply_lacks(queryset, value):
    """Customers with no live subscription of any of the products."""
    return queryset.exclude(_holding(value)) if value else queryset


def register() -> None:
    from customers.segments.criteria import register_criterion

    register_criterion(
        "holds_products", label=_("Holds any of these products"), order=110,
        field_factory=_products_field, apply=apply_holds,
    )  # fmt: skip
    register_criterion(
        "lacks_products", label=_("Holds none of these products"), order=111,
        field_factory=_products_field, apply=apply_lacks,
    )  # fmt: skip
