"""Who may do what on the service desk (one place: views, API and services ask here).

Tickets are visible exactly when their customer is (`Ticket.objects.visible_to`); call-center agents see every
customer's service fields, so every ticket. Who takes tickets: the agents and the dispatchers of the operations
center (the hotline and the back office), the account managers and supervisors for their own customers."""

from channels import roles
from channels.models import User

TAKE_TICKETS = frozenset({roles.Role.AGENT, roles.Role.DISPATCHER, roles.Role.ADMIN}) | roles.PORTFOLIO


def may_take_tickets(user: User) -> bool:
    return user.is_active and (user.role in TAKE_TICKETS or user.is_superuser)
