"""What is sold to key accounts: the catalogue, agreements, orders, provisioning work orders and the installed
base. One module per part; everything is importable from `orders.models`."""

from orders.models.agreements import *  # noqa: F403
from orders.models.catalogue import *  # noqa: F403
from orders.models.installed import *  # noqa: F403
from orders.models.orders import *  # noqa: F403
from orders.models.provisioning import *  # noqa: F403
from orders.models.provisioning import OPEN_STEP_STATES  # noqa: F401
