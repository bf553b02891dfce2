"""Celery tasks of the customers app: thin wrappers around services, safe to run twice."""

from celery import shared_task

from customers import services


@shared_task(acks_late=True)
def refresh_member_counts(customer_ids: list[int] | None = None) -> int:
    """Recompute the denormalised member counts from the member facts (one set-based UPDATE)."""
    return services.refresh_member_counts(customer_ids=customer_ids)


@shared_task(acks_late=True)
def refresh_name_keys() -> int:
    """Re-normalise stored customer and alias names after the naming dictionary changed."""
    return services.refresh_name_keys()
