"""Write operations on leads and opportunities: capture, routing, claim, return, dispatch, timers,
stages, closing and activities.

Races are settled in the database: every state change is a compare-and-set UPDATE whose WHERE names
the state it expects, so two receivers claiming at once leave exactly one winner and a routing task that
runs twice routes once. Work is enqueued after commit and the row, not the broker, records what is
pending (see `sweep_routing`).
"""

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from channels import roles
from channels.models import ChannelType, Role, User
from channels.notifications import Message, notify, notify_many
from customers.models import Customer
from customers.services import customer_field_errors, prospect_register
from kam.celery import enqueue_on_commit
from kam.db import numbered_code
from opportunities import policy, routing
from opportunities.models import (
    AT_OPERATIONS_CENTER,
    AWAITING_CLAIM,
    OPEN_STAGES,
    STAGE_MOVES,
    WIN_FROM,
    Activity,
    ClaimTimer,
    CloseReason,
    Kind,
    Opportunity,
    RoutingStatus,
    Stage,
    StageChange,
    StageSetting,
    Transfer,
)
from orders.services import ordering

logger = logging.getLogger("kam.opportunities")
CODE_PREFIX = "OP"


class Conflict(Exception):
    """The opportunity changed under the caller (claimed by someone else, already moved): HTTP 409."""


# --- permissions: opportunities.policy ------------------------------------------------------------------


def _get(user: User, pk: int, *, lock: bool = False) -> Opportunity:
    """The opportunity if `user` may see it; anything else is 'not found' (no probing of others' ids)."""
    rows = Opportunity.objects.visible_to(user).select_related("customer", "claimed_by", "assigned_to")
    if lock:
        rows = rows.select_for_update(of=("self",))
    try:
        return rows.get(pk=pk)
    except Opportunity.DoesNotExist:
        raise Opportunity.DoesNotExist(_("No such opportunity.")) from None


# --- helpers -------------------------------------------------------------------------------------------


def probability_of(stage: str) -> int | None:
    """The default probability of a stage (StageSetting rows, memoised with the router's reference rows)."""
    settings = routing.memoised("stages", lambda: {s.stage: s.probability for s in StageSetting.objects.all()})
    return settings.get(stage)


def timer_for(customer: Customer) -> ClaimTimer:
    timers = routing.claim_timers()
    timer = timers.get(customer.tier or "") or timers.get("")
    if timer is None:  # the default rows were deleted: fall back to DOMAIN.md §4.2's C/D row
        timer = ClaimTimer(
            tier="", claim_hours=48, return_hours=72, first_contact_hours=48, qualify_days=14, idle_days=30
        )
    return timer


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def detail_link(opp: Opportunity) -> str:
    return reverse("opportunities:detail", args=[opp.pk])


def _log(opp, action, *, by=None, to_user=None, to_channel=None, to_team_id=None, to_partner=None,
         from_user=None, from_channel=None, reason="", rule=None, at=None) -> Transfer:  # fmt: skip
    return Transfer.objects.create(
        opportunity=opp, action=action, by=by, at=at or timezone.now(), reason=reason,
        from_user=from_user, from_channel=from_channel, to_user=to_user, to_channel=to_channel,
        to_team_id=to_team_id, to_partner=to_partner, rule=rule, rule_name=rule.name if rule else "",
    )  # fmt: skip


def dispatchers():
    return User.objects.filter(role=Role.DISPATCHER, is_active=True)


def _receivers(opp: Opportunity) -> list[User]:
    """Who must hear that an opportunity arrived: the receiver, or the partner's staff, and the second cover."""
    return _receivers_of([opp])[opp.pk]


def _receivers_of(opps: list[Opportunity]) -> dict[int, list[User]]:
    """`_receivers` for many opportunities in at most one query (the pools' staff); the receivers and second
    covers must be loaded with the rows (select_related)."""
    partners = {o.assigned_partner_id for o in opps if not o.assigned_to_id and o.assigned_partner_id}
    teams = {
        o.assigned_team_id for o in opps if not o.assigned_to_id and not o.assigned_partner_id and o.assigned_team_id
    }
    staff_of_partner: dict[int, list[User]] = {}
    staff_of_team: dict[int, list[User]] = {}
    if partners or teams:
        for user in User.objects.filter(Q(partner_id__in=partners) | Q(team_id__in=teams), is_active=True):
            if user.partner_id in partners:
                staff_of_partner.setdefault(user.partner_id, []).append(user)
            if user.team_id in teams:
                staff_of_team.setdefault(user.team_id, []).append(user)
    people: dict[int, list[User]] = {}
    for o in opps:
        if o.assigned_to_id:
            found = [o.assigned_to]
        elif o.assigned_partner_id:
            found = list(staff_of_partner.get(o.assigned_partner_id, []))
        else:
            found = list(staff_of_team.get(o.assigned_team_id, []))
        if o.second_cover_id:
            found.append(o.second_cover)
        people[o.pk] = found
    return people


def _enqueue_routing(pk: int) -> None:
    """After commit. A broker that is down must not fail the capture: the row stays pending and the
    sweep re-enqueues it."""
    from opportunities.tasks import route_opportunity

    enqueue_on_commit(route_opportunity, pk)


# --- capture -------------------------------------------------------------------------------------------


@dataclass
class Prospect:
    name: str
    phone: str = ""
    region_id: str | None = None
    industry_id: str | None = None

    @classmethod
    def from_input(cls, data: dict) -> "Prospect | None":
        """The prospect named in a capture form's or API input (`prospect_name`, `_phone`, `_region`,
        `_industry`), or None when no name is given (an existing customer is chosen instead)."""
        name = (data.get("prospect_name") or "").strip()
        if not name:
            return None
        region, industry = data.get("prospect_region"), data.get("prospect_industry")
        return cls(
            name=name, phone=data.get("prospect_phone") or "", region_id=region.pk if region else None,
            industry_id=industry.pk if industry else None,
        )  # fmt: skip

    def errors(self, *, by: User) -> dict[str, list[str]]:
        """What the customer checks find in the prospect's fields, keyed by the input names (`prospect_phone`...),
        so a capture answers them together with its own errors (all at once, not in a second round)."""
        found = customer_field_errors(
            by=by, name=self.name, phone=self.phone, region_id=self.region_id, industry_id=self.industry_id
        )
        keys = {"name": "prospect_name", "phone": "prospect_phone", "region": "prospect_region",
                "industry": "prospect_industry"}  # fmt: skip
        return {keys.get(field, "prospect_name"): messages for field, messages in found.items()}


def opportunity_capture(
    *,
    by: User,
    kind: str,
    title: str,
    customer: Customer | None = None,
    prospect: Prospect | None = None,
    confirm_not_duplicate: bool = False,
    products=(),
    contact_channel: ChannelType | None = None,
    **fields,
) -> Opportunity:
    """Capture a lead or an opportunity from any channel and ask the router to place it.

    The customer is an existing one the capturer may see, or a prospect that goes through the duplicate
    check (DuplicateWarning when it may exist). Routing runs in a Celery task after commit; the response
    has `routing_status = pending`."""
    allowed = {"description", "contact", "contact_name", "contact_phone", "key_person", "need_type",
               "informatisation", "expected_value", "expected_close"}  # fmt: skip
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    if not policy.may_capture(by):
        raise PermissionDenied(_("Your role may not capture opportunities."))
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = [_("Choose lead or opportunity.")]
    if not (title or "").strip():
        errors["title"] = [_("Give the opportunity a title.")]
    if (customer is None) == (prospect is None):
        errors["customer"] = [_("Name an existing customer or a new prospect (one of the two).")]
    elif customer is not None and not Customer.objects.visible_to(by).live().filter(pk=customer.pk).exists():
        errors["customer"] = [_("No such customer.")]
    if kind == Kind.OPPORTUNITY and not products and not (fields.get("description") or "").strip():
        errors["products"] = [
            _("An opportunity has a clear need: name a product of interest or describe the concrete need.")
        ]
    value = fields.get("expected_value")
    if value is not None and Decimal(value) < 0:
        errors["expected_value"] = [_("The expected value cannot be negative.")]
    close = fields.get("expected_close")
    if close is not None and close < timezone.localdate() - datetime.timedelta(days=1):
        errors["expected_close"] = [_("The expected close date is in the past.")]
    contact = fields.get("contact")
    if contact is not None and customer is not None and contact.customer_id != customer.pk:
        errors["contact"] = [_("This contact belongs to another customer.")]
    if prospect is not None and customer is None:
        for field, messages in prospect.errors(by=by).items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        if prospect is not None:
            customer = prospect_register(
                by=by, confirm_not_duplicate=confirm_not_duplicate, name=prospect.name.strip(),
                phone=prospect.phone, region_id=prospect.region_id, industry_id=prospect.industry_id,
            )  # fmt: skip
        if contact is not None and not fields.get("contact_name"):
            fields["contact_name"], fields["contact_phone"] = (
                contact.name,
                fields.get("contact_phone") or contact.mobile,
            )
        contact_channel = contact_channel or by.channel_type
        opp = Opportunity(
            kind=kind, title=title.strip(), customer=customer, captured_by=by, contact_channel=contact_channel,
            routing_status=RoutingStatus.PENDING, routing_requested_at=now, created_at=now, **fields,
        )  # fmt: skip
        if kind == Kind.OPPORTUNITY:
            opp.stage, opp.stage_changed_at, opp.qualified_at = Stage.IDENTIFIED, now, now
            opp.probability = probability_of(Stage.IDENTIFIED)
        # Field checks only: the inputs the check constraints guard were validated above, and the database
        # enforces them anyway (validating constraints here would cost one query each).
        opp.full_clean(
            exclude=["customer", "captured_by", "contact", "contact_channel", "code"], validate_constraints=False
        )
        opp.save()
        Opportunity.objects.filter(pk=opp.pk).update(code=numbered_code(CODE_PREFIX))
        opp.refresh_from_db(fields=["code"])
        if products:
            opp.products.set(products)
        _log(opp, Transfer.Action.CAPTURED, by=by, from_user=by, from_channel=contact_channel, at=now)
        if opp.stage:
            StageChange.objects.create(opportunity=opp, from_stage="", to_stage=opp.stage, by=by, at=now)
        _enqueue_routing(opp.pk)
    return opp


# --- routing -------------------------------------------------------------------------------------------


def _timers(opp: Opportunity, now) -> dict:
    timer = timer_for(opp.customer)
    return {
        "dispatched_at": now,
        "claim_due_at": now + datetime.timedelta(hours=timer.claim_hours),
        "return_due_at": now + datetime.timedelta(hours=timer.return_hours),
        "escalated_at": None,
    }


def _placement_fields(placement: routing.Placement, opp: Opportunity, now) -> dict:
    if placement.to_queue:
        return {
            "routing_status": RoutingStatus.QUEUED, "assigned_to": None, "assigned_team_id": None,
            "assigned_partner": None, "second_cover": placement.second_cover, "assigned_channel": placement.channel,
            "dispatched_at": None, "claim_due_at": None, "return_due_at": None, "escalated_at": None,
            "claimed_by": None, "claimed_at": None,
        }  # fmt: skip
    return {
        "routing_status": RoutingStatus.DISPATCHED, "assigned_to": placement.user,
        "assigned_team_id": placement.team_id, "assigned_partner": placement.partner,
        "assigned_channel": placement.channel, "second_cover": placement.second_cover,
        "claimed_by": None, "claimed_at": None, "claimed_on_time": None, **_timers(opp, now),
    }  # fmt: skip


def _announce(opp: Opportunity, *, title: str, body: str = "", extra=(), urgent: bool = False) -> None:
    """Tell the receiver(s) and the customer's account manager (seed 003: automatic notification)."""
    people = [*_receivers(opp), *extra]
    manager = opp.customer.account_manager
    if manager is not None:
        people.append(manager)
    notify(people, kind="opportunity", title=title, body=body, link=detail_link(opp), urgent=urgent)


def opportunity_route(pk: int) -> Transfer | None:
    """Place a pending opportunity by the rules. Safe to run twice and concurrently: the row is locked
    (PostgreSQL) and the placement is a compare-and-set on `pending`; a second run finds nothing to do."""
    with transaction.atomic():
        opp = (
            Opportunity.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("customer__account_manager__channel_type", "captured_by", "contact_channel")
            .filter(pk=pk, routing_status=RoutingStatus.PENDING)
            .first()
        )
        if opp is None:
            return None
        placement = routing.decide(opp)
        now = timezone.now()
        changes = _placement_fields(placement, opp, now)
        changes.update(routed_at=now, routed_by_rule=placement.rule)
        if not Opportunity.objects.filter(pk=pk, routing_status=RoutingStatus.PENDING).update(**changes):
            return None
        for name, value in changes.items():
            setattr(opp, name, value)
        entry = _log(
            opp, Transfer.Action.QUEUED if placement.to_queue else Transfer.Action.ROUTED,
            from_user=opp.captured_by, from_channel=opp.contact_channel, to_user=placement.user,
            to_channel=placement.channel, to_team_id=placement.team_id, to_partner=placement.partner,
            reason=placement.reason, rule=placement.rule, at=now,
        )  # fmt: skip
        if placement.to_queue:
            notify(dispatchers(), kind="opportunity", title=_("Unrouted: %(title)s") % {"title": opp.title},
                   body=placement.reason, link=detail_link(opp))  # fmt: skip
        else:
            title = _("New %(kind)s to claim: %(title)s") % {"kind": opp.get_kind_display(), "title": opp.title}
            _announce(opp, title=title, body=_("Claim it by %(due)s.") % {"due": _when(opp.claim_due_at)})
    return entry


def routing_sweep(*, older_than: datetime.timedelta, limit: int = 500) -> int:
    """Re-enqueue opportunities still pending after `older_than` (their message was lost with a broker
    restart or a dead worker, or never sent). Bumps `routing_requested_at`, so each sweep re-sends a row
    once per period, never in a tight loop."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Opportunity.objects.select_for_update(skip_locked=True)
            .filter(routing_status=RoutingStatus.PENDING, routing_requested_at__lt=now - older_than)
            .order_by("routing_requested_at")
            .values_list("pk", flat=True)[:limit]
        )
        Opportunity.objects.filter(pk__in=ids).update(
            routing_requested_at=now, routing_attempts=F("routing_attempts") + 1
        )
    for pk in ids:
        _enqueue_routing(pk)
    return len(ids)


# --- claim, return, dispatch ---------------------------------------------------------------------------


def opportunity_claim(*, pk: int, by: User) -> Opportunity:
    """The receiver accepts responsibility (认领). Exactly one of several concurrent claims wins; the others
    get Conflict."""
    opp = _get(by, pk)
    now = timezone.now()
    with transaction.atomic():
        won = (
            Opportunity.objects.filter(pk=pk, routing_status__in=AWAITING_CLAIM)
            .filter(policy.receiver_q(by))
            .update(
                routing_status=RoutingStatus.CLAIMED,
                claimed_by=by,
                claimed_at=now,
                assigned_to=by,
                claimed_on_time=Case(When(claim_due_at__gte=now, then=Value(True)), default=Value(False)),
            )  # fmt: skip
        )
        if not won:
            opp.refresh_from_db()
            if opp.routing_status == RoutingStatus.CLAIMED:
                raise Conflict(_("Already claimed by %(who)s.") % {"who": opp.claimed_by})
            if opp.routing_status not in AWAITING_CLAIM:
                raise Conflict(
                    _("This opportunity is not waiting for a claim (%(status)s).")
                    % {"status": opp.get_routing_status_display()}
                )
            raise PermissionDenied(_("This opportunity was not sent to you."))
        opp.refresh_from_db()
        _log(opp, Transfer.Action.CLAIMED, by=by, from_user=by, to_user=by, to_channel=opp.assigned_channel, at=now)
        notify([opp.captured_by], kind="opportunity", title=_("Claimed: %(title)s") % {"title": opp.title},
               body=_("%(who)s has taken it on.") % {"who": by}, link=detail_link(opp))  # fmt: skip
    return opp


def opportunity_return(*, pk: int, by: User, reason: str) -> Opportunity:
    """A receiver that cannot serve it sends it back to the operations center with a reason (退回)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why you return it.")]})
    opp = _get(by, pk)
    if opp.is_closed:
        raise Conflict(_("A closed opportunity cannot be returned."))
    # Before the claim any receiver (or the second cover) may return it; once claimed, only the one who claimed it.
    waiting = Q(routing_status__in=AWAITING_CLAIM) & policy.receiver_q(by)
    mine = waiting | Q(routing_status=RoutingStatus.CLAIMED, claimed_by=by)
    ops = routing.channel("operations_center")
    now = timezone.now()
    with transaction.atomic():
        changed = (
            Opportunity.objects.filter(pk=pk, routing_status__in=[*AWAITING_CLAIM, RoutingStatus.CLAIMED])
            .filter(mine)
            .update(
                routing_status=RoutingStatus.RETURNED,
                assigned_to=None,
                assigned_team=None,
                assigned_partner=None,
                second_cover=None,
                assigned_channel=ops,
                claimed_by=None,
                claimed_at=None,
                claim_due_at=None,
                return_due_at=None,
                escalated_at=None,
            )  # fmt: skip
        )
        if not changed:
            opp.refresh_from_db()
            if opp.routing_status in AT_OPERATIONS_CENTER:
                raise Conflict(_("It is already with the operations center."))
            raise PermissionDenied(_("Only its receiver can return it."))
        _log(opp, Transfer.Action.RETURNED, by=by, from_user=by, from_channel=opp.assigned_channel,
             to_channel=ops, reason=reason.strip(), at=now)  # fmt: skip
        opp.refresh_from_db()
        notify(dispatchers(), kind="opportunity", title=_("Returned: %(title)s") % {"title": opp.title},
               body=reason.strip(), link=detail_link(opp))  # fmt: skip
    return opp


def opportunity_dispatch(
    *, pk: int, by: User, to_user: User | None = None, to_channel: str | None = None, reason: str = ""
) -> Opportunity:
    """The operations center sends an opportunity to a person, or to a channel (whose pool or rule picks
    the person). Compare-and-set on the routing state it read, so two dispatchers cannot both move it."""
    if not policy.may_dispatch(by):
        raise PermissionDenied(_("Only the operations center dispatches opportunities."))
    if (to_user is None) == (not to_channel):
        raise ValidationError({"to_user": [_("Name a person or a channel (one of the two).")]})
    opp = _get(by, pk)
    if opp.is_closed:
        raise Conflict(_("A closed opportunity cannot be dispatched."))
    placement = _dispatch_placement(opp, to_user, to_channel)
    now = timezone.now()
    before = (opp.routing_status, opp.assigned_to_id, opp.assigned_channel_id)
    with transaction.atomic():
        changes = _placement_fields(placement, opp, now)
        changed = Opportunity.objects.filter(
            pk=pk, routing_status=before[0], assigned_to=before[1], assigned_channel=before[2]
        ).update(**changes)
        if not changed:
            raise Conflict(_("Someone changed this opportunity meanwhile; reload and try again."))
        from_user, from_channel = opp.assigned_to or opp.claimed_by, opp.assigned_channel
        opp.refresh_from_db()
        _log(opp, Transfer.Action.DISPATCHED, by=by, from_user=from_user, from_channel=from_channel,
             to_user=placement.user, to_channel=placement.channel, to_team_id=placement.team_id,
             to_partner=placement.partner, reason=(reason or "").strip() or placement.reason, at=now)  # fmt: skip
        if not placement.to_queue:
            _announce(opp, title=_("Dispatched to you: %(title)s") % {"title": opp.title},
                      body=(reason or "").strip())  # fmt: skip
    return opp


def _dispatch_placement(opp: Opportunity, to_user: User | None, to_channel: str | None) -> routing.Placement:
    if to_user is not None:
        if not to_user.is_active or to_user.role not in roles.SERVING:
            raise ValidationError({"to_user": [_("This person cannot take opportunities.")]})
        return routing.Placement(user=to_user, channel=routing.channel_of(to_user), reason=_("Dispatched by hand"))
    rule = {
        "account_manager": "account_manager", "social_channel": "core_partner",
        "phone_account_manager": "phone_pool", "operations_center": "operations_center",
    }.get(to_channel)  # fmt: skip
    if rule is None:
        raise ValidationError({"to_channel": [_("Unknown channel for dispatch.")]})
    placed = routing.placement_for_target(rule, opp)
    if isinstance(placed, str):
        raise ValidationError({"to_channel": [placed]})
    if rule == "core_partner":
        placed.second_cover = routing.least_loaded(routing.phone_pool(), None)
    placed.reason = _("Dispatched to a channel")
    return placed


def claim_timers_enforce(*, now=None, limit: int = 1000) -> dict[str, int]:
    """Escalate what is unclaimed at its claim deadline (the receiver's supervisor and the operations center
    hear of it); return to the operations-center queue what is still unclaimed at its return deadline.
    Set-based: one UPDATE per step over the due rows, their log rows in one INSERT."""
    now = now or timezone.now()
    ops = routing.channel("operations_center")
    done = {"escalated": 0, "returned": 0}
    with transaction.atomic():
        due = list(
            Opportunity.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(routing_status=RoutingStatus.DISPATCHED, claim_due_at__lt=now)
            .select_related("assigned_to__team__supervisor", "second_cover")
            .order_by("claim_due_at")[:limit]
        )
        if due:
            Opportunity.objects.filter(pk__in=[o.pk for o in due], routing_status=RoutingStatus.DISPATCHED).update(
                routing_status=RoutingStatus.ESCALATED, escalated_at=now
            )
            Transfer.objects.bulk_create(
                Transfer(opportunity=o, action=Transfer.Action.ESCALATED, at=now, from_user_id=o.assigned_to_id,
                         to_user_id=o.assigned_to_id, to_channel_id=o.assigned_channel_id,
                         reason=_("Not claimed by %(due)s.") % {"due": _when(o.claim_due_at)})
                for o in due
            )  # fmt: skip
            staff = list(dispatchers())
            receivers = _receivers_of(due)
            notify_many(
                Message([*receivers[o.pk], o.assigned_to.team.supervisor if o.assigned_to and o.assigned_to.team
                         else None, *staff], kind="claim_overdue", urgent=True,
                        title=_("Claim overdue: %(title)s") % {"title": o.title}, link=detail_link(o))
                for o in due
            )  # fmt: skip
            done["escalated"] = len(due)
        back = list(
            Opportunity.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(routing_status=RoutingStatus.ESCALATED, return_due_at__lt=now)
            .order_by("return_due_at")[:limit]
        )
        if back:
            Opportunity.objects.filter(pk__in=[o.pk for o in back], routing_status=RoutingStatus.ESCALATED).update(
                routing_status=RoutingStatus.QUEUED, assigned_to=None, assigned_team=None, assigned_partner=None,
                second_cover=None, assigned_channel=ops, claim_due_at=None, return_due_at=None,
            )  # fmt: skip
            Transfer.objects.bulk_create(
                Transfer(opportunity=o, action=Transfer.Action.AUTO_RETURNED, at=now, from_user_id=o.assigned_to_id,
                         from_channel_id=o.assigned_channel_id, to_channel=ops,
                         reason=_("Not claimed in time: back to the operations-center queue."))
                for o in back
            )  # fmt: skip
            staff = list(dispatchers())
            notify_many(
                Message(staff, kind="opportunity", title=_("Back in the queue: %(title)s") % {"title": o.title},
                        link=detail_link(o))
                for o in back
            )  # fmt: skip
            done["returned"] = len(back)
    return done


# --- working the opportunity ---------------------------------------------------------------------------


def _require_work(by: User, opp: Opportunity) -> None:
    if not policy.may_work(by, opp):
        if opp.routing_status != RoutingStatus.CLAIMED:
            raise Conflict(_("Claim it before working on it."))
        raise PermissionDenied(_("Only its owner (or the owner's supervisor) can work on it."))


def _stage_write(opp: Opportunity, *, by: User, to: str, now, extra: dict | None = None, note: str = "") -> None:
    probability = probability_of(to)
    changes = {
        "stage": to, "stage_changed_at": now, "stale_alerted_at": None,
        "probability": opp.probability if probability is None else probability, **(extra or {}),
    }  # fmt: skip
    if not Opportunity.objects.filter(pk=opp.pk, stage=opp.stage, kind=opp.kind).update(**changes):
        raise Conflict(_("Someone changed this opportunity meanwhile; reload and try again."))
    days = None
    if opp.stage and opp.stage_changed_at:
        days = Decimal((now - opp.stage_changed_at).total_seconds() / 86400).quantize(Decimal("0.01"))
    StageChange.objects.create(
        opportunity=opp, from_stage=opp.stage, to_stage=to, days_in_stage=days, by=by, at=now, note=note
    )
    for name, value in changes.items():
        setattr(opp, name, value)


def opportunity_move_stage(*, pk: int, by: User, stage: str, note: str = "") -> Opportunity:
    opp = _get(by, pk)
    _require_work(by, opp)
    if opp.kind == Kind.LEAD:
        raise ValidationError({"stage": [_("A lead has no stage: qualify it into an opportunity first.")]})
    if stage not in Stage.values:
        raise ValidationError({"stage": [_("Unknown stage.")]})
    if stage in (Stage.WON, Stage.LOST) or (stage == Stage.SUSPENDED):
        raise ValidationError({"stage": [_("Use close to mark it won, lost or suspended.")]})
    if stage == opp.stage:
        return opp
    if stage not in STAGE_MOVES.get(opp.stage, set()):
        raise ValidationError(
            {
                "stage": [
                    _("It cannot move from %(a)s to %(b)s.") % {"a": opp.get_stage_display(), "b": Stage(stage).label}
                ]
            }
        )
    with transaction.atomic():
        extra = {"closed_at": None, "close_reason": None} if opp.stage == Stage.SUSPENDED else {}
        _stage_write(opp, by=by, to=stage, now=timezone.now(), extra=extra, note=note)
    return opp


def opportunity_qualify(
    *, pk: int, by: User, products=(), expected_value=None, expected_close=None, need_type: str = ""
) -> Opportunity:
    """A lead whose need became clear turns into an opportunity at the first stage."""
    opp = _get(by, pk)
    _require_work(by, opp)
    if opp.kind != Kind.LEAD or opp.stage:
        raise Conflict(_("Only an open lead can be qualified."))
    if not products and not opp.products.exists() and not need_type:
        raise ValidationError({"products": [_("Name the product of interest (or the need type) to qualify it.")]})
    now = timezone.now()
    with transaction.atomic():
        changed = Opportunity.objects.filter(pk=pk, kind=Kind.LEAD, stage="").update(
            kind=Kind.OPPORTUNITY, stage=Stage.IDENTIFIED, stage_changed_at=now, qualified_at=now,
            probability=probability_of(Stage.IDENTIFIED),
            expected_value=expected_value if expected_value is not None else F("expected_value"),
            expected_close=expected_close or F("expected_close"), need_type=need_type or F("need_type"),
        )  # fmt: skip
        if not changed:
            raise Conflict(_("Someone changed this opportunity meanwhile; reload and try again."))
        if products:
            opp.products.add(*products)
        StageChange.objects.create(opportunity=opp, from_stage="", to_stage=Stage.IDENTIFIED, by=by, at=now,
                                   note=_("Qualified from a lead"))  # fmt: skip
    opp.refresh_from_db()
    return opp


def opportunity_close(
    *, pk: int, by: User, result: str, reason: CloseReason | None = None, competitor: str = "", note: str = ""
) -> Opportunity:
    """Close as won (from bid on), lost or suspended (from any open stage, or a lead) with a reason from the
    list; a loss to a competitor names the competitor."""
    opp = _get(by, pk)
    _require_work(by, opp)
    errors: dict[str, list[str]] = {}
    if result not in (Stage.WON, Stage.LOST, Stage.SUSPENDED):
        errors["result"] = [_("Choose won, lost or suspended.")]
    elif opp.is_closed:
        raise Conflict(_("It is already closed (%(stage)s).") % {"stage": opp.get_stage_display()})
    elif result == Stage.WON and (opp.kind == Kind.LEAD or opp.stage not in WIN_FROM):
        errors["result"] = [_("Only an opportunity at quote/bid, negotiation or signed can be won.")]
    if result in (Stage.LOST, Stage.SUSPENDED) and reason is None:
        errors["reason"] = [_("Choose the reason.")]
    if reason is not None and (not reason.is_active or (reason.applies_to_won != (result == Stage.WON))):
        errors["reason"] = [_("This reason does not apply to this result.")]
    if reason is not None and reason.code == "competitor" and not competitor.strip():
        errors["competitor"] = [_("Name the competitor.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        _stage_write(opp, by=by, to=result, now=now, note=note, extra={
            "closed_at": now, "close_reason": reason, "competitor": competitor.strip(), "close_note": note,
        })  # fmt: skip
        if result == Stage.WON and opp.order_id is None:
            # A won opportunity creates its draft order (seed 000 4.6); the link is kept on this side.
            order = ordering.order_from_opportunity(opp, by=by)
            Opportunity.objects.filter(pk=opp.pk).update(order=order)
            opp.order = order
        notify([opp.captured_by, opp.customer.account_manager], kind="opportunity",
               title=_("%(result)s: %(title)s") % {"result": Stage(result).label, "title": opp.title},
               body=reason.label if reason else "", link=detail_link(opp))  # fmt: skip
    return opp


def activity_create(
    *, pk: int, by: User, kind: str, notes: str, at=None, next_action: str | None = None, next_action_due=None
) -> Activity:
    opp = _get(by, pk)
    _require_work(by, opp)
    if not (notes or "").strip():
        raise ValidationError({"notes": [_("Write what happened.")]})
    if kind not in Activity.Kind.values:
        raise ValidationError({"kind": [_("Unknown activity kind.")]})
    at = at or timezone.now()
    if at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"at": [_("An activity cannot be in the future; use the next action for plans.")]})
    with transaction.atomic():
        activity = Activity.objects.create(opportunity=opp, kind=kind, at=at, by=by, notes=notes.strip())
        latest = at if opp.last_activity_at is None else max(at, opp.last_activity_at)
        changes = {"last_activity_at": latest}
        if next_action is not None:
            changes.update(next_action=next_action.strip(), next_action_due=next_action_due)
        Opportunity.objects.filter(pk=opp.pk).update(**changes)
    return activity


def stale_alerts_send(*, now=None) -> int:
    """Alert owners once about opportunities that stayed in a stage beyond its limit and leads not qualified
    in time (DOMAIN.md §4.2). `stale_alerted_at` is cleared by the next stage move."""
    now = now or timezone.now()
    sent = 0
    rows = Opportunity.objects.filter(
        routing_status=RoutingStatus.CLAIMED, stale_alerted_at__isnull=True, stage__in=OPEN_STAGES
    ).select_related("claimed_by")
    for setting in StageSetting.objects.filter(stage__in=OPEN_STAGES, stale_days__isnull=False):
        due = list(
            rows.filter(stage=setting.stage, stage_changed_at__lt=now - datetime.timedelta(days=setting.stale_days))[
                :1000
            ]
        )
        notify_many(
            Message([opp.claimed_by], kind="stale", link=detail_link(opp), title=_(
                "No progress for %(days)s days: %(title)s") % {"days": setting.stale_days, "title": opp.title})
            for opp in due
        )  # fmt: skip
        Opportunity.objects.filter(pk__in=[o.pk for o in due]).update(stale_alerted_at=now)
        sent += len(due)
    for timer in ClaimTimer.objects.all():
        leads = Opportunity.objects.filter(
            kind=Kind.LEAD, stage="", routing_status=RoutingStatus.CLAIMED, stale_alerted_at__isnull=True,
            customer__tier=timer.tier, created_at__lt=now - datetime.timedelta(days=timer.qualify_days),
        ).select_related("claimed_by")[:1000]  # fmt: skip
        leads = list(leads)
        notify_many(
            Message([opp.claimed_by], kind="stale", link=detail_link(opp),
                    title=_("Qualify or close this lead: %(title)s") % {"title": opp.title})
            for opp in leads
        )  # fmt: skip
        Opportunity.objects.filter(pk__in=[o.pk for o in leads]).update(stale_alerted_at=now)
        sent += len(leads)
    return sent
