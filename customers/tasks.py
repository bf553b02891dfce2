"""Celery tasks of the customers app: thin wrappers around services, safe to run twice."""

from celery import shared_task

from customers import services


@shared_task(acks_late=True)
def refresh_member_counts(customer_ids: list[int] | None = None) -> int:
    """Recompute the denormalised member counts from the member facts (one set-based UPDATE)."""
    return services.member_counts_refresh(customer_ids=customer_ids)


@shared_task(acks_late=True)
def record_member_months(month: str | None = None) -> int:
    """Write the month's member counts (default: the current month) of every customer (one INSERT ... SELECT with
    upsert): the 360 chart's row for a new month, re-derived daily from the member rows."""
    import datetime

    return services.member_months_record(month=datetime.date.fromisoformat(month) if month else None)


@shared_task(acks_late=True)
def refresh_name_keys() -> int:
    """Re-normalise stored customer and alias names after the naming dictionary changed."""
    return services.name_keys_refresh()


@shared_task(acks_late=True)
def snapshot_segments(month: str | None = None) -> dict[str, int]:
    """Record every shared segment's membership for a month (default: the month that just ended), for the
    movement report. Re-running replaces that month's rows."""
    import datetime

    from customers.segments.services import segment_snapshot_all

    return segment_snapshot_all(month=datetime.date.fromisoformat(month) if month else None)


# Time limits under the broker's 1800 s visibility timeout, so a redelivery never overlaps a running evaluation.
@shared_task(acks_late=True, soft_time_limit=840, time_limit=900)
def evaluate_tiers_task(kind: str | None = None, evaluation_id: int | None = None) -> int | None:
    """Evaluate tiers and value. The monthly beat run passes no kind: the tier policy's publication schedule
    decides whether it publishes. A run started from a page or the API passes its pending evaluation's id;
    a redelivered message for an evaluation that has finished does nothing (safe to run twice)."""
    from customers.models import TierEvaluation
    from customers.tiering import engine

    if evaluation_id is not None:
        evaluation = TierEvaluation.objects.filter(pk=evaluation_id, finished_at__isnull=True).first()
        if evaluation is None:
            return None
        return engine.evaluate_tiers(kind=evaluation.kind, evaluation=evaluation).pk
    return engine.evaluate_tiers(kind=kind or engine.scheduled_kind()).pk
