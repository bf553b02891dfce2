"""Satisfaction follow-up: scheduled when a ticket is resolved (the policy's `follow_up_hours`), the link sent by
SMS when due (a beat task, set-based), answered on a public page through a signed, single-use, expiring link.
"Unsatisfied" reopens the ticket once; the answers feed the survey analysis."""

import datetime as dt
import logging

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.sms import send_sms
from service import policy
from service.models import FollowUp, Ticket
from service.services import tickets

logger = logging.getLogger("kam.service")
SALT = "kam.service.follow-up"
BATCH = 500


class LinkRefused(Exception):
    """A follow-up link that is forged (`forged`), expired or already used: the page says which, nothing else."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def link_days() -> int:
    return int(getattr(settings, "KAM_FOLLOW_UP_LINK_DAYS", 14))


def schedule(ticket: Ticket, *, now: dt.datetime) -> FollowUp | None:
    policy = ticket.sla_policy
    if policy is None or not policy.follow_up_hours:
        return None
    return FollowUp.objects.create(ticket=ticket, due_at=now + dt.timedelta(hours=policy.follow_up_hours))


def token_for(follow_up: FollowUp) -> str:
    return signing.dumps({"f": follow_up.pk}, salt=SALT, compress=True)


def link_for(follow_up: FollowUp) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{reverse('service:survey', args=[token_for(follow_up)])}"


def send_due(*, now: dt.datetime | None = None) -> int:
    """Send the links of the follow-ups that are due (one batch, locked: two runs never send one twice). A ticket
    reopened since, or without a mobile to write to, is left for the agents' follow-up list."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            FollowUp.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                sent_at__isnull=True,
                answered_at__isnull=True,
                due_at__lte=now,
                ticket__status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED],
            )  # fmt: skip
            .select_related("ticket__contact")
            .order_by("due_at", "id")[:BATCH]
        )
        texts = []
        for follow_up in due:
            ticket = follow_up.ticket
            mobile = (
                ticket.contact.mobile if ticket.contact_id and ticket.contact.mobile else ""
            ) or ticket.caller_phone
            if mobile:
                texts.append((mobile, _("[%(number)s] How did we do? Tell us in one click: %(link)s")
                              % {"number": ticket.number, "link": link_for(follow_up)}))  # fmt: skip
        FollowUp.objects.filter(pk__in=[f.pk for f in due]).update(sent_at=now)

        def send():
            for mobile, text in texts:
                try:
                    send_sms(mobile, text)
                except Exception:  # noqa: BLE001 - a gateway error is logged; the agents' list still has it
                    logger.warning("Follow-up SMS not delivered", exc_info=True)

        transaction.on_commit(send)
    return len(texts)


def open_link(token: str) -> FollowUp:
    """The follow-up behind a link, or LinkRefused("forged" | "expired" | "used")."""
    try:
        data = signing.loads(token, salt=SALT, max_age=dt.timedelta(days=link_days()))
    except signing.SignatureExpired:
        raise LinkRefused("expired") from None
    except signing.BadSignature:
        raise LinkRefused("forged") from None
    follow_up = FollowUp.objects.select_related("ticket").filter(pk=data.get("f")).first()
    if follow_up is None:
        raise LinkRefused("forged")
    if follow_up.answered_at is not None:
        raise LinkRefused("used")
    return follow_up


def answer(token: str, *, answer: str, score: int | None, comment: str, now: dt.datetime | None = None) -> FollowUp:
    """The customer's answer from the link, once (compare-and-set on `answered_at`)."""
    return record(open_link(token), answer=answer, score=score, comment=comment, now=now)


def answer_by_phone(follow_up: FollowUp, *, by, answer: str, score: int | None, comment: str,
                    now: dt.datetime | None = None) -> FollowUp:  # fmt: skip
    """An agent called the customer from the follow-up list and records what they said."""
    if not policy.may_take_tickets(by):
        raise PermissionDenied(_("You may not record follow-ups."))
    if follow_up.answered_at is not None:
        raise LinkRefused("used")
    return record(follow_up, answer=answer, score=score, comment=comment, now=now)


def record(follow_up: FollowUp, *, answer: str, score: int | None, comment: str,
           now: dt.datetime | None = None) -> FollowUp:  # fmt: skip
    """The answer, once. Unsatisfied → the ticket reopens (once); otherwise a resolved ticket is closed."""
    if answer not in FollowUp.Answer.values:
        raise ValidationError({"answer": _("Choose one of the answers.")})
    if score is not None and not 1 <= score <= 5:
        raise ValidationError({"score": _("A score from 1 to 5.")})
    now = now or timezone.now()
    with transaction.atomic():
        won = FollowUp.objects.filter(pk=follow_up.pk, answered_at__isnull=True).update(
            answer=answer, score=score, comment=comment[:2000], answered_at=now
        )
        if not won:
            raise LinkRefused("used")
        ticket = follow_up.ticket
        if (
            answer == FollowUp.Answer.UNSATISFIED
            and ticket.reopened == 0
            and ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
        ):
            tickets.reopen_for_customer(ticket, by=None, reason=comment or _("The customer is not satisfied."), now=now)
        elif answer != FollowUp.Answer.UNSATISFIED and ticket.status == Ticket.Status.RESOLVED:
            tickets.close_after_follow_up(ticket, now=now)
        # unsatisfied again after the one reopening: it stays resolved, on the analysis as unsatisfied
    follow_up.refresh_from_db()
    return follow_up
