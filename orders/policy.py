"""Who may do what with agreements, orders, work orders, subscriptions and resources: the predicates that
pages, the API and the services ask. Visibility itself (who sees a row at all) is each model's
`objects.visible_to`. One section per part."""

from channels import roles
from channels.models import User


def may_read_catalogue(user: User) -> bool:
    return user.is_active


def is_provisioning_staff(user: User) -> bool:
    """Workstation executors and managers (工位执行人 / 工位经理)."""
    return user.role in roles.WORKSTATIONS


# --- orders (order entry, approval, pre-acceptance forms) -------------------------------------------------


def may_enter_order(user: User) -> bool:
    """Who enters and completes orders: the portfolio roles (account managers, supervisors), the operations
    center (it completes pre-acceptance forms) and admins. Contact channels send pre-acceptance forms instead."""
    if not user.is_active or user.is_read_only:
        return False
    return user.is_admin_role or user.role in roles.PORTFOLIO or user.role == roles.Role.DISPATCHER


def may_approve_order(user: User, order) -> bool:
    """An order beyond its agreement: the supervisor of the customer's team (the team of the customer's account
    manager), or an admin. Reads `order.customer.account_manager.team` (select it with the order).

    Sales execution will replace this with commercial authority."""
    if user.is_admin_role:
        return True
    if user.role != roles.Role.SUPERVISOR:
        return False
    manager = order.customer.account_manager
    team = manager.team if manager is not None and manager.team_id else None
    return team is not None and team.supervisor_id == user.pk


def order_approvers(order) -> list[User]:
    """Who hears that an order waits for approval: the supervisor `may_approve_order` names, else the admins."""
    manager = order.customer.account_manager
    supervisor = manager.team.supervisor if manager is not None and manager.team_id else None
    if supervisor is not None and supervisor.is_active:
        return [supervisor]
    return list(User.objects.filter(role=roles.Role.ADMIN, is_active=True))


def may_submit_pre_acceptance(user: User) -> bool:
    """Contact-channel staff (call-center agents, halls, partner agents) and everyone who may capture an
    opportunity: the same rule as opportunities.policy.may_capture (orders sits below opportunities)."""
    return (
        user.is_active and not user.is_read_only and user.role not in roles.SYSTEMS and not is_provisioning_staff(user)
    )


def may_handle_pre_acceptance(user: User) -> bool:
    """The operations center's queue (seed 004: pre-acceptance forms go to the operations support center)."""
    return user.is_active and (user.is_admin_role or user.role == roles.Role.DISPATCHER)
