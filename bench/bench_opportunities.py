"""Opportunity capture and routing benchmark: does routing keep up with capture through the API?

A PostgreSQL database (`kam_bench_opps`: migrate + `seed_demo`, a few thousand customers), a private
redis-server on a free port, gunicorn with 2 workers and ONE celery worker (`-c 2`) on that Redis. Several
API clients (token auth, as the call-center agent) POST /api/v1/opportunities/ at a steady total rate
until N opportunities exist; each is routed by the worker after commit. A sampler reads the pending
backlog every second.

Reported: created/s, routed/s, HTTP p50/p95 of the POST, p50/p95/max of (routed_at - created_at), and
the pending backlog over time. Budgets: p95 of (routed_at - created_at) <= 2 s, no backlog growth
(least-squares slope of the backlog over the capture phase <= 1% of the offered rate, per second), every
POST answered 201. Exit status 1 when a budget fails.

    .venv/bin/python bench/bench_opportunities.py --opportunities 10000 --rate 10 --clients 4

See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_customers import (  # noqa: E402
    PYTHON,
    RESULTS,
    free_port,
    pg_query,
    prepare,
    server_env,
    start_redis,
    start_server,
    stop,
)

P95_BUDGET_S = 2.0
SLOPE_BUDGET = 0.01  # backlog growth per second, as a share of the offered rate
CAPTURER = "agent_chen"  # the call-center agent: captures for any customer


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def slope(points: list[tuple[float, int]]) -> float:
    """Least-squares slope (items per second) of (t, backlog) points."""
    if len(points) < 3:
        return 0.0
    mean_t = statistics.fmean(t for t, _ in points)
    mean_b = statistics.fmean(b for _, b in points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (b - mean_b) for t, b in points) / var if var else 0.0


# --- processes ------------------------------------------------------------------------------------------


def start_worker(env: dict[str, str], log: str, concurrency: int) -> subprocess.Popen:
    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "kam", "worker", "-c", str(concurrency), "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-n", "bench@%h", "--loglevel", "WARNING", "--logfile", log],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    time.sleep(3)  # Django setup; the first tasks simply wait in Redis if it is slower
    if worker.poll() is not None:
        raise RuntimeError(f"celery worker exited: {Path(log).read_text()[-3000:]}")
    return worker


# --- load ---------------------------------------------------------------------------------------------------


def token(base: str, username: str, password: str) -> str:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token/", data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["token"]


def post(base: str, key: str, body: dict) -> tuple[int, float, str]:
    request = urllib.request.Request(
        f"{base}/api/v1/opportunities/", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json", "Authorization": f"Token {key}"},
    )  # fmt: skip
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            status, text = response.status, ""
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")[:300]
    except OSError as exc:
        status, text = 0, repr(exc)
    return status, (time.perf_counter() - started) * 1000, text


def run_load(base: str, key: str, customers: list[int], total: int, rate: float, clients: int) -> dict:
    """`clients` threads, each sending every clients/rate seconds on a fixed schedule (a client that falls
    behind sends at once, so the offered rate holds while the server keeps up)."""
    results: list[tuple[int, float]] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))
    started = time.monotonic()
    interval = clients / rate

    def client(n: int) -> None:
        due = started + n / rate
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            due += interval
            body = {"kind": "lead", "title": f"压测商机 {i} 专线扩容需求", "customer": customers[i % len(customers)],
                    "description": "基准测试：客户咨询专线扩容"}  # fmt: skip
            status, ms, text = post(base, key, body)
            with lock:
                results.append((status, ms))
                if status != 201 and len(errors) < 5:
                    errors.append(f"{status} {text}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies = [ms for status, ms in results if status == 201]
    return {
        "seconds": elapsed,
        "created": len(latencies),
        "failed": len(results) - len(latencies),
        "errors": errors,
        "http_p50": pct(latencies, 0.5),
        "http_p95": pct(latencies, 0.95),
    }


class Sampler(threading.Thread):
    """Every second: pending backlog and opportunities created since the start."""

    def __init__(self, url: str, first_id: int):
        super().__init__(daemon=True)
        self.url, self.first_id = url, first_id
        self.samples: list[tuple[float, int, int]] = []  # (t, pending, created)
        self.started = time.monotonic()
        self.halt = threading.Event()

    def run(self) -> None:
        import psycopg2

        connection = psycopg2.connect(self.url)
        connection.autocommit = True
        with connection.cursor() as cursor:
            while not self.halt.is_set():
                cursor.execute(
                    "SELECT count(*) FILTER (WHERE routing_status = 'pending'), count(*) "
                    "FROM opportunities_opportunity WHERE id > %s",
                    (self.first_id,),
                )
                pending, created = cursor.fetchone()
                self.samples.append((time.monotonic() - self.started, pending, created))
                self.halt.wait(1.0)
        connection.close()


# --- report ---------------------------------------------------------------------------------------------


def measure_routing(url: str, first_id: int) -> dict:
    rows = pg_query(
        url,
        "SELECT extract(epoch FROM routed_at - created_at), extract(epoch FROM created_at), "
        "extract(epoch FROM routed_at), routing_status FROM opportunities_opportunity WHERE id > %s",
        (first_id,),
    )
    delays = [float(r[0]) for r in rows if r[0] is not None]
    created = [float(r[1]) for r in rows]
    routed = [float(r[2]) for r in rows if r[2] is not None]
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row[3]] = statuses.get(row[3], 0) + 1
    placements = pg_query(
        url,
        "SELECT count(*), count(DISTINCT opportunity_id) FROM opportunities_transfer "
        "WHERE action IN ('routed', 'queued') AND opportunity_id > %s",
        (first_id,),
    )[0]
    return {
        "rows": len(rows),
        "routed": len(delays),
        "span_seconds": (max(routed) - min(created)) if routed else float("nan"),
        "delay_p50": pct(delays, 0.5),
        "delay_p95": pct(delays, 0.95),
        "delay_max": max(delays) if delays else float("nan"),
        "statuses": statuses,
        "placements": placements[0],
        "placed_opportunities": placements[1],
    }


def report(args, load: dict, routing: dict, samples: list, drain_seconds: float) -> tuple[str, bool]:
    capture_end = load["seconds"]
    during = [(t, pending) for t, pending, _created in samples if 5 <= t <= capture_end]
    growth = slope(during)
    peak = max((pending for _t, pending, _c in samples), default=0)
    routed_per_s = routing["routed"] / routing["span_seconds"] if routing["routed"] else 0.0
    checks = [
        ("every POST answered 201", load["failed"] == 0, f"{load['failed']} failed {load['errors'][:2]}"),
        ("every opportunity routed", routing["routed"] == routing["rows"] == args.opportunities,
         f"{routing['routed']}/{routing['rows']} routed"),
        ("placed exactly once", routing["placements"] == routing["placed_opportunities"] == routing["rows"],
         f"{routing['placements']} placements for {routing['placed_opportunities']} opportunities"),
        (f"p95 routed_at - created_at <= {P95_BUDGET_S:g} s", routing["delay_p95"] <= P95_BUDGET_S,
         f"{routing['delay_p95']:.2f} s"),
        (f"backlog slope <= {SLOPE_BUDGET:.0%} of the rate", growth <= SLOPE_BUDGET * args.rate,
         f"{growth:+.3f}/s (limit {SLOPE_BUDGET * args.rate:.2f}/s), peak {peak}"),
    ]  # fmt: skip
    ok = all(passed for _name, passed, _detail in checks)
    lines = [
        f"# Opportunity capture and routing benchmark ({datetime.now():%Y-%m-%d %H:%M})",
        "",
        f"{args.opportunities:,} opportunities through `POST /api/v1/opportunities/` by {args.clients} clients at "
        f"{args.rate:g}/s offered; gunicorn 2 workers; one celery worker `-c {args.concurrency}` on a private "
        f"Redis; {args.customers:,} demo customers.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| created/s (201 answers / capture phase) | {load['created'] / load['seconds']:.1f} |",
        f"| routed/s (routed / first capture → last routing) | {routed_per_s:.1f} |",
        f"| POST p50 / p95 | {load['http_p50']:.0f} ms / {load['http_p95']:.0f} ms |",
        f"| routed_at − created_at p50 / p95 / max | {routing['delay_p50']:.2f} s / {routing['delay_p95']:.2f} s / "
        f"{routing['delay_max']:.2f} s |",
        f"| pending backlog: peak / slope during capture | {peak} / {growth:+.3f} per s |",
        f"| capture phase / drain after it | {load['seconds']:.0f} s / {drain_seconds:.1f} s |",
        f"| routing outcome | {', '.join(f'{k} {v}' for k, v in sorted(routing['statuses'].items()))} |",
        "",
        "| budget | verdict | measured |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {'PASS' if passed else 'FAIL'} | {detail} |" for name, passed, detail in checks]
    every = max(1, len(samples) // 30)
    shown = "every sample" if every == 1 else f"every {every}th sample"
    lines += ["", f"Pending backlog, sampled every second ({shown} shown):", "",
              "| t (s) | created | pending |", "|---|---|---|"]  # fmt: skip
    lines += [f"| {t:.0f} | {created} | {pending} |" for t, pending, created in samples[::every]]
    lines += ["", f"**{'PASS' if ok else 'FAIL'}**"]
    return "\n".join(lines), ok


# --- main ---------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=10_000, help="opportunities to create (default 10000)")
    parser.add_argument("--rate", type=float, default=10.0, help="offered creations per second, all clients (10)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent API clients (default 4)")
    parser.add_argument("--concurrency", type=int, default=2, help="celery worker pool size (default 2)")
    parser.add_argument("--customers", type=int, default=3000, help="demo customers to seed (default 3000)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432"),
                        help="server to create kam_bench_opps on")  # fmt: skip
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded kam_bench_opps database")
    args = parser.parse_args()

    password = os.environ.get("DEMO_PASSWORD", "kam-demo-2026")
    url = f"{args.database_url.rstrip('/')}/kam_bench_opps"
    server = worker = redis_server = None
    with tempfile.TemporaryDirectory(prefix="kam-bench-opps-") as var_dir:
        os.makedirs(os.path.join(var_dir, "staticfiles"))
        env = server_env(url, var_dir)
        prepare(args.customers, url, env, args.reuse, contacts_per_customer=2)
        # Earlier runs' opportunities would only slow the counts down: start from none.
        pg_query(url, "TRUNCATE opportunities_opportunity, channels_notification RESTART IDENTITY CASCADE")
        customers = [row[0] for row in pg_query(
            url, "SELECT id FROM customers_customer WHERE is_demo AND status <> 'merged' ORDER BY id")]  # fmt: skip
        try:
            redis_server, port = start_redis(var_dir)
            env.update(REDIS_URL=f"redis://127.0.0.1:{port}/0", CELERY_TASK_ALWAYS_EAGER="0")
            worker = start_worker(env, os.path.join(var_dir, "worker.log"), args.concurrency)
            http_port = free_port()
            server = start_server(env, http_port)
            base = f"http://127.0.0.1:{http_port}"
            key = token(base, CAPTURER, password)
            status, _ms, text = post(base, key, {"kind": "lead", "title": "预热", "customer": customers[0]})
            if status != 201:
                raise SystemExit(f"POST /api/v1/opportunities/ answered {status}: {text}")
            time.sleep(2)
            first_id = pg_query(url, "SELECT coalesce(max(id), 0) FROM opportunities_opportunity")[0][0]
            sampler = Sampler(url, first_id)
            sampler.start()
            print(f"creating {args.opportunities:,} opportunities at {args.rate:g}/s with {args.clients} clients")
            load = run_load(base, key, customers, args.opportunities, args.rate, args.clients)
            drain_started = time.monotonic()
            deadline = drain_started + 300
            while time.monotonic() < deadline:
                left = pg_query(url, "SELECT count(*) FROM opportunities_opportunity WHERE id > %s AND "
                                "routing_status = 'pending'", (first_id,))[0][0]  # fmt: skip
                if left == 0:
                    break
                time.sleep(0.5)
            drain_seconds = time.monotonic() - drain_started
            time.sleep(1.5)
            sampler.halt.set()
            sampler.join(timeout=10)
        finally:
            stop(server)
            stop(worker)
            stop(redis_server)
        routing = measure_routing(url, first_id)
    text, ok = report(args, load, routing, sampler.samples, drain_seconds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"opportunities-{stamp}.md").write_text(text, encoding="utf-8")
    raw = {"args": vars(args), "load": load, "routing": routing, "samples": sampler.samples}
    (RESULTS / f"opportunities-{stamp}.json").write_text(json.dumps(raw, ensure_ascii=False, indent=1), "utf-8")
    print(text)
    print(f"\nwritten to {RESULTS}/opportunities-{stamp}.md")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
