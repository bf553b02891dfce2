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
