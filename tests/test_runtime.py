"""Runtime: settings from the environment, deploy checks, Celery reliability and a real worker."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from kam.celery import app

ROOT = Path(__file__).resolve().parent.parent


def _run(args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_refuses_to_start_with_debug_off_and_no_secret_key():
    result = _run(["manage.py", "check"], DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_bare_manage_py_in_an_unconfigured_checkout_runs_in_development_mode():
    """A developer's `manage.py check` / `makemigrations --check` needs no variables; the server does."""
    result = _run(["manage.py", "makemigrations", "--check", "--dry-run"])
    assert result.returncode == 0, result.stdout + result.stderr
    server = _run(["-c", "import kam.wsgi"], DJANGO_SETTINGS_MODULE="kam.settings")
    assert "DJANGO_SECRET_KEY must be set" in server.stderr


def test_deploy_check_is_clean_with_production_variables():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SECRET_KEY="a-long-random-production-secret-key-" + "x9Q2" * 10,
        DJANGO_ALLOWED_HOSTS="kam.example.internal",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_celery_is_configured_to_survive_lost_workers():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] == conf.visibility_timeout == 1800
    assert conf.result_backend_transport_options["visibility_timeout"] == 1800
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit


def test_broker_is_redis_when_redis_url_is_set_else_embedded():
    expected = "redis://" if settings.REDIS_URL else "filesystem://"
    assert app.conf.broker_url.startswith(expected)


@pytest.mark.django_db  # Celery's Django fixup runs system checks when it imports task modules
def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    assert settings.CELERY_BEAT_SCHEDULE
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_worker_process_runs_a_task_enqueued_after_commit(tmp_path):
    """A real `celery worker` process (Redis broker, or the embedded filesystem broker) picks up a
    task that was enqueued only once the transaction committed."""
    from customers.models import Customer, GroupMember
    from customers.tasks import refresh_member_counts
    from kam.celery import enqueue_on_commit

    customer = Customer.objects.create(name="嘉兴测试有限公司")
    env = {k: v for k, v in os.environ.items()}
    env.update(DATABASE_URL=_database_url(), CELERY_TASK_ALWAYS_EAGER="0")
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "kam",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--logfile",
            str(log),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        with transaction.atomic():
            GroupMember.objects.create(customer=customer, msisdn="13900000009", joined_on="2025-01-01")
            enqueue_on_commit(refresh_member_counts, [customer.pk])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Customer.objects.get(pk=customer.pk).members_count == 1:
                break
            time.sleep(0.5)
        assert Customer.objects.get(pk=customer.pk).members_count == 1, log.read_text() if log.exists() else ""
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@pytest.mark.django_db
def test_task_is_not_enqueued_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    from customers.tasks import refresh_member_counts
    from kam.celery import enqueue_on_commit

    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                enqueue_on_commit(refresh_member_counts, [1])
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert callbacks == []


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_database_has_a_utf8_ctype_so_chinese_trigrams_work():
    with connection.cursor() as cursor:
        cursor.execute("SELECT datctype FROM pg_database WHERE datname = current_database()")
        assert "UTF-8" in cursor.fetchone()[0].upper().replace("UTF8", "UTF-8")
        cursor.execute("SELECT show_trgm('中国移动')")
        assert cursor.fetchone()[0]


@pytest.mark.django_db
def test_models_and_migrations_agree():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize(
    "broker, cache",
    [
        ("redis://127.0.0.1:6380/0", "redis://127.0.0.1:6380/1"),  # rstrip("/0") made this redis://…:638/1
        ("redis://cache.internal:6379", "redis://cache.internal:6379/1"),
        ("rediss://:secret@redis.internal:6390/0?ssl_cert_reqs=required",
         "rediss://:secret@redis.internal:6390/1?ssl_cert_reqs=required"),
    ],
)  # fmt: skip
def test_the_cache_uses_database_1_of_the_brokers_redis_server(broker, cache):
    from kam.settings import redis_db_url

    assert redis_db_url(broker, 1) == cache


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="the embedded broker is the zero-setup default only")
def test_a_burst_on_the_embedded_broker_drains_in_seconds(tmp_path):
    """The filesystem broker of the zero-setup install: 100 messages queued at once are all taken by one worker
    of two processes within a few seconds (kombu's default 1 s polling made that about 2 messages a second)."""
    env = {**os.environ, "KAM_VAR_DIR": str(tmp_path), "CELERY_TASK_ALWAYS_EAGER": "0"}
    env.pop("DATABASE_URL", None)
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "kam", "worker", "-c", "2", "--without-heartbeat", "--without-mingle",
         "--without-gossip", "--loglevel", "INFO", "--logfile", str(log)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while " ready." not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
            time.sleep(0.2)
        send = "from kam.celery import app\nfor _ in range(100): app.send_task('celery.backend_cleanup')"
        subprocess.run([sys.executable, "-c", f"import django; django.setup()\n{send}"], cwd=ROOT, env=env, check=True)
        queue = tmp_path / "broker" / "queue"
        started = time.monotonic()
        while any(queue.iterdir()) and time.monotonic() - started < 30:
            time.sleep(0.1)
        assert not any(queue.iterdir()), f"{len(list(queue.iterdir()))} messages still queued after 30 s"
        assert time.monotonic() - started < 10
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@pytest.mark.django_db
def test_an_expected_denial_is_one_log_line_and_a_server_error_keeps_its_traceback(client, analyst):
    import io
    import logging

    handler = logging.getHandlerByName("console")
    out = io.StringIO()
    previous = handler.setStream(out)
    try:
        client.force_login(analyst)
        status = client.get("/opportunities/dispatch/").status_code
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("django.request").error("Internal Server Error: /x", exc_info=True,
                                                      extra={"status_code": 500})  # fmt: skip
    finally:
        handler.setStream(previous)
    lines = out.getvalue().splitlines()
    cut = next(i for i, line in enumerate(lines) if "Internal Server Error" in line)
    denial, error = lines[:cut], "\n".join(lines[cut:])

    [forbidden] = [line for line in denial if "django.request" in line]
    assert status == 403 and forbidden.endswith("Forbidden (Permission denied): /opportunities/dispatch/")
    assert not any("Traceback" in line for line in denial)
    assert "Traceback" in error and "RuntimeError: boom" in error


def test_kombus_no_hostname_warning_is_not_logged():
    import logging

    handler = logging.getHandlerByName("console")
    noise = logging.LogRecord("kombu.connection", logging.WARNING, __file__, 1, "No hostname was supplied. "
                              "Reverting to default 'localhost'", None, None)  # fmt: skip
    other = logging.LogRecord("kombu.connection", logging.WARNING, __file__, 1, "connection lost", None, None)
    assert not handler.filter(noise) and handler.filter(other)
