"""Customer endpoints benchmark: do response times and query counts stay flat from 10,000 to 100,000 customers?

Every size gets its own database (`kam_bench_<size>`: migrate, `seed_demo` in the benchmark profile with 4
contacts, 24 spend rows and 10 members per customer, VACUUM ANALYZE; `--reuse` keeps a seeded one), one
customer of each is given 100,000 group members (set-based SQL, idempotent), and then ALL sizes are served
side by side, one gunicorn (2 workers) per size, each with its own cache database on a private Redis.
The sizes are measured interleaved, in the same rounds: in round r, for each endpoint (in a shuffled
order), for each size (in a shuffled order), the floor then the endpoint. A burst of noise on the shared
machine therefore hits both sizes and the floor alike, so p95(100k) / p95(10k) is a real growth figure
and endpoint / floor a real ratio; measured minutes apart, the same code "grew" 0.24x in one run and
1.6x in the next.

Budgets (per endpoint, the floor itself not judged): p95 <= 5x the floor's p95 at every size; p95 at
every larger size <= 1.3x p95 at the smallest; the same SQL query count at every size; the expected
status on every request. Exit status 1 when one fails. Every SELECT of every endpoint is EXPLAINed at
every size and a Seq Scan on customers_customer, customers_spendrecord or customers_groupmember is
flagged; EXPLAIN (ANALYZE, BUFFERS) of the slowest statement is printed for each endpoint over budget.

    .venv/bin/python bench/bench_customers.py --customers 10000,100000 --reuse

See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import shutil
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
GROWTH_BUDGET = 1.3
SCANNED_TABLES = ("customers_customer", "customers_spendrecord", "customers_groupmember")

# The same words at every size. 工商银行 is a group of the demo province (4 characters, the trigram
# path); 杭州 starts ~20% of the names (a 2-character prefix); 银行 and 人寿 sit in the middle of
# hundreds of names (城市商业银行, 中国人寿保险...) and start none, the 2-character search people type most.
WORDS = {"word4": "工商银行", "prefix2": "杭州", "bank": "银行", "life": "人寿"}
# Tiers A1+B1 of manufacturing (C) in 宁波市 and its districts, by value score: ~30 at 10k, ~300 at 100k.
FILTERS = "tier=A1&tier=B1&region=330200&industry=C&ordering=-value_score"
SORT_KEYS = ("name", "revenue", "members_count", "tier", "value_score")  # the list page's sort links
BIG_MEMBERS = 100_000  # group members given to one customer of each size (the 360 member chart)
BIG_MSISDN = "198"  # prefix of those members' numbers: 19800000001 ... 19800100000 (the seeder uses 139)
DEEP_PAGE = 50  # API list page reached by following `next`


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
    drop_cache: str = ""  # cache key (formatted with the targets) deleted before every request: a cold cache
    differs_from: str = ""  # an endpoint whose first page this one must not repeat (a sort that is applied)
    finds: str = ""  # a WORDS key: the search should show rows when live customers' names contain that word
    htmx: bool = False  # asked the way htmx asks (HX-Request): a page's fragment


def _sorts() -> list[Endpoint]:
    return [
        Endpoint(f"page_sort_{'desc_' if desc else ''}{key}", f"page /customers/?ordering={'-' if desc else ''}{key} "
                 "(steward: all)", "steward_liu", "GET", f"/customers/?ordering={'-' if desc else ''}{key}",
                 differs_from="page_list_all")
        for key in SORT_KEYS for desc in (False, True)
    ]  # fmt: skip


# Which user: the account manager for their own portfolio (am_zhang, ~40 customers), the supervisor for a
# team's (sup_wang), the data steward where the question is "over every customer" (lists, sorts, search,
# filters), the call-center agent for caller lookup.
ENDPOINTS = [
    Endpoint(FLOOR, "floor: API contact by pk (steward)", "steward_liu", "GET", "/api/v1/contacts/{contact}/",
             budget=False),
    Endpoint("floor_am", "API contact by pk (account manager)", "am_zhang", "GET", "/api/v1/contacts/{contact}/"),
    Endpoint("api_list_all", "API customer list, page 1 (steward: all)", "steward_liu", "GET",
             "/api/v1/customers/?page_size=25"),
    Endpoint("api_list_am", "API customer list, page 1 (account manager)", "am_zhang", "GET",
             "/api/v1/customers/?page_size=25"),
    Endpoint("api_list_sup", "API customer list, page 1 (supervisor: team)", "sup_wang", "GET",
             "/api/v1/customers/?page_size=25"),
    Endpoint("api_page50", f"API customer list, page {DEEP_PAGE} by cursor (steward: all)", "steward_liu", "GET",
             "{api_page50}"),
    Endpoint("api_filter", "API tiers A1+B1, region 宁波, industry C (steward)", "steward_liu", "GET",
             f"/api/v1/customers/?page_size=25&{FILTERS}"),
    Endpoint("api_search_4", "API search '{word4}' (steward: all)", "steward_liu", "GET",
             "/api/v1/customers/?page_size=25&q={word4_q}", finds="word4"),
    Endpoint("api_search_am", "API search '{word4}' (account manager)", "am_zhang", "GET",
             "/api/v1/customers/?page_size=25&q={word4_q}"),
    Endpoint("api_search_2", "API search '{prefix2}' (2 chars, start of names; steward)", "steward_liu", "GET",
             "/api/v1/customers/?page_size=25&q={prefix2_q}", finds="prefix2"),
    Endpoint("api_search_bank", "API search '{bank}' (2 chars, middle of names; steward)", "steward_liu", "GET",
             "/api/v1/customers/?page_size=25&q={bank_q}", finds="bank"),
    Endpoint("api_search_life", "API search '{life}' (2 chars, middle of names; steward)", "steward_liu", "GET",
             "/api/v1/customers/?page_size=25&q={life_q}", finds="life"),
    Endpoint("api_detail", "API customer detail (account manager)", "am_zhang", "GET", "/api/v1/customers/{customer}/"),
    Endpoint("api_duplicate_check", "API create near-duplicate -> 409 (account manager)", "am_zhang", "POST",
             "/api/v1/customers/", body={"name": "{duplicate_name}"}, expect=409),
    Endpoint("api_lookup", "API caller lookup (agent)", "agent_chen", "GET",
             "/api/v1/customers/lookup/?phone={phone_q}"),
    Endpoint("page_list_all", "page /customers/ (steward: all)", "steward_liu", "GET", "/customers/"),
    Endpoint("page_list_am", "page /customers/ (account manager)", "am_zhang", "GET", "/customers/"),
    Endpoint("page_list_sup", "page /customers/ (supervisor: team)", "sup_wang", "GET", "/customers/"),
    *_sorts(),
    Endpoint("page_filter", f"page /customers/?{FILTERS} (steward)", "steward_liu", "GET", f"/customers/?{FILTERS}"),
    Endpoint("page_search_bank", "page search '{bank}' (steward)", "steward_liu", "GET", "/customers/?q={bank_q}",
             finds="bank"),
    Endpoint("page_search_life", "page search '{life}' (steward)", "steward_liu", "GET", "/customers/?q={life_q}",
             finds="life"),
    Endpoint("page_360", "page /customers/{{id}}/ 360 (account manager)", "am_zhang", "GET", "/customers/{customer}/"),
    Endpoint("page_360_members", f"page 360 of a customer with {BIG_MEMBERS:,} members, chart cache cold (AM)",
             "am_zhang", "GET", "/customers/{members_customer}/", drop_cache="kam:customer-charts:{members_customer}"),
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


def server_env(url: str, var_dir: str, cache_url: str = "") -> dict[str, str]:
    """The server's environment. With `cache_url` (a Redis database) the cache is Redis, as in production;
    without, a per-process memory cache."""
    dropped = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "CACHE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
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
    if cache_url:
        # REDIS_URL switches the cache to Redis (and the broker: nothing measured enqueues a task).
        env.update(REDIS_URL=cache_url, CACHE_URL=cache_url)
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


def members_customer(url: str) -> int | None:
    """The customer holding the benchmark's BIG_MEMBERS members (found by their number), if seeded."""
    rows = pg_query(
        url, "SELECT customer_id FROM customers_groupmember WHERE msisdn = %s LIMIT 1", (f"{BIG_MSISDN}{1:08d}",)
    )
    return rows[0][0] if rows else None


def seed_members(url: str) -> tuple[int, int]:
    """Give one of am_zhang's group customers BIG_MEMBERS members, spread over three years, 10% of them
    gone: one INSERT ... SELECT FROM generate_series, ON CONFLICT DO NOTHING, so a second run adds
    nothing. members_count follows (the active ones). Returns (customer id, members inserted)."""
    customer = (
        members_customer(url)
        or pg_query(
            url,
            "SELECT c.id FROM customers_customer c JOIN channels_user u ON u.id = c.account_manager_id "
            "WHERE u.username = 'am_zhang' AND c.status <> 'merged' ORDER BY c.members_count DESC, c.id LIMIT 1",
        )[0][0]
    )
    inserted = pg_query(
        url,
        """
        WITH added AS (
            INSERT INTO customers_groupmember (customer_id, msisdn, status, joined_on, left_on, updated_at)
            SELECT %(customer)s, %(prefix)s || lpad(g::text, 8, '0'),
                   CASE WHEN g %% 10 = 0 THEN 'left' ELSE 'active' END,
                   current_date - (g * 7919 %% 1095),
                   CASE WHEN g %% 10 = 0 THEN current_date - (g * 7919 %% 1095) * (g / 10 %% 10) / 10 END,
                   now()
            FROM generate_series(1, %(n)s) AS g
            ON CONFLICT (customer_id, msisdn) DO NOTHING
            RETURNING 1
        )
        SELECT count(*) FROM added
        """,
        {"customer": customer, "prefix": BIG_MSISDN, "n": BIG_MEMBERS},
    )[0][0]
    if inserted:
        pg_query(
            url,
            "UPDATE customers_customer SET members_count = (SELECT count(*) FROM customers_groupmember "
            "WHERE customer_id = %s AND status = 'active') WHERE id = %s",
            (customer, customer),
        )
        pg_query(url, "ANALYZE customers_groupmember")
        pg_query(url, "ANALYZE customers_customer")
    return customer, inserted


def targets(url: str) -> dict[str, str]:
    """Ids and strings the requests use: the same words at every size, the same kind of row."""
    customer, name = pg_query(
        url,
        "SELECT c.id, c.name FROM customers_customer c JOIN channels_user u ON u.id = c.account_manager_id "
        "WHERE u.username = 'am_zhang' AND c.parent_id IS NOT NULL ORDER BY c.tier, c.id LIMIT 1",
    )[0]
    contact, mobile = pg_query(
        url, "SELECT id, mobile FROM customers_contact WHERE customer_id = %s ORDER BY id LIMIT 1", (customer,)
    )[0]
    original = pg_query(
        url,
        "SELECT name FROM customers_customer WHERE parent_id IS NULL AND name LIKE '%%科技有限公司' "
        "AND name NOT LIKE '%%股份%%' AND short_name <> '' ORDER BY id LIMIT 1",
    )[0][0]
    big = members_customer(url)
    if big is None:
        raise RuntimeError(
            f"no customer with the benchmark's {BIG_MEMBERS:,} members in {url.rsplit('/', 1)[1]}: "
            "run bench/bench_customers.py --reuse once to add them"
        )
    values = {
        "customer": str(customer),
        "customer_name": name,
        "contact": str(contact),
        "members_customer": str(big),
        "phone": f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
        "duplicate_name": original.replace("有限公司", "有限责任公司"),
        "api_page50": "",  # found over HTTP by discover()
        **WORDS,
    }
    for key in ("phone", *WORDS):
        values[f"{key}_q"] = urllib.parse.quote(values[key])
    return values


def word_facts(url: str) -> dict[str, dict[str, int]]:
    """How many live customers each search word and the filter should find (for the report)."""
    facts = {}
    for word in WORDS.values():
        anywhere, first = pg_query(
            url,
            "SELECT count(*), count(*) FILTER (WHERE name LIKE %s) FROM customers_customer "
            "WHERE status <> 'merged' AND (name LIKE %s OR short_name LIKE %s)",
            (f"{word}%", f"%{word}%", f"%{word}%"),
        )[0]
        facts[word] = {"in_name": anywhere, "at_start": first}
    facts["filter"] = {
        "rows": pg_query(
            url,
            "SELECT count(*) FROM customers_customer WHERE status <> 'merged' AND tier IN ('A1', 'B1') "
            "AND industry_id = 'C' AND region_id LIKE '3302%%'",
        )[0][0]
    }
    return facts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(directory: str) -> tuple[subprocess.Popen, int]:
    """A private redis-server on a free port, no persistence."""
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no", "--dir", directory, "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            client.ping()
            return process, port
        except redis.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("redis-server did not start")


def start_server(env: dict[str, str], port: int, log: Path | None = None, wait: bool = True) -> subprocess.Popen:
    """gunicorn, 2 workers, on 127.0.0.1:port; output to `log` when given. Waits until it answers unless
    `wait` is false (then call wait_for_server)."""
    output = log.open("ab") if log else None
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "kam.wsgi:application", "--workers", "2", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT if output else None,
    )  # fmt: skip
    if output:
        output.close()
    if wait:
        wait_for_server(server, port)
    return server


def wait_for_server(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn on port {port} exited with status {server.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10).read()
            return
        except OSError:  # refused while booting, or a timeout
            time.sleep(0.5)
    server.terminate()
    server.wait(timeout=30)
    raise RuntimeError("gunicorn did not start")


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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

    def request(self, method: str, path: str, body: dict | None, htmx: bool = False) -> tuple[int, float]:
        status, ms, _content = self.fetch(method, path, body, htmx)
        return status, ms

    def fetch(self, method: str, path: str, body: dict | None = None, htmx: bool = False) -> tuple[int, float, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json" if path.startswith("/api/") else "text/html"}
        if htmx:
            headers["HX-Request"] = "true"
        if data is not None:
            headers.update({"Content-Type": "application/json", "X-CSRFToken": self.csrf(), "Referer": self.base})
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method, headers=headers)
        started = time.perf_counter()
        try:
            with self.opener.open(request) as response:
                content = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            content = exc.read()
            status = exc.code
        return status, (time.perf_counter() - started) * 1000, content


def fill(endpoint: Endpoint, values: dict[str, str]) -> tuple[str, dict | None, str]:
    body = {k: v.format(**values) for k, v in endpoint.body.items()} if endpoint.body else None
    return endpoint.path.format(**values), body, endpoint.label.format(**values)


def discover(base: str, password: str, values: dict[str, str]) -> None:
    """Paths only a running server can give: the API list's page DEEP_PAGE, reached by following `next`
    from page 1 as a client does (the API paginates by keyset cursor, kam/api/pagination.py)."""
    session = Session(base, "steward_liu", password)
    path = "/api/v1/customers/?page_size=25"
    for _page in range(DEEP_PAGE - 1):
        status, _ms, content = session.fetch("GET", path)
        following = json.loads(content).get("next") if status == 200 else None
        if not following:
            raise RuntimeError(f"{base}{path} answered {status} without a next page")
        parts = urllib.parse.urlsplit(following)
        path = f"{parts.path}?{parts.query}"
    values["api_page50"] = path


def cache_key(endpoint: Endpoint, values: dict[str, str]) -> str:
    """The Redis key Django's cache stores `endpoint.drop_cache` under (default KEY_FUNCTION, version 1)."""
    from django.core.cache.backends.base import default_key_func

    return default_key_func(endpoint.drop_cache.format(**values), "", 1)


# --- interleaved measurement -------------------------------------------------------------------------------


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)  # nearest rank
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(
    servers: dict[int, dict], password: str, requests: int, warmup: int, seed: int, endpoints: list | None = None
) -> dict[int, dict]:
    """`servers`: {size: {"base": URL, "values": targets, "redis": client of its cache database}}; `endpoints`
    (default ENDPOINTS, the floor among them) what is asked.

    One status check of every endpoint at every size, then `warmup` untimed and `requests` timed rounds.
    In a round, every endpoint (in a shuffled order) is asked at every size (in a shuffled order), each
    time right after the floor at that size. Returns per size and endpoint the samples and statuses, and
    the floor samples taken next to it."""
    endpoints = endpoints or ENDPOINTS
    sizes = list(servers)
    rng = random.Random(seed)
    sessions: dict[int, dict[str, Session]] = {size: {} for size in sizes}
    prepared: dict[int, dict[str, tuple]] = {size: {} for size in sizes}
    for size, server in servers.items():
        for endpoint in endpoints:
            if endpoint.user not in sessions[size]:
                sessions[size][endpoint.user] = Session(server["base"], endpoint.user, password)
            path, body, _label = fill(endpoint, server["values"])
            key = cache_key(endpoint, server["values"]) if endpoint.drop_cache else ""
            prepared[size][endpoint.key] = (sessions[size][endpoint.user], path, body, key)

    def ask(size: int, endpoint: Endpoint) -> tuple[int, float]:
        session, path, body, key = prepared[size][endpoint.key]
        if key:
            servers[size]["redis"].delete(key)
        return session.request(endpoint.method, path, body, endpoint.htmx)

    out = {
        size: {e.key: {"ms": [], "floor_ms": [], "statuses": set(), "first_status": None} for e in endpoints}
        for size in sizes
    }
    for size in sizes:
        for endpoint in endpoints:
            row = out[size][endpoint.key]
            row["first_status"] = ask(size, endpoint)[0]
            if endpoint.drop_cache:  # the page must have cached what the benchmark drops, or it measures nothing
                row["cache_key_found"] = bool(servers[size]["redis"].exists(prepared[size][endpoint.key][3]))
    floor = next(e for e in endpoints if e.key == FLOOR)
    judged = [e for e in endpoints if e.key != FLOOR]
    started = time.monotonic()
    for i in range(warmup + requests):
        rng.shuffle(judged)
        for endpoint in judged:
            order = sizes[:]
            rng.shuffle(order)
            for size in order:
                status_floor, ms_floor = ask(size, floor)
                status, ms = ask(size, endpoint)
                out[size][FLOOR]["statuses"].add(status_floor)
                out[size][endpoint.key]["statuses"].add(status)
                if i >= warmup:
                    out[size][FLOOR]["ms"].append(ms_floor)
                    out[size][endpoint.key]["ms"].append(ms)
                    out[size][endpoint.key]["floor_ms"].append(ms_floor)
        if i + 1 == warmup or (i >= warmup and (i + 1 - warmup) % 10 == 0) or i + 1 == warmup + requests:
            done = "warm-up done" if i + 1 == warmup else f"{i + 1 - warmup}/{requests} timed rounds"
            print(f"    {done} ({time.monotonic() - started:.0f} s, load {os.getloadavg()[0]:.1f})", flush=True)
    for size in sizes:
        for row in out[size].values():
            row["statuses"] = sorted(row["statuses"])
            row["p50"] = statistics.median(row["ms"])
            row["p95"] = p95(row["ms"])
            row["ms"] = [round(ms, 2) for ms in row["ms"]]
            row["floor_ms"] = [round(ms, 2) for ms in row["floor_ms"]]
    return out


# --- query counts and plans (in-process, run as a subprocess with the size's DATABASE_URL) ----------------


def seq_scans(plan: dict, tables=SCANNED_TABLES) -> list[str]:
    """Tables of `tables` read by a (Parallel) Seq Scan anywhere in an EXPLAIN (FORMAT JSON) plan."""
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in tables:
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found += seq_scans(child, tables)
    return found


def count_queries(values: dict[str, str], endpoints: list | None = None, tables=SCANNED_TABLES) -> dict[str, dict]:
    """Each endpoint once in-process (after a warm-up call), twice captured: query count, rows shown,
    the slowest statement (the lower of its two times) with EXPLAIN (ANALYZE, BUFFERS), and the tables
    any SELECT reads with a Seq Scan."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from channels.models import User

    setup_test_environment()  # response.context, to count the rows a page shows
    clients: dict[str, Client] = {}
    out = {}
    for endpoint in endpoints or ENDPOINTS:
        if endpoint.user not in clients:
            clients[endpoint.user] = Client(HTTP_ACCEPT="application/json")
            clients[endpoint.user].force_login(User.objects.get(username=endpoint.user))
        client = clients[endpoint.user]
        path, body, _label = fill(endpoint, values)
        accept = "application/json" if path.startswith("/api/") else "text/html"
        call = client.post if endpoint.method == "POST" else client.get
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
        if endpoint.htmx:
            kwargs["HTTP_HX_REQUEST"] = "true"
        call(path, HTTP_ACCEPT=accept, **kwargs)  # warm caches (lexicon, content types) like a running server
        runs = []
        for _attempt in range(2):
            if endpoint.drop_cache:
                cache.delete(endpoint.drop_cache.format(**values))
            with CaptureQueriesContext(connection) as captured:
                response = call(path, HTTP_ACCEPT=accept, **kwargs)
            runs.append(list(captured.captured_queries))
        queries = runs[-1]
        row = {"queries": len(queries), "status": response.status_code, "rows": None, "total": None, "ids": None}
        if accept == "application/json" and response.status_code == 200:
            data = response.json()
            rows = data.get("results") if isinstance(data, dict) else data
            if isinstance(rows, list):
                row["rows"], row["ids"] = len(rows), [r.get("id") for r in rows if isinstance(r, dict)]
        elif response.context is not None and response.context.get("paginator") is not None:
            page = response.context.get("page")
            shown = list(page.object_list) if page is not None else []
            row["rows"], row["ids"] = len(shown), [c.pk for c in shown]
            row["total"] = response.context["paginator"].count_display
        if len(runs[0]) == len(runs[1]):  # same statements: the lower time of each is the less noisy one
            times = [min(float(a["time"]), float(b["time"])) for a, b in zip(runs[0], runs[1], strict=True)]
        else:
            times = [float(q["time"]) for q in queries]
        scans = []
        with connection.cursor() as cursor:
            for query in queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    continue
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                for table in seq_scans(plan[0]["Plan"], tables):
                    scans.append({"table": table, "sql": sql[:500]})
            if queries:
                index = max(range(len(queries)), key=times.__getitem__)
                slowest = queries[index]["sql"]
                row.update(slowest_ms=times[index] * 1000, slowest_sql=slowest)
                if slowest.lstrip().upper().startswith(("SELECT", "WITH")):
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest)
                    row["explain"] = "\n".join(r[0] for r in cursor.fetchall())
        row["seq_scans"] = scans
        out[endpoint.key] = row
    return out


def query_counts(env: dict[str, str], values: dict[str, str], script: str = __file__) -> dict[str, dict]:
    """count_queries in a subprocess with the size's settings; `script` answers --internal-count-queries."""
    env = {k: v for k, v in env.items() if k not in ("REDIS_URL", "CACHE_URL")}  # its own memory cache
    result = subprocess.run(
        [PYTHON, script, "--internal-count-queries", json.dumps(values)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode:
        raise RuntimeError(f"counting queries failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- report ---------------------------------------------------------------------------------------------


def short(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def judge(sizes: list[int], runs: dict[int, dict], endpoints: list | None = None) -> dict[str, dict]:
    """Per endpoint: the figures of the table and what fails (problems) or is flagged (flags)."""
    small = sizes[0]
    floors = {size: runs[size]["http"][FLOOR] for size in sizes}
    verdicts = {}
    for endpoint in endpoints or ENDPOINTS:
        problems, flags = [], []
        v = verdicts[endpoint.key] = {"ratio": {}, "growth_p95": {}, "growth_p50": {}, "growth_paired": {}}
        for size in sizes:
            http = runs[size]["http"][endpoint.key]
            v["ratio"][size] = http["p95"] / floors[size]["p95"]
            if http["first_status"] != endpoint.expect or http["statuses"] != [endpoint.expect]:
                problems.append(f"status {sorted({http['first_status'], *http['statuses']})} at {short(size)}")
            if endpoint.budget and v["ratio"][size] > RATIO_BUDGET:
                problems.append(f"{v['ratio'][size]:.1f}x floor at {short(size)}")
            if http.get("cache_key_found") is False:
                flags.append(f"cache key not found at {short(size)}: measured warm")
            shown = runs[size]["queries"][endpoint.key]["rows"]
            if endpoint.finds and shown == 0 and runs[size]["facts"][WORDS[endpoint.finds]]["in_name"]:
                facts = runs[size]["facts"][WORDS[endpoint.finds]]
                flags.append(f"no rows at {short(size)} though {facts['in_name']:,} names contain it")
            if endpoint.differs_from:
                queries = runs[size]["queries"]
                if (
                    queries[endpoint.key]["ids"]
                    and queries[endpoint.key]["ids"] == queries[endpoint.differs_from]["ids"]
                ):
                    flags.append(
                        f"same rows as {endpoint.differs_from} at {short(size)} (sort ignored, or all values equal)"
                    )
            if size != small or len(sizes) == 1:
                tables = sorted({scan["table"] for scan in runs[size]["queries"][endpoint.key]["seq_scans"]})
                if tables:
                    flags.append(f"Seq Scan on {', '.join(tables)} at {short(size)}")
        for size in sizes[1:]:
            large, base = runs[size]["http"][endpoint.key], runs[small]["http"][endpoint.key]
            v["growth_p95"][size] = large["p95"] / base["p95"]
            v["growth_p50"][size] = large["p50"] / base["p50"]
            # The same round's two requests side by side (JSON only): the least noisy growth figure.
            v["growth_paired"][size] = statistics.median(a / b for a, b in zip(large["ms"], base["ms"], strict=True))
            if endpoint.budget and v["growth_p95"][size] > GROWTH_BUDGET:
                problems.append(f"p95 grew {v['growth_p95'][size]:.2f}x to {short(size)}")
        counts = [runs[size]["queries"][endpoint.key]["queries"] for size in sizes]
        if len(set(counts)) > 1:
            problems.append(f"query count {'/'.join(map(str, counts))}")
        v["problems"], v["flags"] = problems, flags
        v["fails"] = bool(problems) and (endpoint.budget or any(p.startswith("status") for p in problems))
    return verdicts


def report(sizes: list[int], runs: dict[int, dict], meta: dict) -> tuple[str, bool, dict]:
    small, large = sizes[0], sizes[-1]
    verdicts = judge(sizes, runs)

    def facts(key: str, field: str) -> str:
        return "/".join(f"{runs[size]['facts'][key][field]:,}" for size in sizes)

    labels = {e.key: fill(e, runs[large]["targets"])[2] for e in ENDPOINTS}
    seeding = ", ".join(
        f"{short(size)} seeded in {runs[size]['seed_seconds']:.0f} s" if runs[size]["seed_seconds"]
        else f"{short(size)} reused" for size in sizes
    )  # fmt: skip
    lines = [
        f"# Customer endpoints benchmark ({meta['started']})",
        "",
        f"- sizes {', '.join(f'{s:,}' for s in sizes)} customers, served side by side (gunicorn, 2 workers "
        f"each; Redis cache) and measured interleaved: {meta['requests']} timed rounds after {meta['warmup']} "
        "warm-up rounds; in each round every endpoint at every size (shuffled), each request right after the "
        f"floor at the same size. Measuring took {meta['measure_seconds']:.0f} s; load average "
        f"{meta['load_before']:.1f} before, {meta['load_after']:.1f} after. Databases: {seeding}.",
        f"- budgets: p95 <= {RATIO_BUDGET:g}x the floor's p95 at every size; p95 growth from {short(small)} "
        f"<= {GROWTH_BUDGET:g}x; the same query count at every size; the expected status. Seq Scans on "
        f"{', '.join(SCANNED_TABLES)} are flagged (not judged) at the sizes above {short(small)}.",
        f"- floor = {labels[FLOOR]}, p95 of every floor request of the run at that size.",
        "- search words and filter, the same at every size (live customers at "
        + "/".join(short(s) for s in sizes)
        + "): "
        + "; ".join(
            f"'{word}' in {facts(word, 'in_name')} names, at the start of {facts(word, 'at_start')}"
            for word in WORDS.values()
        )
        + f"; the filter matches {facts('filter', 'rows')}.",
        "",
    ]
    table, ok = results_table(sizes, runs, verdicts, ENDPOINTS)
    return "\n".join(lines + table), ok, verdicts


def results_table(sizes: list[int], runs: dict[int, dict], verdicts: dict, endpoints: list) -> tuple[list[str], bool]:
    """The table (one row per endpoint), the slowest statements, the Seq Scans, the EXPLAIN of what failed and
    the verdict line; with whether everything passed."""
    large = sizes[-1]
    labels = {e.key: fill(e, runs[large]["targets"])[2] for e in endpoints}
    lines = []
    header = ["endpoint"]
    for size in sizes:
        header += [f"p50 {short(size)}", f"p95 {short(size)}", f"x floor {short(size)}"]
    for size in sizes[1:]:
        header += [f"growth p95 {short(size)}", f"growth p50 {short(size)}"]
    header += ["queries", "rows", "verdict"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for endpoint in endpoints:
        v = verdicts[endpoint.key]
        cells = [labels[endpoint.key]]
        for size in sizes:
            http = runs[size]["http"][endpoint.key]
            cells += [f"{http['p50']:.1f}", f"{http['p95']:.1f}", f"{v['ratio'][size]:.1f}x"]
        for size in sizes[1:]:
            cells += [f"{v['growth_p95'][size]:.2f}x", f"{v['growth_p50'][size]:.2f}x"]
        counts = [str(runs[size]["queries"][endpoint.key]["queries"]) for size in sizes]
        cells.append(counts[0] if len(set(counts)) == 1 else "/".join(counts))
        shown = [runs[size]["queries"][endpoint.key]["rows"] for size in sizes]
        cells.append("–" if all(r is None for r in shown) else "/".join("–" if r is None else str(r) for r in shown))
        text = "PASS" if not v["fails"] else "**FAIL**: " + "; ".join(v["problems"])
        if not endpoint.budget:
            text = "not judged" + (": " + "; ".join(v["problems"]) if v["problems"] else "")
        if v["flags"]:
            text += " · flag: " + "; ".join(v["flags"])
        cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    ok = not any(v["fails"] for v in verdicts.values())
    lines += [
        "",
        "Times in ms over HTTP. growth = p95 (or p50) at that size / at the smallest, both from the same rounds. "
        "rows = rows on the first page at each size (an API list or a list page).",
        "",
        f"## Slowest SQL statement per endpoint at {large:,}",
        "",
    ]
    for endpoint in endpoints:
        q = runs[large]["queries"][endpoint.key]
        if "slowest_sql" in q:
            lines.append(f"- **{endpoint.key}** ({q['queries']} queries, slowest {q['slowest_ms']:.1f} ms): "
                         f"`{q['slowest_sql'][:300]}`")  # fmt: skip
    scans = [
        (endpoint.key, size, scan)
        for endpoint in endpoints
        for size in (sizes[1:] or sizes)
        for scan in runs[size]["queries"][endpoint.key]["seq_scans"]
    ]
    if scans:
        lines += ["", "## Seq Scans on the big tables", ""]
        lines += [f"- **{key}** at {size:,}: {scan['table']} in `{scan['sql'][:300]}`" for key, size, scan in scans]
    for endpoint in endpoints:
        if verdicts[endpoint.key]["fails"]:
            q = runs[large]["queries"][endpoint.key]
            if q.get("explain"):
                lines += ["", f"### EXPLAIN (ANALYZE, BUFFERS), {endpoint.key} at {large:,}", "", "```",
                          q["slowest_sql"][:2000], "", q["explain"], "```"]  # fmt: skip
    failing = [key for key, v in verdicts.items() if v["fails"]]
    lines += ["", f"**{'PASS' if ok else 'FAIL'}**" + (f": {', '.join(failing)}" if failing else ""), ""]
    return lines, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--customers",
        default="10000,100000",
        help="comma-separated sizes, judged against the smallest (default 10000,100000)",
    )
    parser.add_argument("--requests", type=int, default=40, help="timed rounds (requests per endpoint and size; 40)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first (every worker warm)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the shuffled order within rounds")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432"),
        help="server to create kam_bench_<size> databases on",
    )
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded kam_bench_<size> database")
    parser.add_argument("--internal-count-queries", help=argparse.SUPPRESS)
    args = parser.parse_args()  # fmt: skip
    if args.internal_count_queries:
        print(json.dumps(count_queries(json.loads(args.internal_count_queries))))
        return 0

    sizes = sorted({int(s) for s in args.customers.split(",")})
    if len(sizes) > 15:
        raise SystemExit("at most 15 sizes (one Redis database each)")
    password = os.environ.get("DEMO_PASSWORD", "kam-demo-2026")
    meta = {"started": f"{datetime.now():%Y-%m-%d %H:%M}", "requests": args.requests, "warmup": args.warmup,
            "seed": args.seed}  # fmt: skip
    runs: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="kam-bench-") as var_dir:
        os.makedirs(os.path.join(var_dir, "staticfiles"))  # whitenoise wants STATIC_ROOT to exist
        urls = {size: f"{args.database_url.rstrip('/')}/kam_bench_{size}" for size in sizes}
        for size, url in urls.items():
            seed_seconds = prepare(size, url, server_env(url, var_dir), args.reuse)
            customer, inserted = seed_members(url)
            if inserted:  # the 360 chart reads the monthly member counts: rebuild this customer's
                run([PYTHON, "manage.py", "shell", "--no-imports", "-c",
                     "from customers.services import member_months_recompute; "
                     f"member_months_recompute(customer_ids=[{int(customer)}])"], server_env(url, var_dir))  # fmt: skip
            print(f"[{size}] customer {customer} has the {BIG_MEMBERS:,} benchmark members ({inserted:,} added now)")
            runs[size] = {"seed_seconds": seed_seconds, "targets": targets(url), "facts": word_facts(url)}

        import redis

        redis_server, redis_port = start_redis(var_dir)
        servers: dict[int, dict] = {}
        try:
            for index, (size, url) in enumerate(urls.items(), start=1):
                cache_url = f"redis://127.0.0.1:{redis_port}/{index}"
                env = server_env(url, var_dir, cache_url)
                port = free_port()
                while any(s["port"] == port for s in servers.values()):
                    port = free_port()
                log = Path(var_dir) / f"gunicorn-{size}.log"
                servers[size] = {
                    "process": start_server(env, port, log, wait=False), "port": port, "env": env, "log": log,
                    "base": f"http://127.0.0.1:{port}", "values": runs[size]["targets"],
                    "redis": redis.Redis(port=redis_port, db=index),
                }  # fmt: skip
            for server in servers.values():
                wait_for_server(server["process"], server["port"])
            for server in servers.values():
                Session(server["base"], "am_zhang", password)  # both workers up and loaded
                discover(server["base"], password, server["values"])
            print(f"measuring {len(ENDPOINTS) - 1} endpoints and the floor at {', '.join(map(short, sizes))}: "
                  f"{args.warmup} + {args.requests} rounds", flush=True)  # fmt: skip
            meta["load_before"] = os.getloadavg()[0]
            started = time.monotonic()
            http_results = measure(servers, password, args.requests, args.warmup, args.seed)
            meta["measure_seconds"] = time.monotonic() - started
            meta["load_after"] = os.getloadavg()[0]
        finally:
            for server in servers.values():
                stop(server["process"])
            stop(redis_server)
        for size, server in servers.items():
            errors = [line for line in server["log"].read_text(encoding="utf-8", errors="replace").splitlines()
                      if any(m in line for m in (" ERROR ", "Traceback", "[CRITICAL]"))]  # fmt: skip
            runs[size].update(http=http_results[size], server_errors=errors)
            print(f"[{size}] counting queries and EXPLAINing them", flush=True)
            runs[size]["queries"] = query_counts(server["env"], runs[size]["targets"])
    text, ok, verdicts = report(sizes, runs, meta)
    for size in sizes:
        if runs[size]["server_errors"]:
            text += (f"\nThe {size:,} server logged {len(runs[size]['server_errors'])} error lines, first: "
                     f"`{runs[size]['server_errors'][0][:200]}`\n")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"customers-{stamp}.md").write_text(text, encoding="utf-8")
    raw = {"meta": meta, "sizes": sizes, "runs": runs, "verdicts": verdicts}
    (RESULTS / f"customers-{stamp}.json").write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")
    print(text)
    print(f"\nwritten to {RESULTS}/customers-{stamp}.md")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
