"""Orders benchmark: do the provisioning desks, the 360 panels and the orders API stay flat from 10 % to 100 % of
the orders volume (200,000 orders, 1,000,000 subscriptions, ~500,000 work-order steps, 100,000 open steps), and
does the SLA sweep over 100,000 open steps finish in 10 s with a constant statement count?

Two databases, `kam_bench_orders_10` and `kam_bench_orders_100`, copies of the seeded customer database
`kam_bench_100000` (never modified; seeded by bench_customers.prepare when missing), migrated, seeded by
`seed_orders` at 10 % and 100 % of the volume, given open steps by one set-based UPDATE (10,000 and 100,000
open, a fifth of them overdue) and VACUUM ANALYZEd; `--reuse` keeps seeded ones. Both are served side by side
and measured interleaved with the customer benchmark's floor (bench_customers.measure), query counts and plans
in-process (bench_customers.count_queries), judged as there: p95 <= 5x the floor, growth 10 % -> 100 % <= 1.3x,
query counts equal; Seq Scans on the big orders tables flagged. Then `orders.services.provisioning.sweep()` runs
in-process at both volumes inside a transaction that is rolled back (every run sees the same state): its time
(<= 10 s) and statement count (equal at both volumes).

    .venv/bin/python bench/bench_orders.py --reuse

See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_customers as bc  # noqa: E402
from bench_customers import FLOOR, Endpoint  # noqa: E402

ROOT = bc.ROOT
PYTHON = bc.PYTHON
SOURCE = "kam_bench_100000"  # the seeded customer database every volume is copied from (never written to)
SOURCE_CUSTOMERS = 100_000
# Full volume (100 %): the figures. A volume is a percentage of it.
FULL = {"subscriptions": 1_000_000, "orders": 200_000, "steps": 500_000, "open_steps": 100_000}
VOLUMES = (10, 100)
SWEEP_BUDGET = 10.0  # seconds
SCANNED_TABLES = (
    "customers_customer",
    "orders_order",
    "orders_orderline",
    "orders_subscription",
    "orders_workorder",
    "orders_workstep",
    "orders_stepevent",
    "orders_agreement",
    "orders_resource",
)

PAGE = "?page_size=25"
# Who asks: the account manager (am_zhang, ~40 customers) and the dispatcher of the operations center (ops_zhao,
# the whole province) on the lists; the workstation executor (ws_he) on his desk; the supervisor where the
# issue names management.
ENDPOINTS = [
    Endpoint(FLOOR, "floor: API contact by pk (steward)", "steward_liu", "GET", "/api/v1/contacts/{contact}/",
             budget=False),
    Endpoint("page_board", "page provisioning board (dispatcher)", "ops_zhao", "GET", "/orders/provisioning/"),
    Endpoint("page_board_overdue", "page provisioning board, overdue tab (dispatcher)", "ops_zhao", "GET",
             "/orders/provisioning/?tab=overdue"),
    Endpoint("page_my_steps", "page my steps (executor)", "ws_he", "GET", "/orders/provisioning/my-steps/"),
    Endpoint("page_queue", "page workstation queue (executor)", "ws_he", "GET", "/orders/provisioning/queue/"),
    Endpoint("page_queue_manager", "page workstation queue (workstation manager)", "wsm_ma", "GET",
             "/orders/provisioning/queue/"),
    Endpoint("page_360", "page 360 of a customer with {customer_subscriptions} subscriptions, an order in flight (AM)",
             "am_zhang", "GET", "/customers/{customer}/"),
    # the 360 page's lazy orders panels, as the page fetches them (htmx)
    Endpoint("panel_agreements", "360 panel agreements (AM, htmx)", "am_zhang", "GET",
             "/customers/{customer}/panels/agreements/", htmx=True),
    Endpoint("panel_in_flight", "360 panel orders in flight (AM, htmx)", "am_zhang", "GET",
             "/customers/{customer}/panels/orders_in_flight/", htmx=True),
    Endpoint("panel_subscriptions", "360 panel subscriptions, {customer_subscriptions} of them (AM, htmx)",
             "am_zhang", "GET", "/customers/{customer}/panels/subscriptions/", htmx=True),
    Endpoint("page_order_list", "page /orders/ (account manager)", "am_zhang", "GET", "/orders/"),
    Endpoint("page_order_list_ops", "page /orders/ (dispatcher)", "ops_zhao", "GET", "/orders/"),
    Endpoint("page_order_detail", "page order detail, {order_status} (account manager)", "am_zhang", "GET",
             "/orders/{order}/"),
    Endpoint("page_work_order", "page work-order detail (executor)", "ws_he", "GET",
             "/orders/work-orders/{work_order}/"),
    Endpoint("page_assessment", "page assessment, this month (dispatcher)", "ops_zhao", "GET",
             "/orders/provisioning/assessment/"),
    Endpoint("api_orders_am", "API orders, page 1 (account manager)", "am_zhang", "GET", f"/api/v1/orders/{PAGE}"),
    Endpoint("api_orders_ops", "API orders, page 1 (dispatcher)", "ops_zhao", "GET", f"/api/v1/orders/{PAGE}"),
    Endpoint("api_subscriptions_am", "API subscriptions, page 1 (account manager)", "am_zhang", "GET",
             f"/api/v1/subscriptions/{PAGE}"),
    Endpoint("api_subscriptions_ops", "API subscriptions, page 1 (dispatcher)", "ops_zhao", "GET",
             f"/api/v1/subscriptions/{PAGE}"),
    Endpoint("api_work_orders_am", "API work orders, page 1 (account manager)", "am_zhang", "GET",
             f"/api/v1/work-orders/{PAGE}"),
    Endpoint("api_work_orders_ops", "API work orders, page 1 (dispatcher)", "ops_zhao", "GET",
             f"/api/v1/work-orders/{PAGE}"),
    Endpoint("api_agreements_am", "API agreements, page 1 (account manager)", "am_zhang", "GET",
             f"/api/v1/agreements/{PAGE}"),
    Endpoint("api_agreements_ops", "API agreements, page 1 (dispatcher)", "ops_zhao", "GET",
             f"/api/v1/agreements/{PAGE}"),
]  # fmt: skip


# --- databases -----------------------------------------------------------------------------------------------


def volume_of(pct: int) -> dict[str, int]:
    return {key: n * pct // 100 for key, n in FULL.items()}


def seeded(url: str, volume: dict[str, int]) -> bool:
    try:
        orders, subscriptions = bc.pg_query(
            url, "SELECT (SELECT count(*) FROM orders_order), (SELECT count(*) FROM orders_subscription)"
        )[0]
    except Exception:  # no database, or not migrated
        return False
    return orders >= volume["orders"] and subscriptions >= volume["subscriptions"]


def prepare(pct: int, url: str, env: dict[str, str], source_url: str, reuse: bool, var_dir: str) -> float | None:
    """A copy of the customer database, migrated, seeded at `pct` % of the volume, steps opened, VACUUM ANALYZE.
    Returns the seeding seconds (None when a seeded database was reused)."""
    name = url.rsplit("/", 1)[1]
    volume = volume_of(pct)
    if reuse and seeded(url, volume):
        print(f"[{pct}%] reusing database {name}")
        bc.run([PYTHON, "manage.py", "migrate", "-v0"], env)  # the code may have moved on since it was seeded
        opened = open_steps(url, volume["open_steps"])
        if opened:
            print(f"[{pct}%] {opened:,} steps opened; VACUUM ANALYZE")
            bc.pg_query(url, "VACUUM ANALYZE")
        return None
    if bc.demo_customers(source_url) != SOURCE_CUSTOMERS:
        print(f"[{pct}%] {SOURCE} missing: seeding it with bench_customers")
        bc.prepare(SOURCE_CUSTOMERS, source_url, bc.server_env(source_url, var_dir), reuse=True)
    print(f"[{pct}%] creating database {name} from {SOURCE}")
    bc.pg_admin(url, f'DROP DATABASE IF EXISTS "{name}"')
    bc.pg_admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{SOURCE}"')  # needs no session on the source
    bc.run([PYTHON, "manage.py", "migrate", "-v0"], env)
    print(f"[{pct}%] seeding {volume}")
    seconds = bc.run(
        [PYTHON, "manage.py", "seed_orders", "--subscriptions", str(volume["subscriptions"]),
         "--orders", str(volume["orders"]), "--steps", str(volume["steps"])],
        env,
    )  # fmt: skip
    opened = open_steps(url, volume["open_steps"])
    print(f"[{pct}%] seeded in {seconds:.0f} s, {opened:,} steps opened; VACUUM ANALYZE")
    bc.pg_query(url, "VACUUM ANALYZE")
    return seconds


def open_steps(url: str, target: int) -> int:
    """At least `target` open steps: the last step of the newest completed work orders is opened again (ready,
    in progress or blocked, due from 48 hours ago to 8 days ahead, so a fifth is overdue), its work order
    reopened and its order back in progress; am_zhang's customers first, so the account manager the benchmark
    reads as has orders in flight at every volume. Set-based and idempotent: it opens only what is missing. (The
    subscription of such an order stays: the benchmark does not read the two together.)"""
    missing = (
        target
        - bc.pg_query(url, "SELECT count(*) FROM orders_workstep WHERE status IN ('ready', 'in_progress', 'blocked')")[
            0
        ][0]
    )
    if missing <= 0:
        return 0
    rows = bc.pg_query(
        url,
        """
        WITH wo AS (
            SELECT id FROM orders_workorder WHERE status = 'completed'
            ORDER BY customer_id IN (SELECT c.id FROM customers_customer c JOIN channels_user u
                                     ON u.id = c.account_manager_id WHERE u.username = 'am_zhang') DESC, id DESC
            LIMIT %(missing)s
        ), last AS (
            SELECT DISTINCT ON (s.work_order_id) s.id, s.work_order_id, s.duration_hours
            FROM orders_workstep s JOIN wo ON wo.id = s.work_order_id
            ORDER BY s.work_order_id, s.sequence DESC
        ), timed AS (
            SELECT id, work_order_id, duration_hours,
                   CASE WHEN id %% 8 = 3 THEN 'blocked' WHEN id %% 5 < 3 THEN 'in_progress' ELSE 'ready' END AS status,
                   now() + make_interval(mins => ((id * 7919) %% 14400)::int - 2880) AS due
            FROM last
        ), steps AS (
            UPDATE orders_workstep s
            SET status = t.status, due_at = t.due,
                ready_at = t.due - make_interval(hours => (t.duration_hours * 2.6)::int),
                warn_at = t.due - make_interval(mins => (t.duration_hours * 15)::int),
                started_at = CASE WHEN t.status = 'ready' THEN NULL ELSE t.due - make_interval(hours => t.duration_hours * 2) END,
                assignee_id = CASE WHEN t.status = 'ready' THEN NULL ELSE s.completed_by_id END,
                block_reason = CASE WHEN t.status = 'blocked' THEN '管道资源不足，等待扩容' ELSE '' END,
                completed_at = NULL, completed_by_id = NULL, on_time = NULL, warned_at = NULL, escalated_at = NULL
            FROM timed t WHERE s.id = t.id
            RETURNING s.work_order_id, t.status, t.due
        ), orders AS (
            UPDATE orders_workorder w
            SET status = CASE WHEN steps.status = 'blocked' THEN 'blocked' ELSE 'open' END, completed_at = NULL,
                due_at = steps.due + interval '2 days', warned_at = NULL, escalated_at = NULL
            FROM steps WHERE w.id = steps.work_order_id
            RETURNING w.order_line_id
        ), lines AS (
            UPDATE orders_orderline l SET status = 'provisioning', completed_at = NULL
            FROM orders WHERE l.id = orders.order_line_id
            RETURNING l.order_id
        )
        UPDATE orders_order o SET status = 'in_progress', completed_at = NULL, delay_notified_at = NULL
        FROM lines WHERE o.id = lines.order_id
        RETURNING o.id
        """,  # noqa: E501
        {"missing": missing},
    )
    return len(rows)


def targets(url: str) -> dict[str, str]:
    """The rows the requests name, the same kind at both volumes."""
    customer, subscriptions = bc.pg_query(
        url,
        "SELECT s.customer_id, count(*) FROM orders_subscription s JOIN customers_customer c ON c.id = s.customer_id "
        "JOIN channels_user u ON u.id = c.account_manager_id WHERE u.username = 'am_zhang' GROUP BY s.customer_id "
        "ORDER BY EXISTS (SELECT 1 FROM orders_order o WHERE o.customer_id = s.customer_id "
        "AND o.status = 'in_progress') DESC, count(*) DESC, s.customer_id LIMIT 1",
    )[0]
    contact = bc.pg_query(url, "SELECT id FROM customers_contact WHERE customer_id = %s ORDER BY id LIMIT 1",
                          (customer,))[0][0]  # fmt: skip
    # the work order of the most urgent open step in ws_he's workstation queue (what the executor opens)
    work_order = bc.pg_query(
        url,
        "SELECT s.work_order_id FROM orders_workstep s JOIN channels_user u ON u.workstation_id = s.workstation_id "
        "WHERE u.username = 'ws_he' AND s.status IN ('ready', 'in_progress', 'blocked') "
        "ORDER BY s.due_at, s.id LIMIT 1",
    )[0][0]
    # an order of am_zhang's with a work order, in progress if there is one
    order, _work_order, order_status = bc.pg_query(
        url,
        "SELECT o.id, w.id, o.status FROM orders_order o JOIN orders_orderline l ON l.order_id = o.id "
        "JOIN orders_workorder w ON w.order_line_id = l.id JOIN customers_customer c ON c.id = o.customer_id "
        "JOIN channels_user u ON u.id = c.account_manager_id WHERE u.username = 'am_zhang' "
        "ORDER BY (o.status = 'in_progress') DESC, (o.customer_id = %s) DESC, o.id DESC LIMIT 1",
        (customer,),
    )[0]
    return {"customer": str(customer), "customer_subscriptions": f"{subscriptions:,}", "contact": str(contact),
            "order": str(order), "work_order": str(work_order), "order_status": order_status}  # fmt: skip


def facts(url: str) -> dict[str, int]:
    (row,) = bc.pg_query(
        url,
        """SELECT (SELECT count(*) FROM orders_order), (SELECT count(*) FROM orders_order WHERE status = 'in_progress'),
                  (SELECT count(*) FROM orders_subscription), (SELECT count(*) FROM orders_workorder),
                  (SELECT count(*) FROM orders_workstep),
                  (SELECT count(*) FROM orders_workstep WHERE status IN ('ready', 'in_progress', 'blocked')),
                  (SELECT count(*) FROM orders_stepevent), (SELECT count(*) FROM orders_agreement)""",
    )
    keys = ("orders", "orders in progress", "subscriptions", "work orders", "steps", "open steps", "step events",
            "agreements")  # fmt: skip
    return dict(zip(keys, row, strict=True))


# --- the SLA sweep (in-process, run as a subprocess with the volume's DATABASE_URL) -----------------------------

SWEEPS = (
    ("steady", 15, "deadlines of the last 15 minutes unswept (the beat's interval)"),
    ("backlog", 24 * 60, "a day without a sweep: every deadline of the last 24 hours"),
)


def run_sweeps() -> dict[str, dict]:
    """Each scenario in its own transaction, rolled back: what earlier sweeps would have done (warnings,
    escalations and customer notices older than the scenario's lag) is written set-based first, then
    sweep() is timed and its statements counted."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    import datetime as dt

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from orders.services.provisioning import sweep

    class Rollback(Exception):
        pass

    out = {}
    # The first sweep of a process pays for imports and translation catalogues: a worker has paid them already.
    # Each scenario runs twice: timed as a worker runs it, then counted under CaptureQueriesContext (which
    # renders every statement's SQL, thousands of ids long in a backlog: it would inflate the time).
    runs = [("warm-up", 15, False), *((name, lag, counted) for name, lag, _label in SWEEPS for counted in (0, 1))]
    for name, lag_minutes, counted in runs:
        try:
            with transaction.atomic():
                now = timezone.now()
                before = now - dt.timedelta(minutes=lag_minutes)
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE orders_workstep SET warned_at = warn_at WHERE status IN ('ready', 'in_progress', "
                        "'blocked') AND warned_at IS NULL AND warn_at <= %s",
                        [before],
                    )
                    cursor.execute(
                        "UPDATE orders_workstep SET escalated_at = due_at WHERE status IN ('ready', 'in_progress', "
                        "'blocked') AND escalated_at IS NULL AND due_at <= %s",
                        [before],
                    )
                    cursor.execute(
                        "UPDATE orders_order o SET delay_notified_at = %s WHERE o.status = 'in_progress' "
                        "AND o.delay_notified_at IS NULL AND EXISTS (SELECT 1 FROM orders_orderline l "
                        "JOIN orders_workorder w ON w.order_line_id = l.id JOIN orders_workstep s "
                        "ON s.work_order_id = w.id WHERE l.order_id = o.id AND (s.status = 'blocked' OR "
                        "(s.status IN ('ready', 'in_progress') AND s.due_at <= %s)))",
                        [before, before],
                    )
                    cursor.execute(
                        "SELECT count(*) FROM orders_workstep WHERE status IN ('ready', 'in_progress', 'blocked')"
                    )
                    open_count = cursor.fetchone()[0]
                if not counted:
                    started = time.perf_counter()
                    result = sweep(now=now)
                    out[name] = {"seconds": time.perf_counter() - started, "open_steps": open_count,
                                 "warned": result.warned, "escalated": result.escalated,
                                 "customers_told": result.customers_told}  # fmt: skip
                    raise Rollback
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    sweep(now=now)
                    out[name]["seconds_captured"] = time.perf_counter() - started
                queries = captured.captured_queries
                out[name]["statements"] = len(queries)
                out[name]["slowest"] = sorted((float(q["time"]), q["sql"][:300]) for q in queries)[-3:]
                raise Rollback
        except Rollback:
            pass
    out.pop("warm-up")
    return out


def sweep_figures(env: dict[str, str]) -> dict[str, dict]:
    env = {k: v for k, v in env.items() if k not in ("REDIS_URL", "CACHE_URL")}
    result = subprocess.run([PYTHON, __file__, "--internal-sweep"], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"the sweep failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- report ----------------------------------------------------------------------------------------------------


def report(sizes: list[int], runs: dict[int, dict], meta: dict) -> tuple[str, bool, dict]:
    small, large = sizes[0], sizes[-1]
    verdicts = bc.judge(sizes, runs, ENDPOINTS)
    labels = {e.key: bc.fill(e, runs[large]["targets"])[2] for e in ENDPOINTS}
    seeding = ", ".join(
        f"{size} % seeded in {runs[size]['seed_seconds']:.0f} s" if runs[size]["seed_seconds"] else f"{size} % reused"
        for size in sizes
    )
    volumes = "; ".join(
        f"**{size} %**: " + ", ".join(f"{n:,} {key}" for key, n in runs[size]["facts"].items()) for size in sizes
    )
    lines = [
        f"# Orders benchmark ({meta['started']})",
        "",
        f"- command: `{meta['command']}`",
        f"- volumes ({SOURCE_CUSTOMERS:,} customers each, copies of {SOURCE}): {volumes}. Databases: {seeding}.",
        "- served side by side (gunicorn, 2 workers each; Redis cache) and measured interleaved with "
        f"bench_customers' machinery: {meta['requests']} timed rounds after {meta['warmup']} warm-up rounds, each "
        f"request right after the floor at the same volume. Measuring took {meta['measure_seconds']:.0f} s; load "
        f"average {meta['load_before']:.1f} before, {meta['load_after']:.1f} after.",
        f"- budgets: p95 <= {bc.RATIO_BUDGET:g}x the floor's p95 at both volumes; p95 growth {small} % -> {large} % "
        f"<= {bc.GROWTH_BUDGET:g}x; the same query count at both; the expected status. Seq Scans on "
        f"{', '.join(SCANNED_TABLES)} are flagged (not judged) at {large} %.",
        f"- floor = {labels[FLOOR]}, p95 of every floor request of the run at that volume.",
        "- the columns name the volume in % (p95 10 = at 10 %).",
        "",
    ]
    # bench_customers' table names sizes with short(): 10 -> "10", 100 -> "100"
    table, ok = bc.results_table(sizes, runs, verdicts, ENDPOINTS)
    lines += table
    lines += [
        "## SLA sweep (`orders.services.provisioning.sweep()`, in-process, rolled back)",
        "",
        "| scenario | volume | open steps | seconds | statements | warned | escalated | customers told | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    sweep_ok = True
    for name, _lag, label in SWEEPS:
        # a sweep that finds nothing of a kind skips its statements: compare volumes that found the same kinds
        shapes = {
            tuple(bool(runs[size]["sweep"][name][k]) for k in ("warned", "escalated", "customers_told"))
            for size in sizes
        }
        counts = {runs[size]["sweep"][name]["statements"] for size in sizes} if len(shapes) == 1 else {0}
        for size in sizes:
            s = runs[size]["sweep"][name]
            problems = []
            if s["seconds"] > SWEEP_BUDGET:
                problems.append(f"{s['seconds']:.1f} s > {SWEEP_BUDGET:g} s")
            if len(counts) > 1:
                problems.append("statement count differs between volumes")
            sweep_ok &= not problems
            verdict = "PASS" if not problems else "**FAIL**: " + "; ".join(problems)
            lines.append(f"| {name}: {label} | {size} % | {s['open_steps']:,} | {s['seconds']:.2f} | "
                         f"{s['statements']} | {s['warned']:,} | {s['escalated']:,} | {s['customers_told']:,} | "
                         f"{verdict} |")  # fmt: skip
    lines += [
        "",
        f"Sweep budget: <= {SWEEP_BUDGET:g} s at every volume, the same statement count at both (when both found "
        "the same kinds of work: a sweep that warns, escalates or tells nobody skips those statements). Times after "
        "a warm-up sweep in the same process.",
        "",
    ]
    ok = ok and sweep_ok
    lines += [f"**{'PASS' if ok else 'FAIL'}** overall", ""]
    return "\n".join(lines), ok, verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=40, help="timed rounds (requests per endpoint and volume)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first (every worker warm)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the shuffled order within rounds")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432"),
        help="server holding kam_bench_100000 and the kam_bench_orders_<volume> databases",
    )
    parser.add_argument("--reuse", action="store_true", help="keep already seeded kam_bench_orders_<volume> databases")
    parser.add_argument(
        "--volumes", default=",".join(map(str, VOLUMES)), help="percentages of the full volume (default 10,100)"
    )
    parser.add_argument("--skip-http", action="store_true", help="only prepare the databases and time the sweep")
    parser.add_argument("--internal-count-queries", help=argparse.SUPPRESS)
    parser.add_argument("--internal-sweep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.internal_count_queries:
        print(json.dumps(bc.count_queries(json.loads(args.internal_count_queries), ENDPOINTS, SCANNED_TABLES)))
        return 0
    if args.internal_sweep:
        print(json.dumps(run_sweeps()))
        return 0

    password = os.environ.get("DEMO_PASSWORD", "kam-demo-2026")
    meta = {"started": f"{datetime.now():%Y-%m-%d %H:%M}", "requests": args.requests, "warmup": args.warmup,
            "seed": args.seed, "command": " ".join(["bench/bench_orders.py", *sys.argv[1:]])}  # fmt: skip
    sizes = sorted({int(v) for v in args.volumes.split(",")})
    base = args.database_url.rstrip("/")
    runs: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="kam-bench-orders-") as var_dir:
        os.makedirs(os.path.join(var_dir, "staticfiles"))  # whitenoise wants STATIC_ROOT to exist
        urls = {pct: f"{base}/kam_bench_orders_{pct}" for pct in sizes}
        for pct, url in urls.items():
            seed_seconds = prepare(pct, url, bc.server_env(url, var_dir), f"{base}/{SOURCE}", args.reuse, var_dir)
            runs[pct] = {"seed_seconds": seed_seconds, "targets": targets(url), "facts": facts(url)}
            print(f"[{pct}%] {runs[pct]['facts']}", flush=True)
        for pct, url in urls.items():
            print(f"[{pct}%] timing the SLA sweep", flush=True)
            runs[pct]["sweep"] = sweep_figures(bc.server_env(url, var_dir))
            print(f"[{pct}%] {runs[pct]['sweep']}", flush=True)
            # The timed sweeps roll their writes back: the dead rows they leave would cost the pages measured next
            # heap fetches that a running system's autovacuum has long cleared.
            bc.pg_query(url, "VACUUM (ANALYZE) orders_workstep, orders_workorder, orders_stepevent, orders_order, "
                             "channels_notification")  # fmt: skip
        if args.skip_http:
            print(json.dumps({pct: {k: runs[pct][k] for k in ("facts", "sweep")} for pct in sizes}, indent=1))
            return 0

        import redis

        redis_server, redis_port = bc.start_redis(var_dir)
        servers: dict[int, dict] = {}
        try:
            for index, (pct, url) in enumerate(urls.items(), start=1):
                env = bc.server_env(url, var_dir, f"redis://127.0.0.1:{redis_port}/{index}")
                port = bc.free_port()
                while any(s["port"] == port for s in servers.values()):
                    port = bc.free_port()
                log = Path(var_dir) / f"gunicorn-{pct}.log"
                servers[pct] = {
                    "process": bc.start_server(env, port, log, wait=False), "port": port, "env": env, "log": log,
                    "base": f"http://127.0.0.1:{port}", "values": runs[pct]["targets"],
                    "redis": redis.Redis(port=redis_port, db=index),
                }  # fmt: skip
            for server in servers.values():
                bc.wait_for_server(server["process"], server["port"])
            for server in servers.values():
                bc.Session(server["base"], "am_zhang", password)  # both workers up and loaded
            print(f"measuring {len(ENDPOINTS) - 1} endpoints and the floor at {sizes} %: "
                  f"{args.warmup} + {args.requests} rounds", flush=True)  # fmt: skip
            meta["load_before"] = os.getloadavg()[0]
            started = time.monotonic()
            http_results = bc.measure(servers, password, args.requests, args.warmup, args.seed, ENDPOINTS)
            meta["measure_seconds"] = time.monotonic() - started
            meta["load_after"] = os.getloadavg()[0]
        finally:
            for server in servers.values():
                bc.stop(server["process"])
            bc.stop(redis_server)
        for pct, server in servers.items():
            errors = [line for line in server["log"].read_text(encoding="utf-8", errors="replace").splitlines()
                      if any(m in line for m in (" ERROR ", "Traceback", "[CRITICAL]"))]  # fmt: skip
            runs[pct].update(http=http_results[pct], server_errors=errors)
            print(f"[{pct}%] counting queries and EXPLAINing them", flush=True)
            runs[pct]["queries"] = bc.query_counts(server["env"], runs[pct]["targets"], script=__file__)
    text, ok, verdicts = report(sizes, runs, meta)
    for pct in sizes:
        if runs[pct]["server_errors"]:
            text += (f"\nThe {pct} % server logged {len(runs[pct]['server_errors'])} error lines, first: "
                     f"`{runs[pct]['server_errors'][0][:200]}`\n")  # fmt: skip
    bc.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (bc.RESULTS / f"orders-{stamp}.md").write_text(text, encoding="utf-8")
    raw = {"meta": meta, "sizes": sizes, "runs": runs, "verdicts": verdicts}
    (bc.RESULTS / f"orders-{stamp}.json").write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")
    print(text)
    print(f"\nwritten to {bc.RESULTS}/orders-{stamp}.md")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
