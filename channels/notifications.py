"""Notifications to staff: an in-app row for each recipient, then e-mail (and SMS when urgent) sent
by a Celery task after commit, outside the transaction that caused them."""

import logging
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from channels.models import Notification, User
from kam import request_cache
from kam.celery import enqueue_on_commit

logger = logging.getLogger("kam.notifications")


# Kinds of notification and their labels (the inbox shows them; the API filters by kind). Apps register
# theirs from AppConfig.ready(); an unregistered kind still works and shows its slug.
_kinds: dict[str, str] = {}


def register_kind(kind: str, *, label: str) -> None:
    _kinds[kind] = label


def kind_label(kind: str) -> str:
    return str(_kinds.get(kind, kind))


@dataclass
class Message:
    """One notification for each of its recipients (None and inactive users are skipped)."""

    recipients: Iterable[User | None]
    kind: str
    title: str
    body: str = ""
    link: str = ""
    urgent: bool = False


def notify(
    recipients: Iterable[User | None], *, kind: str, title: str, body: str = "", link: str = "", urgent: bool = False
) -> list[Notification]:
    """Record one notification per distinct recipient and send them by e-mail/SMS after the surrounding
    transaction commits."""
    return notify_many([Message(recipients, kind, title, body, link, urgent)])


def notify_many(messages: Iterable[Message]) -> list[Notification]:
    """Record many messages in one INSERT (batch jobs: the claim timers, stale alerts) and send them after
    commit; a recipient named twice in one message gets it once."""
    rows = []
    for message in messages:
        seen: set[int] = set()
        for user in message.recipients:
            if user is None or not user.is_active or user.pk in seen:
                continue
            seen.add(user.pk)
            rows.append(
                Notification(
                    recipient=user, kind=message.kind, title=message.title[:200], body=message.body,
                    link=message.link, urgent=message.urgent,
                )
            )  # fmt: skip
    if not rows:
        return []
    Notification.objects.bulk_create(rows)
    ids = [n.pk for n in rows]  # bulk_create returns primary keys on PostgreSQL and SQLite
    if not getattr(_batched, "active", False):
        from channels.tasks import deliver_notifications

        # A broker that is down leaves the rows unsent: `deliver_notifications` with no ids sends them.
        enqueue_on_commit(deliver_notifications, ids)
    return rows


def notify_per_recipient(rows, recipients_of, one, summary, *, kind: str, urgent: bool = False,
                         digest_after: int = 5, extra_users=()) -> list[Notification]:  # fmt: skip
    """Batch jobs (SLA sweeps): one message per row and recipient, or one summary for a recipient who has more
    than `digest_after` rows — a backlog must not bury anybody under hundreds of messages. `recipients_of(row)`
    names user ids; `one(row, users)` gives (title, body, link), `summary(rows, user, users)` too; `users` maps
    id → active user, read once (with `extra_users`, ids the messages mention)."""
    per_user: dict[int, list] = {}
    for row in rows:
        for user_id in dict.fromkeys(recipients_of(row)):
            if user_id:
                per_user.setdefault(user_id, []).append(row)
    users = User.objects.filter(pk__in={*per_user, *extra_users}, is_active=True).in_bulk()
    messages = []
    for user_id, theirs in per_user.items():
        user = users.get(user_id)
        if user is None:
            continue
        if len(theirs) > digest_after:
            messages.append(Message([user], kind, *summary(theirs, user, users), urgent=urgent))
        else:
            messages.extend(Message([user], kind, *one(row, users), urgent=urgent) for row in theirs)
    return notify_many(messages)


_batched = threading.local()


@contextmanager
def batched_delivery():
    """Inside high-volume tasks (the router, the timers): notifications recorded here are shown in the app at
    once and sent by e-mail/SMS by the periodic delivery sweep (settings.CELERY_BEAT_SCHEDULE, every 15 s)
    in batches over one mail connection, instead of one more task per opportunity."""
    previous = getattr(_batched, "active", False)
    _batched.active = True
    try:
        yield
    finally:
        _batched.active = previous


def deliver(ids: list[int] | None = None, *, limit: int = 500) -> int:
    """Send unsent notifications (the given ids, or the oldest unsent ones) by e-mail over one connection,
    and urgent ones by SMS too. The batch is marked sent first, under a row lock that concurrent runs skip,
    so a task that runs twice sends once; a failing mail server or gateway is logged, not retried."""
    from django.conf import settings
    from django.core.mail import EmailMessage, mailers

    from kam.sms import send_sms

    with transaction.atomic():
        rows = Notification.objects.select_for_update(skip_locked=True, of=("self",)).filter(sent_at__isnull=True)
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        batch = list(rows.select_related("recipient").order_by("pk")[:limit])
        Notification.objects.filter(pk__in=[n.pk for n in batch]).update(sent_at=timezone.now())
    site = settings.SITE_URL.rstrip("/")
    mails = []
    for note in batch:
        user = note.recipient
        if user.email:
            text = f"{note.title}\n\n{note.body}".strip() + (f"\n\n{site}{note.link}" if note.link else "")
            mails.append(EmailMessage(note.title, text, None, [user.email]))
        if note.urgent and user.mobile:
            try:
                send_sms(user.mobile, note.title)
            except Exception:  # noqa: BLE001 - any gateway error
                logger.warning("SMS for notification %s not delivered", note.pk, exc_info=True)
    if mails:
        try:
            mailers.default.send_messages(mails)
        except Exception:  # noqa: BLE001 - any SMTP error
            logger.warning("%s notification e-mails not delivered", len(mails), exc_info=True)
    return len(batch)


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def unread_badge(request) -> int:
    """The navigation's badge: one indexed query (the partial index on unread rows) per request, though
    panels rendered with the request run the context processors again."""
    return request_cache.memo(("unread_notifications", request.user.pk), lambda: unread_count(request.user))
