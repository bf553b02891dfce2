"""Who may do what on the service desk (one place: views, API and services ask here).

Tickets are visible exactly when their customer is (`Ticket.objects.visible_to`); call-center agents see every
customer's service fields, so every ticket. Who takes tickets: the agents and the dispatchers of the operations
center (the hotline and the back office), the account managers and supervisors for their own customers."""

from channels import roles
from channels.models import User

TAKE_TICKETS = frozenset({roles.Role.AGENT, roles.Role.DISPATCHER, roles.Role.ADMIN}) | roles.PORTFOLIO


def may_take_tickets(user: User) -> bool:
    return user.is_active and (user.role in TAKE_TICKETS or user.is_superuser)


def may_work_ticket(user: User, ticket) -> bool:
    """Answer, note, assign, resolve: the owner, the assignee, the staff of its queue, the operations center
    and admins. (Seeing a ticket follows its customer; working it is narrower.)"""
    if not user.is_active:
        return False
    if user.is_superuser or user.role in (roles.Role.DISPATCHER, roles.Role.ADMIN):
        return True
    if user.pk in (ticket.owner_id, ticket.assignee_id):
        return True
    return bool(ticket.queue_id) and user.workstation_id == ticket.queue_id


def may_see_wall_board(user: User) -> bool:
    """The supervisors' and the operations center's wall board and ticket lists."""
    return user.is_active and (user.is_admin_role or user.role in (roles.Role.SUPERVISOR, roles.Role.DISPATCHER))
