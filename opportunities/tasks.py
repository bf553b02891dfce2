"""Celery tasks of the opportunities app: thin wrappers around services, safe to run twice."""

import datetime

from celery import shared_task
from django.conf import settings

from channels.notifications import batched_delivery
from opportunities import services


@shared_task(acks_late=True)
def route_opportunity(pk: int) -> str | None:
    """Place one captured opportunity by the routing rules (a no-op if it is no longer pending)."""
    with batched_delivery():
        entry = services.opportunity_route(pk)
    return entry.action if entry else None


@shared_task(acks_late=True)
def sweep_routing() -> int:
    """Re-enqueue what is still pending after KAM_ROUTING_SWEEP_AFTER seconds."""
    return services.routing_sweep(older_than=datetime.timedelta(seconds=settings.KAM_ROUTING_SWEEP_AFTER))


@shared_task(acks_late=True)
def enforce_claim_timers() -> dict[str, int]:
    with batched_delivery():
        return services.claim_timers_enforce()


@shared_task(acks_late=True)
def stale_alerts() -> int:
    with batched_delivery():
        return services.stale_alerts_send()
