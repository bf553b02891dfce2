"""The service desk (DESIGN.md layer 5): tickets with their timeline, the SLA policies and clocks that time
them. One module per part; everything is importable from `service.models`."""

from service.models.knowledge import *  # noqa: F403
from service.models.sla import *  # noqa: F403
from service.models.surveys import *  # noqa: F403
from service.models.tickets import *  # noqa: F403
from service.models.tickets import OPEN_TICKET_STATES  # noqa: F401
