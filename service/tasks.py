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
