"""Celery tasks of the service desk: thin wrappers around the services."""

from celery import shared_task


@shared_task(acks_late=True)
def ticket_sla_sweep() -> dict:
    """Ticket SLA (beat, every few minutes): warnings, breaches and escalations, once each."""
    from dataclasses import asdict

    from channels.notifications import batched_delivery
    from service.services import sweep

    with batched_delivery():
        return asdict(sweep.sweep())


@shared_task(acks_late=True)
def send_follow_ups() -> int:
    """Satisfaction follow-up links that are due, by SMS (beat, every ten minutes)."""
    from service.services import follow_up

    return follow_up.send_due()
