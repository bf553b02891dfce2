"""Read operations of the orders app, one module per part; the catalogue's are importable from here."""

from orders.selectors.catalogue import (  # noqa: F401
    CategoryGroup,
    category_label,
    product_catalogue,
    product_categories,
    product_search,
)
