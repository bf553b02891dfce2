"""Real processes for the reliability tests: a private redis-server on a free port, Celery workers
pointed at it and at the pytest test database, and the test process's own Celery producer redirected to
that Redis. Every process is started here and killed by PID in a finaliser; the machine's Redis on 6379
is never touched."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class RedisServer:
    """`redis-server` without persistence (the worst case: whatever is queued is lost on a restart)."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.directory), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        """kill -9, as a crash would."""
        if self.process is not None:
            kill(self.process.pid)
            self.process.wait(timeout=10)
            self.process = None

    def queued(self) -> int:
        import redis

        return redis.Redis.from_url(self.url).llen("celery")


def database_url() -> str:
    """The pytest test database, as a URL for processes started by the test."""
    from django.db import connection

    s = connection.settings_dict
    auth = urllib.parse.quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + urllib.parse.quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """`celery -A kam worker -c 2` on the private Redis and the test database."""

    def __init__(self, log: Path, env: dict[str, str], concurrency: int = 2, app: str = "kam"):
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", app, "worker", "-c", str(concurrency), "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-n", f"{log.stem}@%h", "--loglevel", "INFO",
             "--logfile", str(log)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.pid = self.process.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.text() and len(self.pool()) > 0:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"celery worker did not start:\n{self.text()[-3000:]}")

    def pool(self) -> list[int]:
        return children(self.pid)

    def kill(self) -> None:
        """SIGKILL the main process and its pool children (a machine crash or OOM kill)."""
        pool = self.pool()
        kill(self.pid)
        for pid in pool:
            kill(pid)
        self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def broker(redis_server, settings):
    """Point this process's Celery producer at the private Redis (capture and the sweep enqueue here)."""
    from kombu import pools as kombu_pools

    from kam.celery import app

    saved = app.conf.broker_url, app.conf.broker_transport_options

    def reset_pools():
        # kombu keeps its pools in a process-wide registry keyed by connection: close and forget them all, so
        # the next producer (this test's, or a later test's on the original broker) opens a fresh one.
        kombu_pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    reset_pools()
    app.conf.broker_url = redis_server.url
    app.conf.broker_transport_options = {"visibility_timeout": 1800}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    yield redis_server
    reset_pools()
    app.conf.broker_url, app.conf.broker_transport_options = saved


@pytest.fixture
def start_worker(broker, tmp_path):
    """start_worker(route_delay=seconds, **env) → a running Worker (with a slow router when route_delay is
    given: tests/opportunities/slow_worker.py); every worker is SIGKILLed by PID at the end."""
    started: list[Worker] = []

    def start(route_delay: float | None = None, **extra: str) -> Worker:
        env = {k: v for k, v in os.environ.items()}
        env.update(
            DATABASE_URL=database_url(),
            REDIS_URL=broker.url,
            CELERY_TASK_ALWAYS_EAGER="0",
            KAM_ROUTING_SWEEP_AFTER="3",
            **extra,
        )
        app = "kam"
        if route_delay is not None:
            env["KAM_TEST_ROUTE_DELAY"], app = str(route_delay), "tests.opportunities.slow_worker"
        worker = Worker(tmp_path / f"worker{len(started) + 1}.log", env, app=app)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()
