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


# --- installed base (subscriptions, resources, a customer leaving) -------------------------------------------


def may_start_customer_leaving(user: User, customer) -> bool:
    """Terminating everything a customer holds is the customer's editors' call (its account manager, their
    supervisor, an admin)."""
    from customers import policy as customer_policy

    return customer_policy.can_edit(user, customer)
