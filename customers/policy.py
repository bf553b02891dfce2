"""Field-level policy: which customer and contact fields a role may read (ASVS 8.2.3).

Row-level visibility is CustomerQuerySet.visible_to; this module decides the columns. Pages, API
serializers, exports and admin all ask here."""

from channels import roles
from channels.models import Role, User
from customers.models import Contact, Customer, may_edit_customers, visible_ids_among


def may_view_evaluations(user: User) -> bool:
    """Tier evaluations quote revenue and staffing."""
    return user.is_admin_role or user.role in roles.MANAGEMENT


def hidden_customer_fields(user: User) -> frozenset[str]:
    """Call-center agents see service-relevant fields only: no finance, strategy, attitude or budget."""
    if user.sees_service_fields_only:
        return frozenset(Customer.SENSITIVE_FIELDS)
    return frozenset()


def hidden_contact_fields(user: User) -> frozenset[str]:
    if user.sees_service_fields_only:
        return frozenset(Contact.SENSITIVE_FIELDS)
    return frozenset()


def may_create_customers(user: User) -> bool:
    return user.is_admin_role or not (user.is_read_only or user.role in roles.LOOKUP_ONLY)


def may_register_prospects(user: User) -> bool:
    """Every channel captures opportunities and may name a prospect; read-only and feed logins may not."""
    return user.is_admin_role or not (user.is_read_only or user.role in roles.SYSTEMS)


def may_assign_account_manager(user: User) -> bool:
    """Account managers create into their own portfolio; supervisors, stewards and admins assign."""
    return user.is_admin_role or user.role in (Role.SUPERVISOR, Role.DATA_STEWARD)


def may_override_credit_code(user: User) -> bool:
    """Only data stewards (and admins) keep a non-conforming credit code, with a reason."""
    return user.is_admin_role or user.role == Role.DATA_STEWARD


def is_data_steward(user: User) -> bool:
    """Merges, imports and the duplicates screen."""
    return user.is_admin_role or user.role == Role.DATA_STEWARD


def may_see_spend(user: User) -> bool:
    """Billed spend is finance data: call-center agents do not see it."""
    return not user.sees_service_fields_only


def can_edit(user: User, customer: Customer) -> bool:
    return may_edit_customers(user) and bool(visible_ids_among(user, [customer.pk]))


def may_see_dashboard(user: User) -> bool:
    return user.is_superuser or user.role in roles.DASHBOARD


def serves_portfolio(user: User) -> bool:
    """Account managers and supervisors: their own portfolio's figures and due visits."""
    return user.role in roles.PORTFOLIO


def may_look_up_callers(user: User) -> bool:
    """The caller lookup is the agents' and dispatchers' tool (everyone may open it; it is in their menu)."""
    return user.is_admin_role or user.role in roles.LOOKUP_ONLY


def answers_calls(user: User) -> bool:
    """Agents and dispatchers: their home page starts with the caller lookup."""
    return user.role in roles.LOOKUP_ONLY


def may_hand_over(user: User) -> bool:
    """Supervisors hand over their teams' portfolios; admins anyone's."""
    return user.is_admin_role or user.role == Role.SUPERVISOR
