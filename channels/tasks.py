"""Celery tasks of the channels app: thin wrappers around services, safe to run twice."""

from celery import shared_task

from channels import notifications


@shared_task(acks_late=True)
def deliver_notifications(ids: list[int] | None = None) -> int:
    """Send notifications by e-mail/SMS; with no ids, whatever is still unsent (the beat sweep)."""
    return notifications.deliver(ids)
