"""Who may do what with agreements, orders, work orders, subscriptions and resources: the predicates that
pages, the API and the services ask. Visibility itself (who sees a row at all) is each model's
`objects.visible_to`. One section per part."""

from django.db.models import QuerySet

from channels import roles
from channels.models import Role, User


def is_provisioning_staff(user: User) -> bool:
    """Workstation executors and managers (工位执行人 / 工位经理)."""
    return user.role in roles.WORKSTATIONS


# --- agreements (协议) -------------------------------------------------------------------------------------


def may_see_agreements(user: User) -> bool:
    """The agreements pages and menu item: who sells and who oversees the selling."""
    return user.is_superuser or user.role in roles.PORTFOLIO | roles.MANAGEMENT


def may_draft_agreement(user: User) -> bool:
    """Account managers and supervisors draft agreements for the customers they see; admins too."""
    return user.is_active and (user.is_admin_role or user.role in roles.PORTFOLIO)


def may_edit_draft(user: User, agreement) -> bool:
    """A draft is worked on freely by whoever drafted it and the customer's account manager (or an admin).
    Reads `agreement.customer` (select it with the row)."""
    if agreement.status != agreement.Status.DRAFT:
        return False
    return user.is_admin_role or user.pk in (agreement.created_by_id, agreement.customer.account_manager_id)


def is_agreement_editor(user: User, agreement) -> bool:
    """Seed 003 协议: once effective, only the named editors (专人) change it — not even an admin."""
    return agreement.editors.filter(pk=user.pk).exists()


def may_edit_effective(user: User, agreement) -> bool:
    return agreement.status == agreement.Status.EFFECTIVE and is_agreement_editor(user, agreement)


def may_handle_agreement(user: User, agreement) -> bool:
    """Sign, activate and terminate: the drafter, the customer's account manager, an admin."""
    return user.is_admin_role or user.pk in (agreement.created_by_id, agreement.customer.account_manager_id)


def approvers(customer) -> QuerySet[User]:
    """Who approves what goes beyond the standard terms for `customer` (an agreement before signing, an order
    beyond its agreement): the supervisor of the team of the customer's account manager; the admins when there
    is none.

    ONE swappable rule: the sales-execution issue replaces it with commercial authority (approval by amount
    and discount). Agreements and orders, their checks and their notifications, all ask this function."""
    manager = customer.account_manager
    if manager is not None and manager.team_id:
        supervisors = User.objects.filter(supervised_teams=manager.team_id, is_active=True)
        if supervisors.exists():
            return supervisors
    return User.objects.filter(role=Role.ADMIN, is_active=True)


def may_approve(user: User, customer) -> bool:
    """An admin, or one of `approvers(customer)`."""
    return user.is_admin_role or approvers(customer).filter(pk=user.pk).exists()


def agreement_approvers(agreement) -> QuerySet[User]:
    return approvers(agreement.customer)


def may_approve_agreement(user: User, agreement) -> bool:
    return may_approve(user, agreement.customer)


# --- installed base (subscriptions, resources, a customer leaving) -------------------------------------------


def may_start_customer_leaving(user: User, customer) -> bool:
    """Terminating everything a customer holds is the customer's editors' call (its account manager, their
    supervisor, an admin)."""
    from customers import policy as customer_policy

    return customer_policy.can_edit(user, customer)


# --- provisioning (work orders and steps) ----------------------------------------------------------------


def is_operations_center(user: User) -> bool:
    """Dispatchers and admins run the provisioning loop as a whole (the operations-center board)."""
    return user.is_admin_role or user.role == roles.Role.DISPATCHER


def may_see_operations_board(user: User) -> bool:
    """The operations center, workstation managers and readers of everything (analysts)."""
    return is_operations_center(user) or user.role in {roles.Role.WORKSTATION_MANAGER, roles.Role.ANALYST}


def may_see_assessment(user: User) -> bool:
    """The four-level assessment: who oversees people (management, the operations center, workstation managers)."""
    return user.is_superuser or user.role in roles.MANAGEMENT | {roles.Role.DISPATCHER, roles.Role.WORKSTATION_MANAGER}


def works_steps(user: User) -> bool:
    """Has a desk of work-order steps: "my steps" and the workstation queue."""
    return is_provisioning_staff(user)


def may_work_step(user: User, step) -> bool:
    """Claim, hand over, block: staff of the step's workstation, its manager, or the operations center. Reads
    `step.workstation` (select it with the row)."""
    if user.is_read_only:
        return False
    if is_operations_center(user):
        return True
    if step.workstation.manager_id == user.pk:
        return True
    return is_provisioning_staff(user) and user.workstation_id == step.workstation_id


def may_finish_step(user: User, step) -> bool:
    """Complete or send back: the executor who holds the step, its workstation's manager, the operations center."""
    if user.is_read_only:
        return False
    return step.assignee_id == user.pk or is_operations_center(user) or step.workstation.manager_id == user.pk


def may_retry_activation(user: User) -> bool:
    """Retry a failed BOSS activation: the operations center (IT support works through it)."""
    return is_operations_center(user)


# --- orders (order entry, approval, pre-acceptance forms) -------------------------------------------------


def may_enter_order(user: User) -> bool:
    """Who enters and completes orders: the portfolio roles (account managers, supervisors), the operations
    center (it completes pre-acceptance forms) and admins. Contact channels send pre-acceptance forms instead."""
    if not user.is_active or user.is_read_only:
        return False
    return user.is_admin_role or user.role in roles.PORTFOLIO or user.role == roles.Role.DISPATCHER


def may_approve_order(user: User, order) -> bool:
    """An order beyond its agreement: see `approvers` (to be replaced by commercial authority)."""
    return may_approve(user, order.customer)


def order_approvers(order) -> QuerySet[User]:
    return approvers(order.customer)


def may_submit_pre_acceptance(user: User) -> bool:
    """Contact-channel staff (call-center agents, halls, partner agents) and everyone who may capture an
    opportunity: the same rule as opportunities.policy.may_capture (orders sits below opportunities)."""
    return (
        user.is_active and not user.is_read_only and user.role not in roles.SYSTEMS and not is_provisioning_staff(user)
    )


def may_handle_pre_acceptance(user: User) -> bool:
    """The operations center's queue (seed 004: pre-acceptance forms go to the operations support center)."""
    return user.is_active and (user.is_admin_role or user.role == roles.Role.DISPATCHER)
