"""Export services: answer a small export in the request, start a background job for a large one, run it into
a private file, and keep the jobs honest (ECOSYSTEM.md §5.4: the database, not the broker, records pending work).

- `fits_in_request` counts at most KAM_EXPORT_IMMEDIATE_MAX_ROWS + 1 rows (`COUNT(*) FROM (… LIMIT n+1)`), so
  deciding costs the same whatever the table's size.
- `export_start` records a queued job and enqueues it after commit; the same export already queued or running
  for the same person is returned instead of a second one, and a person has at most KAM_EXPORT_ACTIVE_PER_USER
  jobs on the way.
- `export_run` claims a queued job with a compare-and-set (a redelivered message does nothing), writes the file
  under a temporary name and renames it when complete, then marks the job ready and notifies its requester with
  the download link — or marks it failed with a message and notifies them of that.
- `exports_sweep` (beat) re-enqueues jobs queued too long (a lost message) and takes back jobs whose worker died
  mid-run (queued again, or failed after MAX_ATTEMPTS).
- `exports_expire` (beat) deletes the files of jobs past `expires_at` and marks them expired, in batches, and
  deletes job rows older than KAM_EXPORT_KEEP_DAYS with one DELETE.
- `export_file` is the download's check: the requester only (the queryset), still active, still allowed to
  export what the kind says; an expired or vanished file is ExportExpired (a clear message, not a 500)."""

import json
import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from channels.exports import ExportRefused, ExportSource, export_kind, writers
from channels.models import ExportJob, User
from channels.notifications import notify
from kam.celery import enqueue_on_commit
from kam.db import LONG_TEXT

logger = logging.getLogger("kam.exports")

# The task's hard time limit (channels.tasks.run_export), under the broker's 1800 s visibility timeout so a
# redelivery never overlaps a running export. A job still "running" well after it was started lost its worker.
EXPORT_TIME_LIMIT = 900
RUNNING_STALE_AFTER = timedelta(seconds=EXPORT_TIME_LIMIT + 60)
MAX_ATTEMPTS = 2
SWEEP_BATCH = 100
EXPIRE_BATCH = 500
ACTIVE = (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)
FAILED_MESSAGE = _("The export failed. Please try again; if it fails again, tell your administrator.")
REFUSED_MESSAGE = _("You may no longer export this list.")


class ExportExpired(Exception):
    """The file is gone (expired or removed): the download answers a clear message."""


class ExportNotReady(Exception):
    """The job is still queued or running, or it failed: there is no file to download."""


def export_dir() -> Path:
    """The private folder of export files (under VAR_DIR, never served by the web server or whitenoise)."""
    folder = Path(settings.KAM_EXPORT_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def job_path(job: ExportJob) -> Path:
    return export_dir() / f"{job.pk}.{job.format}"


def _part_path(job: ExportJob) -> Path:
    return export_dir() / f"{job.pk}.{job.format}.part"


def download_url(job: ExportJob) -> str:
    return reverse("channels:export-download", args=[job.pk])


# --- asking for an export ---------------------------------------------------------------------------------


def prepare(*, user: User, kind: str, parameters: dict) -> ExportSource:
    """The kind's source for this user: ExportRefused if they may not export it (or nobody registered the kind),
    ValidationError if the parameters do not apply."""
    if not getattr(user, "is_active", False):
        raise ExportRefused(kind)
    return export_kind(kind).source(user, parameters)


def fits_in_request(source: ExportSource) -> bool:
    """At most KAM_EXPORT_IMMEDIATE_MAX_ROWS rows? Counted with a LIMIT (no sort), so the answer costs at most
    that many rows whatever the list's size."""
    limit = settings.KAM_EXPORT_IMMEDIATE_MAX_ROWS
    return source.rows.order_by().values("pk")[: limit + 1].count() <= limit


def _checked_parameters(parameters: dict) -> dict:
    text = json.dumps(parameters, ensure_ascii=False, sort_keys=True)
    if len(text) > LONG_TEXT:
        raise ValidationError(_("This export has too many filters; remove some and try again."), code="too_long")
    return json.loads(text)


@transaction.atomic
def export_start(*, user: User, kind: str, parameters: dict, fmt: str, source: ExportSource) -> ExportJob:
    """Record a queued export job and enqueue it after commit. The same export already on its way for the same
    person is returned as it is; beyond KAM_EXPORT_ACTIVE_PER_USER jobs on their way, ValidationError."""
    if fmt not in ExportJob.Format.values:
        raise ValidationError({"format": [_("Choose xlsx or csv.")]})
    parameters = _checked_parameters(parameters)
    User.objects.select_for_update().filter(pk=user.pk).first()  # one start at a time per person: the cap holds
    mine = list(ExportJob.objects.filter(user=user, status__in=ACTIVE))
    same = next((job for job in mine if job.kind == kind and job.format == fmt and job.parameters == parameters), None)
    if same is not None:
        return same
    limit = settings.KAM_EXPORT_ACTIVE_PER_USER
    if len(mine) >= limit:
        raise ValidationError(
            _("You already have %(n)d exports being prepared; wait until one of them is ready.") % {"n": limit},
            code="too_many",
        )
    job = ExportJob.objects.create(
        user=user, kind=kind, title=str(source.title)[:200], parameters=parameters, format=fmt,
        file_name=f"{source.file_stem}.{fmt}"[:200], queued_at=timezone.now(), language=(get_language() or "")[:10],
    )  # fmt: skip
    from channels.tasks import run_export

    enqueue_on_commit(run_export, job.pk)
    return job


# --- running a job ----------------------------------------------------------------------------------------


def export_run(job_id: int) -> ExportJob | None:
    """Prepare the file of a queued job, in its requester's language. None if the job is not queued (already
    taken: a redelivered message)."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        return _run(job)


def _run(job: ExportJob) -> ExportJob:
    part = _part_path(job)
    try:
        source = prepare(user=job.user, kind=job.kind, parameters=job.parameters)
        with part.open("wb") as stream:
            count = writers.write(source, stream, fmt=job.format)
        part.replace(job_path(job))
    except ExportRefused:
        return _fail(job, str(REFUSED_MESSAGE), part)
    except ValidationError as exc:
        return _fail(job, " ".join(exc.messages), part)
    except Exception:  # noqa: BLE001 - any crash (a soft time limit too) fails the job and tells its requester
        logger.exception("Export job %s failed", job.pk)
        return _fail(job, str(FAILED_MESSAGE), part)
    return _finish(job, count)


def _finish(job: ExportJob, count: int) -> ExportJob:
    now = timezone.now()
    expires = now + timedelta(hours=settings.KAM_EXPORT_TTL_HOURS)
    with transaction.atomic():
        done = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING, attempts=job.attempts).update(
            status=ExportJob.Status.DONE, row_count=count, finished_at=now, expires_at=expires, error=""
        )
        if done:
            job.status, job.row_count, job.finished_at, job.expires_at = ExportJob.Status.DONE, count, now, expires
            notify(
                [job.user], kind="export_ready", link=download_url(job),
                title=gettext("Your export is ready: %(title)s") % {"title": job.title},
                body=gettext("%(rows)s rows. Download it before %(expires)s; the file is deleted then.") % {
                    "rows": f"{count:,}", "expires": date_format(timezone.localtime(expires), "Y-m-d H:i"),
                },
            )  # fmt: skip
    if not done:  # the sweeper took the job back meanwhile (it ran far too long): its file is not offered
        job_path(job).unlink(missing_ok=True)
    return job


def _fail(job: ExportJob, message: str, part: Path | None = None) -> ExportJob:
    if part is not None:
        part.unlink(missing_ok=True)
    now = timezone.now()
    with transaction.atomic():
        failed = ExportJob.objects.filter(pk=job.pk, status__in=ACTIVE).update(
            status=ExportJob.Status.FAILED, finished_at=now, error=message[:300]
        )
        if failed:
            job.status, job.finished_at, job.error = ExportJob.Status.FAILED, now, message[:300]
            notify(
                [job.user], kind="export_failed", link=reverse("channels:exports"),
                title=gettext("Your export failed: %(title)s") % {"title": job.title}, body=message,
            )  # fmt: skip
    return job


# --- beat: lost jobs, expired files ---------------------------------------------------------------------------


def exports_sweep(*, now=None) -> dict[str, int]:
    """Re-enqueue jobs queued for longer than KAM_EXPORT_SWEEP_AFTER seconds (the broker lost the message, or
    it was never sent), and take back jobs running far beyond the task's time limit (their worker died): queued
    again, or failed and their requester told after MAX_ATTEMPTS runs. Bounded batches."""
    from channels.tasks import run_export

    now = now or timezone.now()
    stuck = ExportJob.objects.filter(status=ExportJob.Status.RUNNING, started_at__lt=now - RUNNING_STALE_AFTER)
    given_up = list(stuck.filter(attempts__gte=MAX_ATTEMPTS).select_related("user")[:SWEEP_BATCH])
    for job in given_up:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            _fail(job, str(FAILED_MESSAGE))
    retried = stuck.filter(attempts__lt=MAX_ATTEMPTS).update(status=ExportJob.Status.QUEUED, queued_at=None)
    stale = ExportJob.objects.filter(status=ExportJob.Status.QUEUED).exclude(
        queued_at__gte=now - timedelta(seconds=settings.KAM_EXPORT_SWEEP_AFTER)
    )
    ids = list(stale.order_by("created_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    ExportJob.objects.filter(pk__in=ids).update(queued_at=now)  # the next sweep waits for them again
    for pk in ids:
        enqueue_on_commit(run_export, pk)
    if ids or given_up:
        logger.info("Export sweep: %s re-enqueued, %s taken back, %s failed", len(ids), retried, len(given_up))
    return {"enqueued": len(ids), "retried": retried, "failed": len(given_up)}


def exports_expire(*, now=None) -> dict[str, int]:
    """Delete the files of ready jobs past `expires_at` and mark the jobs expired (500 at a time: one SELECT
    and one UPDATE per batch, one unlink per file), then delete job rows older than KAM_EXPORT_KEEP_DAYS that
    hold no file (one DELETE)."""
    now = now or timezone.now()
    expired = 0
    while True:
        batch = list(
            ExportJob.objects.filter(status=ExportJob.Status.DONE, expires_at__lte=now)
            .order_by("expires_at")
            .values_list("pk", "format")[:EXPIRE_BATCH]
        )
        if not batch:
            break
        folder = export_dir()
        for pk, fmt in batch:
            (folder / f"{pk}.{fmt}").unlink(missing_ok=True)
        expired += ExportJob.objects.filter(pk__in=[pk for pk, _fmt in batch], status=ExportJob.Status.DONE).update(
            status=ExportJob.Status.EXPIRED
        )
        if len(batch) < EXPIRE_BATCH:
            break
    old = now - timedelta(days=settings.KAM_EXPORT_KEEP_DAYS)
    deleted, _by_model = ExportJob.objects.filter(
        created_at__lt=old, status__in=(ExportJob.Status.EXPIRED, ExportJob.Status.FAILED)
    ).delete()
    return {"expired": expired, "deleted": deleted}


# --- download ---------------------------------------------------------------------------------------------


def is_expired(job: ExportJob, *, now=None) -> bool:
    now = now or timezone.now()
    return job.status == ExportJob.Status.EXPIRED or (
        job.status == ExportJob.Status.DONE and job.expires_at is not None and job.expires_at <= now
    )


def export_file(job: ExportJob, *, user: User) -> Path:
    """The file to send to `user`, who reads `job` through ExportJob.objects.visible_to (their own jobs only).
    ExportRefused if they may no longer export what it holds, ExportExpired when the file is gone,
    ExportNotReady while it is being prepared (or when it failed)."""
    if job.user_id != user.pk or not user.is_active:
        raise ExportRefused(job.kind)
    kind = export_kind(job.kind)
    if not kind.allowed(user, job.parameters):
        raise ExportRefused(job.kind)
    if is_expired(job):
        raise ExportExpired(job.pk)
    if job.status != ExportJob.Status.DONE:
        raise ExportNotReady(job.pk)
    path = job_path(job)
    if not path.exists():
        raise ExportExpired(job.pk)
    return path


def recent_exports(*, user: User, limit: int = 20) -> list[ExportJob]:
    """The user's newest exports ("My exports")."""
    return list(ExportJob.objects.visible_to(user).order_by("-pk")[:limit])
