"""Who may do what with leads and opportunities: the predicates that pages, the API and the services ask.

Each rule is written once. Where a list must answer it for many rows, the rule is given twice side by side
— as a query (`receiver_q`) and from a loaded row (`is_receiver`) — and tests hold the two to agreement.
Visibility itself (who sees an opportunity at all) is `Opportunity.objects.visible_to`."""

from django.db.models import Q

from channels import roles
from channels.models import Role, Team, User
from kam import request_cache
from opportunities.models import AWAITING_CLAIM, Kind, Opportunity, RoutingStatus


def may_capture(user: User) -> bool:
    """Every channel captures (seed 004: the contact channel), except read-only and system logins."""
    return user.is_active and not user.is_read_only and user.role not in roles.SYSTEMS


def may_dispatch(user: User) -> bool:
    """Second transfers are the operations center's job (seed 004 六(二) 5)."""
    return user.is_admin_role or user.role == Role.DISPATCHER


def may_see_pipeline(user: User) -> bool:
    """The pipeline figures: who sells, who oversees the selling, and the operations center."""
    return user.is_superuser or user.role in roles.PORTFOLIO | roles.SEE_ALL_OPPORTUNITIES


def works_opportunities(user: User) -> bool:
    """Has a desk of opportunities to claim and work ("my opportunities")."""
    return user.role in roles.SERVING


def receiver_q(user: User) -> Q:
    """Opportunities `user` is a receiver of: sent to them, to them as second cover, or to their pool (team or
    partner) without a named receiver. `is_receiver` is the same rule for a loaded row."""
    q = Q(assigned_to=user) | Q(second_cover=user)
    if user.partner_id:
        q |= Q(assigned_to__isnull=True, assigned_partner_id=user.partner_id)
    if user.team_id:
        q |= Q(assigned_to__isnull=True, assigned_team_id=user.team_id)
    return q


def is_receiver(user: User, opp: Opportunity) -> bool:
    """`receiver_q` answered from the loaded row (no query)."""
    if user.pk in (opp.assigned_to_id, opp.second_cover_id):
        return True
    if opp.assigned_to_id is None:
        if user.partner_id and opp.assigned_partner_id == user.partner_id:
            return True
        if user.team_id and opp.assigned_team_id == user.team_id:
            return True
    return False


def may_claim(user: User, opp: Opportunity) -> bool:
    return opp.routing_status in AWAITING_CLAIM and is_receiver(user, opp)


def may_return(user: User, opp: Opportunity) -> bool:
    """The owner gives a claimed one back; a receiver one that waits for its claim."""
    if opp.is_closed:
        return False
    if opp.routing_status == RoutingStatus.CLAIMED:
        return opp.claimed_by_id == user.pk
    return may_claim(user, opp)


def team_ids(user: User) -> frozenset[int]:
    """The teams a supervisor answers for: those they supervise and their own (once per request)."""

    def compute() -> frozenset[int]:
        ids = set(Team.objects.filter(supervisor=user).values_list("pk", flat=True))
        if user.team_id:
            ids.add(user.team_id)
        return frozenset(ids)

    return request_cache.memo(("opportunity_team_ids", user.pk), compute)


def may_work(user: User, opp: Opportunity) -> bool:
    """The owner who claimed it, the supervisor of the owner's team, or an admin. Reads `opp.claimed_by`
    (select it with the row) and, for supervisors, their teams once per request."""
    if user.is_admin_role:
        return True
    if opp.routing_status != RoutingStatus.CLAIMED:
        return False
    if opp.claimed_by_id == user.pk:
        return True
    if user.role != Role.SUPERVISOR or opp.claimed_by is None or not opp.claimed_by.team_id:
        return False
    return opp.claimed_by.team_id in team_ids(user)


def may_move_stage(user: User, opp: Opportunity) -> bool:
    """The kanban's drag and the stage buttons: an opportunity (not a lead) its worker may work."""
    return opp.kind == Kind.OPPORTUNITY and may_work(user, opp)
