"""channels.exports, the machinery under every large export: a job runs once however often its message comes,
a crash fails it and tells its requester, the sweeper recovers lost messages and dead workers, files expire
(a clear message, not a 500), and nobody has more than a few exports on their way. A small "staff" kind stands
in for the apps' kinds (customers' are tested in tests/customers/test_exports.py)."""

import datetime
import logging

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from channels import exports
from channels.exports import ExportKind, ExportSource
from channels.exports import services as jobs
from channels.models import ExportJob, Notification, User
from tests.channels.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 15, 2, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.KAM_EXPORT_DIR = tmp_path / "exports"
    return settings.KAM_EXPORT_DIR


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def staff_source(user, parameters) -> ExportSource:
    def cells(person):
        if parameters.get("crash"):
            raise RuntimeError("a bug in the kind")
        return [person.username]

    return ExportSource(
        header=["Username"], rows=User.objects.order_by("pk"), cells=cells, title="Staff", file_stem="staff"
    )


@pytest.fixture(autouse=True)
def staff_kind(monkeypatch):
    kind = ExportKind("staff", "Staff", staff_source, lambda user, parameters: not parameters.get("revoked"))
    monkeypatch.setitem(exports._kinds, "staff", kind)


def start(user, parameters=None, fmt="csv") -> ExportJob:
    parameters = parameters or {}
    source = jobs.prepare(user=user, kind="staff", parameters=parameters)
    return jobs.export_start(user=user, kind="staff", parameters=parameters, fmt=fmt, source=source)


def test_a_job_runs_once_with_queries_that_do_not_grow_with_the_rows(
    am, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    UserFactory.create_batch(30)
    with django_capture_on_commit_callbacks(execute=False):
        job = start(am)

    # claim, read the job, the rows (one cursor), finish, notification insert and its delivery
    with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(8):
        assert jobs.export_run(job.pk).status == "done"
    assert jobs.export_run(job.pk) is None  # a redelivered message: already taken

    job.refresh_from_db()
    text = jobs.job_path(job).read_text(encoding="utf-8-sig")
    assert job.row_count == User.objects.count() == len(text.splitlines()) - 1 == 32  # am, their supervisor, 30
    assert not list(jobs.export_dir().glob("*.part"))


def test_a_crashing_export_fails_with_a_message_and_tells_its_requester(am, caplog):
    job = start(am, {"crash": True})

    with caplog.at_level(logging.ERROR, logger="kam.exports"):
        jobs.export_run(job.pk)

    job.refresh_from_db()
    assert job.status == "failed" and job.error.startswith("The export failed.")
    assert "a bug in the kind" in caplog.text
    note = Notification.objects.get(recipient=am)
    assert note.kind == "export_failed" and note.body == job.error
    assert not list(jobs.export_dir().iterdir())  # no half-written file left


def test_the_sweeper_sends_a_lost_message_again(am, frozen, eager_celery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the broker never got it
        job = start(am)

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.exports_sweep()["enqueued"] == 0  # not stale yet: the worker may just be busy
    frozen.shift(datetime.timedelta(minutes=3))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.exports_sweep()["enqueued"] == 1

    job.refresh_from_db()
    assert job.status == "done"


def test_a_job_whose_worker_died_is_taken_back_then_failed_after_its_attempts(am, frozen):
    job = start(am)
    ExportJob.objects.filter(pk=job.pk).update(status="running", started_at=NOW, attempts=1)
    frozen.shift(jobs.RUNNING_STALE_AFTER + datetime.timedelta(seconds=1))

    assert jobs.exports_sweep() == {"enqueued": 1, "retried": 1, "failed": 0}
    job.refresh_from_db()
    assert job.status == "queued"

    ExportJob.objects.filter(pk=job.pk).update(status="running", attempts=jobs.MAX_ATTEMPTS)
    frozen.shift(jobs.RUNNING_STALE_AFTER + datetime.timedelta(seconds=1))
    assert jobs.exports_sweep()["failed"] == 1
    job.refresh_from_db()
    assert job.status == "failed" and Notification.objects.filter(recipient=am, kind="export_failed").exists()


def test_an_expired_file_is_deleted_and_its_link_says_so(client, am, frozen, settings):
    settings.KAM_EXPORT_TTL_HOURS = 1  # within the session's lifetime
    job = jobs.export_run(start(am).pk)
    link = reverse("channels:export-download", args=[job.pk])
    client.force_login(am)
    assert client.get(link).status_code == 200

    frozen.shift(datetime.timedelta(hours=settings.KAM_EXPORT_TTL_HOURS, seconds=1))
    gone = client.get(link)  # before the sweep has run: already refused
    assert gone.status_code == 410 and "has expired" in gone.content.decode()
    assert jobs.exports_expire() == {"expired": 1, "deleted": 0}
    assert not jobs.job_path(job).exists()
    api = APIClient()
    api.force_login(am)
    assert api.get(f"/api/v1/exports/{job.pk}/download/").status_code == 410
    assert api.get(f"/api/v1/exports/{job.pk}/").json()["status"] == "expired"

    frozen.shift(datetime.timedelta(days=settings.KAM_EXPORT_KEEP_DAYS))
    assert jobs.exports_expire() == {"expired": 0, "deleted": 1}


def test_the_download_asks_the_kind_again(client, am):
    job = jobs.export_run(start(am, {"revoked": False}).pk)
    ExportJob.objects.filter(pk=job.pk).update(parameters={"revoked": True})  # the kind now says no
    client.force_login(am)

    assert client.get(reverse("channels:export-download", args=[job.pk])).status_code == 404


def test_a_deactivated_requester_downloads_nothing(client, am):
    job = jobs.export_run(start(am).pk)
    client.force_login(am)
    User.objects.filter(pk=am.pk).update(is_active=False)

    assert client.get(reverse("channels:export-download", args=[job.pk])).status_code in (302, 404)


def test_a_person_has_at_most_a_few_exports_on_their_way(am, settings):
    for n in range(settings.KAM_EXPORT_ACTIVE_PER_USER):
        start(am, {"n": n})

    with pytest.raises(ValidationError, match="being prepared"):
        start(am, {"n": 99})
    assert start(am, {"n": 0}).parameters == {"n": 0}  # the same export again: the job on its way


def test_my_exports_page_lists_my_jobs_only(client, am, outsider, django_assert_max_num_queries):
    mine = jobs.export_run(start(am).pk)
    start(outsider)
    client.force_login(am)

    with django_assert_max_num_queries(6):  # session, user, badge, the jobs
        page = client.get(reverse("channels:exports")).content.decode()

    assert reverse("channels:export-download", args=[mine.pk]) in page
    assert page.count("<tr>") == 1 + 1
