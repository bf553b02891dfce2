"""Service coverage reads (selectors): who must serve which tier (seed 004's responsibility matrix) and
where that is not so — customers without the account manager their tier needs, account managers above
their capacity, and visits overdue by the tier's visit cycle — and who a supervisor may assign. The
one-click assignment is customers.coverage.services; who may see the page or assign is customers.policy.

Decisions (documented for the lead and the page):
- The tier that decides is the *service* tier (a subsidiary inherits for service, DOMAIN.md §1.2
  rule 4), falling back to the published tier while no evaluation has filled it.
- Only served customers count: status active or at risk. Prospects belong to partner agents (seed 004),
  churned customers are no longer served, merged records are gone.
- The matrix is read from the data (channels.ChannelResponsibility, primary cells): a class whose
  main channel is the account manager needs an active account manager (or a supervisor serving it
  in person); a class whose main channel is the phone account manager is covered by a phone account
  manager or by a field account manager (more than phone cover). Classes whose main channels hold
  no staff (D and prospects: partner agents, web, service hall) have no account-manager gap: customers
  carry no partner link yet.
- An account manager without a capacity (User.capacity is NULL) is never flagged: no default ratio is
  guessed, the admin sets capacities.
- A visit is overdue when the customer has had no visit or call within its tier's cycle
  (TierLevel.visit_cycle_days), or has never been visited.

Every selector is one query (plus one for the matrix or the cycles), whatever the number of customers.
"""

from datetime import date, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from channels import roles
from channels.models import ChannelResponsibility, Role, User
from customers.models import Customer, Tier, TierLevel, Visit
from customers.policy import may_assign_from_coverage

SERVED_STATUSES = (Customer.Status.ACTIVE, Customer.Status.AT_RISK)
# Statuses that take a place in an account manager's portfolio (capacity).
LOAD_STATUSES = (Customer.Status.PROSPECT, Customer.Status.ACTIVE, Customer.Status.AT_RISK)
# Customer class of the matrix for each tier (seed 004 speaks of A/B/C/D).
TIER_CLASS = {Tier.A1: "A", Tier.A2: "A", Tier.B1: "B", Tier.B2: "B", Tier.C: "C", Tier.D: "D"}
# Staff channels of the matrix and the roles that fill them (other channels are partners or systems).
CHANNEL_ROLES = {
    "account_manager": frozenset({Role.ACCOUNT_MANAGER, Role.SUPERVISOR}),
    "phone_account_manager": frozenset({Role.PHONE_ACCOUNT_MANAGER}),
}


def served_tier():
    """The tier that decides the service: the inherited service tier, else the published tier."""
    return Coalesce(NullIf("service_tier", Value("")), "tier")


def required_roles() -> dict[str, frozenset[str]]:
    """Customer class → roles of an account manager that covers it, from the matrix's main channels."""
    required: dict[str, set[str]] = {}
    cells = ChannelResponsibility.objects.filter(
        level=ChannelResponsibility.Level.PRIMARY, channel_type__code__in=list(CHANNEL_ROLES)
    ).values_list("customer_class", "channel_type__code")
    for customer_class, code in cells:
        required.setdefault(customer_class, set()).update(CHANNEL_ROLES[code])
    for accepted in required.values():
        # A field account manager does more than phone cover: a phone-served class accepts one too.
        if accepted & CHANNEL_ROLES["phone_account_manager"]:
            accepted.update(CHANNEL_ROLES["account_manager"])
    return {customer_class: frozenset(accepted) for customer_class, accepted in required.items()}


def roles_for_tier(tier: str, required: dict[str, frozenset[str]] | None = None) -> frozenset[str]:
    required = required_roles() if required is None else required
    return required.get(TIER_CLASS.get(tier, ""), frozenset())


def _served(user: User) -> QuerySet[Customer]:
    return Customer.objects.visible_to(user).filter(status__in=SERVED_STATUSES).annotate(served_tier=served_tier())


def uncovered_customers(*, user: User) -> QuerySet[Customer]:
    """Served customers the user may see whose tier needs an account manager they do not have: none,
    one who has left (inactive login), or one of the wrong kind (an A/B customer with a phone account
    manager). Highest tier first."""
    required = required_roles()
    condition = Q(pk__in=[])
    for tier in Tier.values:
        roles = roles_for_tier(tier, required)
        if not roles:
            continue
        wrong_kind = sorted(set(Role.values) - roles)
        missing = Q(account_manager__isnull=True) | Q(account_manager__is_active=False)
        condition |= Q(served_tier=tier) & (missing | Q(account_manager__role__in=wrong_kind))
    return (
        _served(user)
        .filter(condition)
        .select_related("account_manager")
        .order_by("served_tier", "-avg_monthly_revenue", "-id")
    )


def overdue_visits(*, user: User, today: date | None = None) -> QuerySet[Customer]:
    """Served customers the user may see without a visit (or call) within their tier's visit cycle,
    never-visited first, then the longest without one. Each branch is an EXISTS on the
    (customer, visited_on) index."""
    today = today or timezone.localdate()
    condition = Q(pk__in=[])
    for code, days in TierLevel.objects.values_list("code", "visit_cycle_days"):
        recent = Visit.objects.filter(customer=OuterRef("pk"), visited_on__gte=today - timedelta(days=days))
        condition |= Q(served_tier=code) & ~Exists(recent)
    last = Visit.objects.filter(customer=OuterRef("pk")).order_by("-visited_on", "-id").values("visited_on")[:1]
    return (
        _served(user)
        .filter(condition)
        .annotate(last_visited_on=Subquery(last))
        .select_related("account_manager")
        .order_by(F("last_visited_on").asc(nulls_first=True), "served_tier", "-id")
    )


def staff_in_scope(user: User) -> QuerySet[User]:
    """Account managers whose load the user oversees: a supervisor's team (and themself), an
    account manager themself, everyone for roles that see every customer."""
    staff = User.objects.filter(role__in=roles.PORTFOLIO, is_active=True)
    if user.sees_all_customers:
        return staff
    if user.role == Role.SUPERVISOR:
        return staff.filter(Q(team__supervisor=user) | Q(pk=user.pk))
    if user.role in roles.PORTFOLIO:
        return staff.filter(pk=user.pk)
    return staff.none()


def with_load(staff: QuerySet[User]) -> QuerySet[User]:
    """Annotate each account manager's portfolio size (`load`)."""
    return staff.annotate(load=Count("customers", filter=Q(customers__status__in=LOAD_STATUSES)))


def over_capacity(*, user: User) -> QuerySet[User]:
    """Account managers in the user's scope serving more customers than their capacity (NULL = not set,
    never flagged), the most overloaded first."""
    return (
        with_load(staff_in_scope(user).filter(capacity__isnull=False))
        .annotate(over_by=F("load") - F("capacity"))
        .filter(over_by__gt=0)
        .select_related("team")
        .order_by("-over_by", "username")
    )


def assignment_candidates(user: User) -> QuerySet[User]:
    """Who a supervisor may assign a customer to from the coverage page: the active members of the
    teams they supervise (and themself); an admin may pick any active account manager. With load."""
    if not may_assign_from_coverage(user):
        return User.objects.none()
    staff = User.objects.filter(role__in=roles.PORTFOLIO, is_active=True)
    if not user.is_admin_role:
        staff = staff.filter(Q(team__supervisor=user) | Q(pk=user.pk))
    return with_load(staff).order_by("username")


def gap_counts(*, user: User, cap: int) -> dict[str, int]:
    """How many rows each gap list has, counted up to cap + 1 (the dashboard shows "cap+")."""
    return {
        "uncovered": uncovered_customers(user=user).order_by()[: cap + 1].count(),
        "over_capacity": over_capacity(user=user).order_by()[: cap + 1].count(),
        "overdue": overdue_visits(user=user).order_by()[: cap + 1].count(),
    }
