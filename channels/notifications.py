"""Notifications to staff: an in-app row for each recipient, then e-mail (and SMS when urgent) sent
by a Celery task after commit, outside the transaction that caused them."""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from channels.models import Notification, User

logger = logging.getLogger("kam.notifications")


def notify(
    recipients: Iterable[User | None], *, kind: str, title: str, body: str = "", link: str = "", urgent: bool = False
) -> list[Notification]:
    """Record one notification per distinct recipient (None and inactive users are skipped) and send them
    by e-mail/SMS after the surrounding transaction commits."""
    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(Notification(recipient=user, kind=kind, title=title[:200], body=body, link=link, urgent=urgent))
    if not rows:
        return []
    Notification.objects.bulk_create(rows)
    ids = [n.pk for n in rows]  # bulk_create returns primary keys on PostgreSQL and SQLite
    from channels.tasks import deliver_notifications

    transaction.on_commit(lambda: _enqueue(deliver_notifications, ids))
    return rows


def _enqueue(task, ids):
    """A broker that is down must not fail the request that caused the notification: the rows are kept
    (unsent) and `deliver_notifications` with no ids sends whatever is still unsent."""
    try:
        task.delay(ids)
    except Exception:  # noqa: BLE001 - any broker error; the row stays unsent and the sweep sends it
        logger.warning("could not enqueue notification delivery", exc_info=True)


def deliver(ids: list[int] | None = None, *, limit: int = 500) -> int:
    """Send unsent notifications (the given ids, or the oldest unsent ones) by e-mail, and urgent ones by
    SMS too. Marks each row sent first (compare-and-set), so a task that runs twice sends once."""
    from django.conf import settings
    from django.core.mail import send_mail

    from kam.sms import send_sms

    rows = Notification.objects.filter(sent_at__isnull=True).select_related("recipient").order_by("pk")
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    sent = 0
    for note in rows[:limit]:
        if not Notification.objects.filter(pk=note.pk, sent_at__isnull=True).update(sent_at=timezone.now()):
            continue
        user = note.recipient
        text = f"{note.title}\n\n{note.body}".strip()
        if note.link:
            text += f"\n\n{settings.SITE_URL.rstrip('/')}{note.link}"
        # The row is already marked sent: a failing mail server or SMS gateway is logged, not retried, and
        # does not stop the rest of the batch.
        try:
            if user.email:
                send_mail(note.title, text, None, [user.email])
            if note.urgent and user.mobile:
                send_sms(user.mobile, note.title)
        except Exception:  # noqa: BLE001 - any SMTP/gateway error
            logger.warning("notification %s not delivered to %s", note.pk, user.pk, exc_info=True)
        sent += 1
    return sent


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
