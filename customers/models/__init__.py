"""Models of the key-account database: the customer records (core) and their segmentation
(tiers, value, segments)."""

from customers.models.core import *  # noqa: F403
from customers.models.core import may_edit_customers, portfolio_ids, visible_ids_among  # noqa: F401
from customers.models.segmentation import *  # noqa: F403
