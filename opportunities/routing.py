"""The routing engine: which receiver an opportunity goes to (seed 004 六(二), DOMAIN.md §4.3).

`decide()` only reads: it walks the ordered, active rules and returns the first placement a rule can
make, with a trace of every rule it tried (the dry-run tester shows it). `services.opportunity_route()` applies a
decision under a compare-and-set. Pools balance load: the receiver with the fewest open opportunities
below the rule's cap, ties to the one who received least recently (round robin).
"""

import functools
import time
from dataclasses import dataclass, field

from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from channels import roles
from channels.models import ChannelResponsibility, ChannelType, Partner, Role, User
from opportunities.models import AWAITING_CLAIM, CLOSED_STAGES, ClaimTimer, Opportunity, RoutingRule, RoutingStatus

OPEN_LOAD = Q(routing_status__in=[*AWAITING_CLAIM, RoutingStatus.CLAIMED]) & ~Q(stage__in=CLOSED_STAGES)


@dataclass
class Placement:
    """Where an opportunity goes. No user, team or partner: the operations-center queue."""

    rule: RoutingRule | None = None
    user: User | None = None
    team_id: int | None = None
    partner: Partner | None = None
    channel: ChannelType | None = None
    second_cover: User | None = None
    reason: str = ""
    trace: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def to_queue(self) -> bool:
        return self.user is None and self.partner is None and self.team_id is None


# Reference rows read for every opportunity (rules, claim timers, channel types, stage probabilities), kept in the
# process for MEMO_SECONDS: an edit reaches this process at once (signals, opportunities/apps.py) and the
# other workers within MEMO_SECONDS. Saves five queries per routing.
MEMO_SECONDS = 10
_memo: dict[str, tuple[float, object]] = {}


def memoised(key: str, load):
    now = time.monotonic()
    hit = _memo.get(key)
    if hit is not None and now - hit[0] < MEMO_SECONDS:
        return hit[1]
    value = load()
    _memo[key] = (now, value)
    return value


def forget(**_signal_kwargs) -> None:
    _memo.clear()


def channel(code: str) -> ChannelType | None:
    return memoised("channels", lambda: {c.code: c for c in ChannelType.objects.all()}).get(code)


ROLE_CHANNEL = {
    Role.ACCOUNT_MANAGER: "account_manager",
    Role.SUPERVISOR: "account_manager",
    Role.PHONE_ACCOUNT_MANAGER: "phone_account_manager",
}


def channel_of(user: User) -> ChannelType | None:
    """The sales-service channel a person serves in: their own, else their partner's, else their role's
    (a login without a channel must not leave an opportunity without one)."""
    if user.channel_type_id:
        return user.channel_type
    if user.partner_id:
        return user.partner.channel_type
    code = ROLE_CHANNEL.get(user.role)
    return channel(code) if code else None


def customer_class(customer) -> str:
    """The responsibility matrix's class of a customer: tier letter, or prospect."""
    if customer.status == customer.Status.PROSPECT or not customer.tier:
        return "prospect"
    return customer.tier[0]


# --- conditions ----------------------------------------------------------------------------------------


def _mismatch(rule: RoutingRule, opp: Opportunity, product_ids) -> str:
    """Why `rule` does not apply ('' when it does)."""
    customer = opp.customer
    prospect = customer.status == customer.Status.PROSPECT
    has_manager = customer.account_manager_id is not None and not prospect
    if rule.kind and rule.kind != opp.kind:
        return _("kind differs")
    cond = rule.customer_condition
    if cond == RoutingRule.CustomerCondition.HAS_MANAGER and not has_manager:
        return _("the customer has no account manager")
    if cond == RoutingRule.CustomerCondition.NO_MANAGER and (prospect or has_manager):
        return _("not an existing customer without an account manager")
    if cond == RoutingRule.CustomerCondition.PROSPECT and not prospect:
        return _("not a prospect")
    if cond == RoutingRule.CustomerCondition.UNSERVED and has_manager:
        return _("the customer has an account manager")
    if rule.tiers and (customer.tier or "") not in rule.tiers:
        return _("tier not in the rule")
    if rule.region_prefixes and not any((customer.region_id or "").startswith(p) for p in rule.region_prefixes):
        return _("region not in the rule")
    if rule.industries and (customer.industry_id or "") not in rule.industries:
        return _("industry not in the rule")
    rule_products = {p.pk for p in rule.products.all()}
    if rule_products and not rule_products & product_ids():
        return _("no product of the rule")
    rule_channels = {c.pk for c in rule.contact_channels.all()}
    if rule_channels and opp.contact_channel_id not in rule_channels:
        return _("contact channel not in the rule")
    value = opp.expected_value
    if rule.amount_min is not None and (value is None or value < rule.amount_min):
        return _("expected value below the rule's range")
    if rule.amount_max is not None and (value is None or value > rule.amount_max):
        return _("expected value above the rule's range")
    return ""


TARGET_CHANNEL = {
    RoutingRule.Target.ACCOUNT_MANAGER: "account_manager",
    RoutingRule.Target.CORE_PARTNER: "social_channel",
    RoutingRule.Target.PHONE_POOL: "phone_account_manager",
    RoutingRule.Target.TEAM_POOL: "account_manager",
    RoutingRule.Target.OPERATIONS_CENTER: "operations_center",
}


def _matrix_allows(rule: RoutingRule, opp: Opportunity) -> bool:
    code = TARGET_CHANNEL.get(rule.target)
    if rule.target == RoutingRule.Target.USER and rule.target_user and rule.target_user.channel_type_id:
        return ChannelResponsibility.objects.filter(
            channel_type_id=rule.target_user.channel_type_id, customer_class=customer_class(opp.customer)
        ).exists()
    if code is None:
        return True
    return ChannelResponsibility.objects.filter(
        channel_type__code=code, customer_class=customer_class(opp.customer)
    ).exists()


# --- pools ---------------------------------------------------------------------------------------------


def least_loaded(users, capacity: int | None) -> User | None:
    """The active serving user with the fewest open opportunities (below `capacity`), ties to the one who
    received least recently, then the lowest id: round robin with a cap, in one query."""
    load = (
        Opportunity.objects.filter(OPEN_LOAD, assigned_to=OuterRef("pk"))
        .order_by()
        .values("assigned_to")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last = (
        Opportunity.objects.filter(assigned_to=OuterRef("pk"))
        .order_by()
        .values("assigned_to")
        .annotate(m=Max("dispatched_at"))
        .values("m")
    )
    rows = users.filter(is_active=True).annotate(load=Coalesce(Subquery(load), 0), last=Subquery(last))
    if capacity is not None:
        rows = rows.filter(load__lt=capacity)
    return rows.order_by("load", Coalesce("last", "date_joined").asc(), "pk").first()


def least_loaded_partner(partners, capacity: int | None) -> Partner | None:
    rows = partners.filter(is_active=True).annotate(
        load=Count("opportunities", filter=Q(opportunities__in=Opportunity.objects.filter(OPEN_LOAD))),
        last=Max("opportunities__dispatched_at"),
    )
    if capacity is not None:
        rows = rows.filter(load__lt=capacity)
    return rows.order_by("load", "last", "pk").first()


def core_partners_for(customer):
    """Core partner agents whose area covers the customer's region (a city covers its districts) and whose
    industries include the customer's (no industries listed: any)."""
    region = customer.region_id or ""
    prefixes = {region[:n] for n in (2, 4, 6) if len(region) >= n}
    prefixes |= {p.ljust(6, "0") for p in prefixes}
    rows = Partner.objects.filter(is_core=True, region_code__in=prefixes)
    matches = [p.pk for p in rows if not p.industries or (customer.industry_id or "") in p.industries]
    return Partner.objects.filter(pk__in=matches)


def phone_pool():
    return User.objects.filter(role=Role.PHONE_ACCOUNT_MANAGER)


# --- decision ------------------------------------------------------------------------------------------


def place(rule: RoutingRule, opp: Opportunity) -> Placement | str:
    """The placement `rule`'s target gives, or why it cannot place the opportunity."""
    target = rule.target
    if target == RoutingRule.Target.ACCOUNT_MANAGER:
        manager = opp.customer.account_manager
        if manager is None or not manager.is_active:
            return _("the customer's account manager is not available")
        return Placement(user=manager, channel=channel_of(manager))
    if target == RoutingRule.Target.CORE_PARTNER:
        partner = least_loaded_partner(core_partners_for(opp.customer), rule.capacity)
        if partner is None:
            return _("no core partner agent covers this region and industry (or all are at capacity)")
        return Placement(partner=partner, channel=partner.channel_type)
    if target == RoutingRule.Target.PHONE_POOL:
        user = least_loaded(phone_pool(), rule.capacity)
        if user is None:
            return _("no phone account manager below capacity")
        return Placement(user=user, channel=channel_of(user))
    if target == RoutingRule.Target.TEAM_POOL:
        user = least_loaded(User.objects.filter(team_id=rule.target_team_id, role__in=roles.SERVING), rule.capacity)
        if user is None:
            return _("no one in the team below capacity")
        return Placement(user=user, team_id=rule.target_team_id, channel=channel_of(user))
    if target == RoutingRule.Target.USER:
        user = rule.target_user
        if user is None or not user.is_active:
            return _("the person is not available")
        return Placement(user=user, channel=channel_of(user))
    return Placement(channel=channel("operations_center"))


def placement_for_target(target: str, opp: Opportunity) -> Placement | str:
    """What a rule with only this target would place: the operations center's dispatch to a channel."""
    return place(RoutingRule(name="", target=target), opp)


def decide(opp: Opportunity, rules=None, product_ids: set[int] | None = None) -> Placement:
    """Walk the active rules in order; the first that matches and can place the opportunity wins.
    Nothing placed: the operations-center queue. `product_ids` stands in for the products of an unsaved
    opportunity (the dry-run tester)."""
    if rules is None:
        rules = active_rules()
    given = product_ids

    @functools.cache
    def product_ids() -> set[int]:  # read only when a rule names products
        if given is not None:
            return given
        return {p.pk for p in opp.products.all()} if opp.pk else set()

    trace: list[tuple[str, bool, str]] = []
    for rule in rules:
        why = _mismatch(rule, opp, product_ids)
        if not why and rule.use_channel_matrix and not _matrix_allows(rule, opp):
            why = _("the channel matrix does not give this customer class to the target channel")
        if why:
            trace.append((str(rule), False, why))
            continue
        placed = place(rule, opp)
        if isinstance(placed, str):
            trace.append((str(rule), False, placed))
            continue
        placed.rule = rule
        if rule.second_cover and (placed.user is None or placed.user.role != Role.PHONE_ACCOUNT_MANAGER):
            placed.second_cover = least_loaded(phone_pool(), None)
        placed.reason = rule.name
        trace.append((str(rule), True, _("placed")))
        placed.trace = trace
        return placed
    return Placement(
        channel=channel("operations_center"),
        reason=_("No rule could place it: operations-center queue."),
        trace=trace,
    )


def active_rules() -> list[RoutingRule]:
    return memoised(
        "rules",
        lambda: list(
            RoutingRule.objects.filter(is_active=True)
            .select_related("target_user", "target_team")
            .prefetch_related("products", "contact_channels")
        ),
    )


def claim_timers() -> dict[str, ClaimTimer]:
    return memoised("timers", lambda: {t.tier: t for t in ClaimTimer.objects.all()})
