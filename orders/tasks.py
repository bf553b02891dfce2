"""Celery tasks of the orders app: thin, idempotent wrappers around the services."""

from celery import shared_task


@shared_task(acks_late=True)
def start_provisioning(order_id: int) -> None:
    """Provision a submitted order (idempotent: an order already started is left alone)."""
    from orders.services import provisioning

    provisioning.start_order_by_id(order_id)


@shared_task(acks_late=True)
def agreement_sweep() -> dict:
    """Daily: expire, renew automatically, remind 90/60/30 days ahead, ask for renewal opportunities."""
    from orders.services import agreements

    return agreements.agreement_sweep()


@shared_task(acks_late=True)
def provisioning_sweep() -> dict:
    """Work-order SLA (beat, every few minutes): warnings, escalations and customer delay notices, once each."""
    from dataclasses import asdict

    from channels.notifications import batched_delivery
    from orders.services import provisioning

    with batched_delivery():
        return asdict(provisioning.sweep())
