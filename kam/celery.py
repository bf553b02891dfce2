"""Celery application. Settings come from Django settings under the CELERY_ namespace."""

import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")

app = Celery("kam")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger("kam.tasks")


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """The one way a write starts a Celery task: after the surrounding transaction commits (at once
    outside one), and never at the caller's expense.

    The database records that work is pending (a state column, a row not yet sent), and a beat sweeper
    re-enqueues what is stale (ECOSYSTEM.md §5–§6). So a broker that is down when this runs is logged
    and left to the sweeper: it must not fail the request that caused it, nor roll back its data."""
    from django.db import transaction

    def send():
        try:
            task.apply_async(args, kwargs, retry=True, retry_policy={"max_retries": 1, "interval_start": 0.2})
        except Exception:  # noqa: BLE001 - any broker error; the sweeper covers it
            logger.warning("%s not enqueued; its sweeper will pick it up", task.name, exc_info=True)

    transaction.on_commit(send, robust=True)
