"""Who may do what in the customers app: the permission predicates that pages, API, services, exports and
admin all ask — which customer and contact fields a role may read (ASVS 8.2.3), who creates, assigns, merges
and hands over customers, and who runs tiers, overrides, segments and the coverage page. Row-level visibility
is CustomerQuerySet.visible_to; this module decides the rest."""

from channels import roles
from channels.models import Role, User
from customers.models import Contact, Customer, Segment, TierEvaluation, may_edit_customers, visible_ids_among


def hidden_customer_fields(user: User) -> frozenset[str]:
    """Call-center agents see service-relevant fields only: no finance, strategy, attitude or budget, and none
    of the computed finance outputs (revenue, lifetime value, value score, the tier's reason). The one field
    policy of the API, the pages, the history and the exports."""
    if user.sees_service_fields_only:
        return frozenset(Customer.SENSITIVE_FIELDS) | frozenset(Customer.FINANCE_FIELDS)
    return frozenset()


def hidden_contact_fields(user: User) -> frozenset[str]:
    if user.sees_service_fields_only:
        return frozenset(Contact.SENSITIVE_FIELDS)
    return frozenset()


def may_create_customers(user: User) -> bool:
    """Staff who serve or keep customers. Partner agents register prospects when they capture an opportunity,
    never customers directly (the database is the operator's)."""
    return user.is_admin_role or not (user.is_read_only or user.role in roles.LOOKUP_ONLY | roles.EXTERNAL)


def may_browse_customers(user: User) -> bool:
    """The customer list and search: the operator's staff. Partner agents see the customers of what was sent to
    them on the opportunity itself, not the database."""
    return user.role not in roles.EXTERNAL


def may_see_staff_contacts(user: User) -> bool:
    """Staff phone numbers (an account manager's mobile, a segment owner's) are for the operator's own people."""
    return user.role not in roles.EXTERNAL


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


# --- tiers ------------------------------------------------------------------------------------------------


def may_view_evaluations(user: User) -> bool:
    """Tier evaluations quote revenue and staffing."""
    return user.is_admin_role or user.role in roles.MANAGEMENT


def may_change_tier_rules(user: User) -> bool:
    return user.is_admin_role


def may_start_evaluation(user: User, kind: str) -> bool:
    """Admins start anything; supervisors dry runs and evaluations, not publications (a publication moves
    the published tier of every customer, beyond their teams)."""
    if user.is_admin_role:
        return True
    return user.role == Role.SUPERVISOR and kind != TierEvaluation.Kind.PUBLICATION


def may_approve_override(user: User) -> bool:
    return user.is_admin_role or user.role == Role.SUPERVISOR


# --- segments ---------------------------------------------------------------------------------------------


def may_use_segments(user: User) -> bool:
    """Segments analyse the operator's customer base: not for partner agents."""
    return user.role not in roles.EXTERNAL


def may_share_segments(user: User) -> bool:
    """Shared segments are the company's common vocabulary: supervisors, analysts and admins publish them;
    everyone may keep private ones."""
    return user.is_admin_role or user.role in roles.MANAGEMENT


def may_change_segment(user: User, segment: Segment) -> bool:
    """Only the owner changes, freezes or deletes a segment (a shared one is read by everyone)."""
    return segment.owner_id == user.pk


# --- service coverage -------------------------------------------------------------------------------------


def may_see_coverage(user: User) -> bool:
    """Those who serve customers or oversee the service. Call-center agents and dispatchers route contacts,
    they do not staff portfolios."""
    return user.is_superuser or user.role in roles.COVERAGE


def may_assign_from_coverage(user: User) -> bool:
    """The coverage page's one-click assignment belongs to supervisors (their team) and admins (everyone)."""
    return user.is_admin_role or user.role == Role.SUPERVISOR


def may_set_service_flags(user: User) -> bool:
    """VIP handling and the blacklist: supervisors, the operations center, the data steward and admins."""
    return user.is_admin_role or user.role in (Role.SUPERVISOR, Role.DISPATCHER, Role.DATA_STEWARD)
