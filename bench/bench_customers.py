"""Customer endpoints benchmark: flat response times and query counts from 10,000 to 100,000 customers.

For each size: a fresh PostgreSQL database, migrate, `seed_demo` in the benchmark profile (4 contacts,
24 spend rows and 10 members per customer), VACUUM ANALYZE, gunicorn with 2 workers on 127.0.0.1, then
N timed requests per endpoint over HTTP with logged-in cookie sessions. Query counts come from running
each request once in-process (django.test.Client + CaptureQueriesContext) against the same database.

Budgets (per endpoint): p95 <= 5x the floor's p95 (the floor: an authenticated API detail returning one
row by primary key), p95 grows at most 1.5x from the smallest to the largest size, and the query count
is the same at every size. Exit status 1 when a budget fails.

    .venv/bin/python bench/bench_customers.py --customers 10000,100000

See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULTS = ROOT / "bench" / "results"
FLOOR = "floor"
RATIO_BUDGET = 5.0
GROWTH_BUDGET = 1.5


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    user: str  # demo login
    method: str
    path: str  # formatted with the targets
    body: dict | None = None
    expect: int = 200
    budget: bool = True  # informational rows are measured but not judged


# Which user: the account manager for their own portfolio (am_zhang), the data steward where the question
# is "over every customer" (list, search), the call-center agent for caller lookup.
ENDPOINTS = [
    Endpoint(FLOOR, "floor: API contact by pk (steward)", "steward_liu", "GET", "/api/v1/contacts/{contact}/",
             budget=False),
    Endpoint("floor_am", "API contact by pk (account manager)", "am_zhang", "GET", "/api/v1/contacts/{contact}/"),
    Endpoint("api_list_all", "API customer list, page 1 (steward: all)", "steward_liu", "GET",
             "/api/v1/customers/?page_size=25"),
    Endpoint("api_list_am", "API customer list, page 1 (account manager)", "am_zhang", "GET",
             "/api/v1/customers/?page_size=25"),
    Endpoint("api_search_4", "API search '{fragment4}' (steward: all)", "steward_liu", "GET",
             "/api/v1/customers/?page_size=25&q={fragment4_q}"),
    Endpoint("api_search_2", "API search '{fragment2}' (steward: all)", "steward_liu", "GET",
             "/api/v1/customers/?page_size=25&q={fragment2_q}"),
    Endpoint("api_search_am", "API search '{fragment4}' (account manager)", "am_zhang", "GET",
             "/api/v1/customers/?page_size=25&q={fragment4_q}"),
    Endpoint("api_detail", "API customer detail (account manager)", "am_zhang", "GET", "/api/v1/customers/{customer}/"),
    Endpoint("api_duplicate_check", "API create near-duplicate -> 409 (account manager)", "am_zhang", "POST",
             "/api/v1/customers/", body={"name": "{duplicate_name}"}, expect=409),
    Endpoint("api_lookup", "API caller lookup (agent)", "agent_chen", "GET",
             "/api/v1/customers/lookup/?phone={phone_q}"),
    Endpoint("page_list_all", "page /customers/ (steward: all)", "steward_liu", "GET", "/customers/"),
    Endpoint("page_list_am", "page /customers/ (account manager)", "am_zhang", "GET", "/customers/"),
    Endpoint("page_360", "page /customers/{{id}}/ 360 (account manager)", "am_zhang", "GET", "/customers/{customer}/"),
]  # fmt: skip


# --- database and server ---------------------------------------------------------------------------------


def pg_admin(base_url: str, sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(base_url.rsplit("/", 1)[0] + "/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def pg_query(url: str, sql: str, params=()) -> list[tuple]:
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
    connection.close()
    return rows


def demo_customers(url: str) -> int:
    try:
        return pg_query(url, "SELECT count(*) FROM customers_customer WHERE is_demo")[0][0]
    except Exception:  # no database, or not migrated
        return -1


def server_env(url: str, var_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        DATABASE_URL=url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DJANGO_SECURE_HTTPS="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,testserver",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        KAM_VAR_DIR=var_dir,
        LOG_LEVEL="ERROR",  # 409s are expected; keep the output readable
    )
    return env


def run(cmd: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    return time.monotonic() - started


def prepare(size: int, url: str, env: dict[str, str], reuse: bool, contacts_per_customer: int = 4) -> float | None:
    """Fresh database, migrated and seeded; returns the seeding time (None when an existing one was reused)."""
    name = url.rsplit("/", 1)[1]
    if reuse and demo_customers(url) == size:
        print(f"[{size}] reusing database {name}")
        run([PYTHON, "manage.py", "migrate", "-v0"], env)  # the code may have moved on since it was seeded
        return None
    print(f"[{size}] creating database {name}")
    pg_admin(url, f'DROP DATABASE IF EXISTS "{name}"')
    pg_admin(
        url, f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0"
    )  # the trigram search needs a UTF-8 ctype
    run([PYTHON, "manage.py", "migrate", "-v0"], env)
    print(f"[{size}] seeding")
    seconds = run(
        [PYTHON, "manage.py", "seed_demo", "--no-evaluate", "--customers", str(size),
         "--contacts-per-customer", str(contacts_per_customer),
         "--members-per-customer", "10", "--months", "24", "--monthly-totals"],
        env,
    )  # fmt: skip
    print(f"[{size}] seeded in {seconds:.0f} s; VACUUM ANALYZE")
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    return seconds


def targets(url: str) -> dict[str, str]:
    """Ids and strings the requests use, the same kind of thing at every size."""
    customer, name = pg_query(
        url,
        "SELECT c.id, c.name FROM customers_customer c JOIN channels_user u ON u.id = c.account_manager_id "
        "WHERE u.username = 'am_zhang' AND c.parent_id IS NOT NULL ORDER BY c.tier, c.id LIMIT 1",
    )[0]
    contact, mobile = pg_query(
        url, "SELECT id, mobile FROM customers_contact WHERE customer_id = %s ORDER BY id LIMIT 1", (customer,)
    )[0]
    original, short_name = pg_query(
        url,
        "SELECT name, short_name FROM customers_customer WHERE parent_id IS NULL AND name LIKE '%%科技有限公司' "
        "AND name NOT LIKE '%%股份%%' AND short_name <> '' ORDER BY id LIMIT 1",
    )[0]
    # A two-character trade name (字号, the start of the short name) that many customers share, as people type it.
    fragment2 = short_name[:2]
    values = {
        "customer": str(customer),
        "customer_name": name,
        "contact": str(contact),
        "phone": f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
        "fragment4": "工商银行",
        "fragment2": fragment2,
        "duplicate_name": original.replace("有限公司", "有限责任公司"),
    }
    for key in ("phone", "fragment4", "fragment2"):
        values[f"{key}_q"] = urllib.parse.quote(values[key])
    return values


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "kam.wsgi:application", "--workers", "2", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10).read()
            return server
        except OSError:  # refused while booting, or a timeout
            time.sleep(0.5)
    server.terminate()
    server.wait(timeout=30)
    raise RuntimeError("gunicorn did not start")


# --- HTTP client -------------------------------------------------------------------------------------------


class Session:
    """A logged-in browser: cookie jar, CSRF token for writes."""

    def __init__(self, base: str, username: str, password: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        page = self.opener.open(f"{base}/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
        self.opener.open(urllib.request.Request(f"{base}/login/", data=form.encode(), headers={"Referer": base}))
        if "sessionid" not in {c.name for c in self.jar}:
            raise RuntimeError(f"login as {username} failed")

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def request(self, method: str, path: str, body: dict | None) -> tuple[int, float]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json" if path.startswith("/api/") else "text/html"}
        if data is not None:
            headers.update({"Content-Type": "application/json", "X-CSRFToken": self.csrf(), "Referer": self.base})
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method, headers=headers)
        started = time.perf_counter()
        try:
            with self.opener.open(request) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            exc.read()
            status = exc.code
        return status, (time.perf_counter() - started) * 1000


def fill(endpoint: Endpoint, values: dict[str, str]) -> tuple[str, dict | None, str]:
    body = {k: v.format(**values) for k, v in endpoint.body.items()} if endpoint.body else None
    return endpoint.path.format(**values), body, endpoint.label.format(**values)


def measure(base: str, values: dict[str, str], password: str, requests: int, warmup: int) -> dict[str, dict]:
    """Round-robin over the endpoints (floor included): a burst of machine noise then hits every
    endpoint alike instead of whichever one happened to be running, so the ratios to the floor
    compare like with like."""
    sessions: dict[str, Session] = {}
    prepared = []
    for endpoint in ENDPOINTS:
        if endpoint.user not in sessions:
            sessions[endpoint.user] = Session(base, endpoint.user, password)
        path, body, _label = fill(endpoint, values)
        prepared.append((endpoint, sessions[endpoint.user], path, body))
    statuses: dict[str, set] = {endpoint.key: set() for endpoint in ENDPOINTS}
    times: dict[str, list[float]] = {endpoint.key: [] for endpoint in ENDPOINTS}
    for i in range(warmup + requests):
        for endpoint, session, path, body in prepared:
            status, ms = session.request(endpoint.method, path, body)
            statuses[endpoint.key].add(status)
            if i >= warmup:
                times[endpoint.key].append(ms)
    results = {}
    for endpoint in ENDPOINTS:
        samples = sorted(times[endpoint.key])
        results[endpoint.key] = row = {
            "p50": statistics.median(samples),
            "p95": samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))],
            "statuses": sorted(statuses[endpoint.key]),
        }
        print(f"    {endpoint.key:<20} p50 {row['p50']:7.1f} ms  p95 {row['p95']:7.1f} ms  {row['statuses']}")
    return results


# --- query counts (in-process, run as a subprocess with the size's DATABASE_URL) --------------------------


def count_queries(values: dict[str, str], explain: bool) -> dict[str, dict]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from channels.models import User

    clients: dict[str, Client] = {}
    out = {}
    for endpoint in ENDPOINTS:
        if endpoint.user not in clients:
            clients[endpoint.user] = Client(HTTP_ACCEPT="application/json")
            clients[endpoint.user].force_login(User.objects.get(username=endpoint.user))
        client = clients[endpoint.user]
        path, body, _label = fill(endpoint, values)
        accept = "application/json" if path.startswith("/api/") else "text/html"
        call = client.post if endpoint.method == "POST" else client.get
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
        call(path, HTTP_ACCEPT=accept, **kwargs)  # warm caches (lexicon, content types) like a running server
        with CaptureQueriesContext(connection) as captured:
            response = call(path, HTTP_ACCEPT=accept, **kwargs)
        slowest = max(captured.captured_queries, key=lambda q: float(q["time"]), default=None)
        row = {"queries": len(captured), "status": response.status_code}
        if slowest is not None:
            row["slowest_ms"] = float(slowest["time"]) * 1000
            row["slowest_sql"] = slowest["sql"]
            if explain and slowest["sql"].lstrip().upper().startswith("SELECT"):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
                    row["explain"] = "\n".join(r[0] for r in cursor.fetchall())
        out[endpoint.key] = row
    return out


def query_counts(env: dict[str, str], values: dict[str, str], explain: bool) -> dict[str, dict]:
    result = subprocess.run(
        [PYTHON, __file__, "--internal-count-queries", json.dumps(values)] + (["--explain"] if explain else []),
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode:
        raise RuntimeError(f"counting queries failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- report ---------------------------------------------------------------------------------------------


def report(sizes: list[int], runs: dict[int, dict]) -> tuple[str, bool]:
    small, large = sizes[0], sizes[-1]
    labels = {e.key: fill(e, runs[large]["targets"])[2] for e in ENDPOINTS}
    lines = [
        f"# Customer endpoints benchmark ({datetime.now():%Y-%m-%d %H:%M})",
        "",
        "Seeding (benchmark profile): "
        + ", ".join(
            f"{size:,} customers {runs[size]['seed_seconds']:.0f} s"
            if runs[size]["seed_seconds"]
            else f"{size:,}: reused database"
            for size in sizes
        ),
        "",
        f"Budgets: p95 <= {RATIO_BUDGET:g}x floor p95; p95 growth {small:,} -> {large:,} <= {GROWTH_BUDGET:g}x; "
        "same query count at every size.",
        "",
    ]
    header = ["endpoint"]
    for size in sizes:
        header += [f"p50 {size // 1000}k", f"p95 {size // 1000}k", f"ratio {size // 1000}k", f"queries {size // 1000}k"]
    header += ["growth", "verdict"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    ok = True
    failures = []
    for endpoint in ENDPOINTS:
        cells = [labels[endpoint.key]]
        problems = []
        for size in sizes:
            http = runs[size]["http"][endpoint.key]
            floor = runs[size]["http"][FLOOR]["p95"]
            queries = runs[size]["queries"][endpoint.key]
            ratio = http["p95"] / floor
            cells += [f"{http['p50']:.1f}", f"{http['p95']:.1f}", f"{ratio:.1f}x", str(queries["queries"])]
            if endpoint.expect not in http["statuses"] or len(http["statuses"]) != 1:
                problems.append(f"status {http['statuses']} at {size:,}")
            if endpoint.budget and ratio > RATIO_BUDGET:
                problems.append(f"{ratio:.1f}x floor at {size:,}")
        growth = runs[large]["http"][endpoint.key]["p95"] / runs[small]["http"][endpoint.key]["p95"]
        cells.append(f"{growth:.2f}x")
        if endpoint.budget and len(sizes) > 1 and growth > GROWTH_BUDGET:
            problems.append(f"p95 grew {growth:.2f}x")
        counts = {runs[size]["queries"][endpoint.key]["queries"] for size in sizes}
        if len(counts) > 1:
            problems.append(f"query count changed {sorted(counts)}")
        cells.append("PASS" if not problems else "FAIL: " + "; ".join(problems))
        if problems and (endpoint.budget or any("status" in p for p in problems)):
            ok = False
            failures.append(endpoint.key)
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Times in ms over HTTP (gunicorn, 2 workers); floor = {labels[FLOOR]}.", ""]
    lines += ["## Slowest SQL per endpoint at the largest size", ""]
    for endpoint in ENDPOINTS:
        q = runs[large]["queries"][endpoint.key]
        if "slowest_sql" in q:
            lines += [f"- **{endpoint.key}** ({q['queries']} queries, slowest {q['slowest_ms']:.1f} ms): "
                      f"`{q['slowest_sql'][:300]}`"]  # fmt: skip
    for key in failures:
        q = runs[large]["queries"][key]
        if q.get("explain"):
            lines += ["", f"### EXPLAIN ANALYZE, {key} ({large:,} customers)", "", "```", q["explain"], "```"]
    lines.append("")
    lines.append(f"**{'PASS' if ok else 'FAIL'}**")
    return "\n".join(lines), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", default="10000,100000", help="comma-separated sizes (default 10000,100000)")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per endpoint (default 60)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests first (both workers warm)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432"),
                        help="server to create kam_bench_<size> databases on")  # fmt: skip
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded kam_bench_<size> database")
    parser.add_argument("--internal-count-queries", help=argparse.SUPPRESS)
    parser.add_argument("--explain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.internal_count_queries:
        print(json.dumps(count_queries(json.loads(args.internal_count_queries), args.explain)))
        return 0

    sizes = sorted(int(s) for s in args.customers.split(","))
    password = os.environ.get("DEMO_PASSWORD", "kam-demo-2026")
    runs: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="kam-bench-") as var_dir:
        os.makedirs(os.path.join(var_dir, "staticfiles"))  # whitenoise wants STATIC_ROOT to exist
        for size in sizes:
            url = f"{args.database_url.rstrip('/')}/kam_bench_{size}"
            env = server_env(url, var_dir)
            seed_seconds = prepare(size, url, env, args.reuse)
            values = targets(url)
            port = free_port()
            server = start_server(env, port)
            try:
                Session(f"http://127.0.0.1:{port}", "am_zhang", password)  # both workers up and loaded
                print(f"[{size}] measuring {args.requests} requests per endpoint")
                http_results = measure(f"http://127.0.0.1:{port}", values, password, args.requests, args.warmup)
            finally:
                server.terminate()
                server.wait(timeout=30)
            runs[size] = {
                "seed_seconds": seed_seconds,
                "targets": values,
                "http": http_results,
                "queries": query_counts(env, values, explain=True),
            }
    text, ok = report(sizes, runs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"customers-{stamp}.md").write_text(text, encoding="utf-8")
    (RESULTS / f"customers-{stamp}.json").write_text(json.dumps(runs, ensure_ascii=False, indent=1), encoding="utf-8")
    print(text)
    print(f"\nwritten to {RESULTS}/customers-{stamp}.md")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
