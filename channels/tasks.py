"""Celery tasks of the channels app: thin wrappers around services, safe to run twice."""

from celery import shared_task

from channels import notifications


@shared_task(acks_late=True)
def deliver_notifications(ids: list[int] | None = None) -> int:
    """Send notifications by e-mail/SMS; with no ids, whatever is still unsent (the beat sweep)."""
    return notifications.deliver(ids)


# --- exports -------------------------------------------------------------------------------------------------


@shared_task(acks_late=True, soft_time_limit=840, time_limit=900)  # 900 = exports.services.EXPORT_TIME_LIMIT
def run_export(job_id: int) -> str | None:
    """Prepare one export's file (a no-op unless the job is still queued: safe to run twice)."""
    from channels.exports.services import export_run

    job = export_run(job_id)
    return job.status if job else None


@shared_task(acks_late=True)
def sweep_exports() -> dict[str, int]:
    """Re-enqueue exports whose message was lost; take back those whose worker died."""
    from channels.exports.services import exports_sweep

    return exports_sweep()


@shared_task(acks_late=True)
def expire_exports() -> dict[str, int]:
    """Delete the files of expired exports, and old job rows."""
    from channels.exports.services import exports_expire

    return exports_expire()
