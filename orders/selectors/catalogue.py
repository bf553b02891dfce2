"""Read operations of the orders app: the product catalogue (reference data every signed-in user may read)."""

from dataclasses import dataclass, field

from django.db.models import Min, Q, QuerySet
from django.utils.translation import get_language

from orders.models import Product
from orders.reference import CATEGORY_NAMES_EN


def category_label(category: str) -> str:
    """The stored (Chinese) category, or its English name when the active language is English."""
    if (get_language() or "").startswith("en"):
        return CATEGORY_NAMES_EN.get(category, category)
    return category


def product_search(queryset: QuerySet[Product], term: str) -> QuerySet[Product]:
    """Code, Chinese or English name contains the term (a catalogue of tens of rows needs no index)."""
    term = term.strip()
    if not term:
        return queryset
    return queryset.filter(Q(code__icontains=term) | Q(name__icontains=term) | Q(name_en__icontains=term))


def product_categories() -> list[tuple[str, str]]:
    """(category, label) of the active products, in catalogue order (one query)."""
    rows = (
        Product.objects.filter(is_active=True)
        .values("category")
        .annotate(first=Min("sort_order"))
        .order_by("first", "category")
    )
    return [(row["category"], category_label(row["category"])) for row in rows]


@dataclass
class CategoryGroup:
    category: str
    label: str
    products: list[Product] = field(default_factory=list)


def product_catalogue(*, category: str = "", include_legacy: bool = False) -> list[CategoryGroup]:
    """Active products grouped by category in catalogue order (one query); legacy products only on request."""
    queryset = Product.objects.filter(is_active=True)
    if not include_legacy:
        queryset = queryset.filter(legacy=False)
    if category:
        queryset = queryset.filter(category=category)
    groups: dict[str, CategoryGroup] = {}
    for product in queryset.order_by("sort_order", "code"):
        group = groups.get(product.category)
        if group is None:
            group = groups[product.category] = CategoryGroup(product.category, category_label(product.category))
        group.products.append(product)
    return list(groups.values())
