"""Member and group-information change requests taken at the hotline (seed 004): what the customer asks is kept
on the ticket (`request_data`), checked when the ticket is taken, and applied once — by the customer's account
manager, supervisor or an admin (who may change the customer) — through the customers services, so the members
feed's derived counts and the customer's history follow as for any other change."""

import datetime as dt
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.models import User
from customers import policy as customer_policy
from customers import services as customer_services
from customers.models import Customer, GroupMember
from service.models import Ticket, TicketEvent

MEMBER_CHANGES = (Ticket.RequestType.MEMBER_ADD, Ticket.RequestType.MEMBER_REMOVE)
GROUP_FIELDS = {"phone": 30, "address": 200, "short_name": 100}  # what a group-information request may change
MAX_MEMBERS = 500
MOBILE = re.compile(r"1\d{10}")


def clean_request_data(request_type: str, data: dict | None) -> tuple[dict, dict[str, str]]:
    """(the normalised request, errors by field). Members: 11-digit mobile numbers, 1–500, no repeats; group
    information: the fields it may change, bounded."""
    data = data if isinstance(data, dict) else {}
    if request_type in MEMBER_CHANGES:
        given = data.get("msisdns")
        if not isinstance(given, list) or any(not isinstance(n, str | int) for n in given):
            return {}, {"request_data": _("Give 1 to %(max)d mobile numbers.") % {"max": MAX_MEMBERS}}
        numbers = [re.sub(r"\D", "", str(n)) for n in given]
        bad = [n for n in numbers if not MOBILE.fullmatch(n)]
        if not numbers or len(numbers) > MAX_MEMBERS:
            return {}, {"request_data": _("Give 1 to %(max)d mobile numbers.") % {"max": MAX_MEMBERS}}
        if bad:
            return {}, {"request_data": _("Not mobile numbers: %(numbers)s") % {"numbers": ", ".join(bad[:10])}}
        return {"msisdns": sorted(set(numbers))}, {}
    if request_type == Ticket.RequestType.GROUP_INFO:
        changes = {k: v.strip() for k, v in data.items() if k in GROUP_FIELDS and isinstance(v, str) and v.strip()}
        unknown = sorted(set(data) - set(GROUP_FIELDS))
        if unknown or not changes:
            return {}, {"request_data": _("Say what changes: %(fields)s.") % {"fields": ", ".join(GROUP_FIELDS)}}
        too_long = [k for k, v in changes.items() if len(v) > GROUP_FIELDS[k]]
        if too_long:
            return {}, {"request_data": _("Too long: %(fields)s.") % {"fields": ", ".join(too_long)}}
        return changes, {}
    if data:
        return {}, {"request_data": _("Only member and group-information requests carry changes.")}
    return {}, {}


def may_apply(user: User, ticket: Ticket) -> bool:
    return (
        ticket.request_type in (*MEMBER_CHANGES, Ticket.RequestType.GROUP_INFO)
        and bool(ticket.request_data)
        and customer_policy.can_edit(user, ticket.customer)
    )


def apply(ticket: Ticket, *, by: User, now: dt.datetime | None = None) -> Ticket:
    """Apply the request through the customers services — once: the first to apply it wins (compare-and-set on
    `request_applied_at`), anyone after gets a ValidationError."""
    if not may_apply(by, ticket):
        raise PermissionDenied(_("Only who may change this customer applies its requests."))
    now = now or timezone.now()
    with transaction.atomic():
        if (
            not Ticket.objects.filter(pk=ticket.pk, request_applied_at__isnull=True)
            .exclude(status__in=[Ticket.Status.REFUSED])
            .update(request_applied_at=now, request_applied_by=by)
        ):
            raise ValidationError(_("This request was applied already (or refused)."))
        customer = Customer.objects.get(pk=ticket.customer_id)
        data = ticket.request_data
        if ticket.request_type in MEMBER_CHANGES:
            joining = ticket.request_type == Ticket.RequestType.MEMBER_ADD
            today = timezone.localdate()
            existing = dict(GroupMember.objects.filter(customer=customer, msisdn__in=data["msisdns"])
                            .values_list("msisdn", "joined_on"))  # fmt: skip
            customer_services.members_upsert(rows=[
                customer_services.MemberRow(
                    customer_id=customer.pk, msisdn=number,
                    status=GroupMember.Status.ACTIVE if joining else GroupMember.Status.LEFT,
                    joined_on=today if joining or number not in existing else existing[number],
                    left_on=None if joining else today,
                )
                for number in data["msisdns"]
            ])  # fmt: skip
            note = _("%(count)d members %(what)s") % {"count": len(data["msisdns"]),
                                                       "what": _("added") if joining else _("removed")}  # fmt: skip
        else:
            customer_services.customer_update(customer=customer, by=by, reason=ticket.number or "", **data)
            note = ", ".join(f"{k}: {v}" for k, v in data.items())
        TicketEvent.objects.create(ticket=ticket, action=TicketEvent.Action.APPLIED, at=now, actor=by, note=note)
    ticket.request_applied_at, ticket.request_applied_by = now, by
    return ticket
