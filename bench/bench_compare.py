"""Paired before/after benchmark of the customer endpoints: is the current tree slower than a base tree?

The endpoints, targets, logins and server environment of bench_customers.py (each server with its own
cache database on a private redis-server), served at the same time by TWO gunicorn servers (2 workers
each) on the same, already seeded database `kam_bench_<size>`: one runs the
code of `--base-tree` (default /work/bench-base, a git worktree of the commit before the change; same
Python venv, imported from that tree only), the other runs this tree. Then, round after round, every
endpoint gets one request to each server, alternating which server goes first from one round to the next.

Why paired: this machine is shared (other benchmarks, test runs, builds on 2 cores) and noisy. Absolute
times from two separate runs differ by ±50% with no code change, so "before" and "after" measured at
different moments compare nothing. Measured in the same rounds, a burst of noise hits both servers alike
and the ratio current/base holds; only ratios from one run mean anything, not the milliseconds.

Verdict per endpoint: "slower" when the current/base ratio exceeds 1.10 at p50 AND at p95, "faster" when
both are below 1/1.10, "same" otherwise. The floor row (an API detail by primary key) shows what every
request pays (middleware, authentication, settings); it is judged like the others. Before timing, each
server must answer every endpoint with the expected status: a row the base tree answers differently
(e.g. a URL that moved) is reported and skipped; a row the current tree answers wrongly fails the run.
Exit status 1 when any endpoint is slower or the current tree answers a wrong status, 2 when the run is
refused (database missing or not seeded with exactly <size> demo customers, unapplied migrations, no
base tree).

    .venv/bin/python bench/bench_compare.py --customers 10000,100000 --requests 200

Seed the databases first with bench_customers.py (`--reuse` keeps them). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_customers import (  # noqa: E402
    ENDPOINTS,
    FLOOR,
    PYTHON,
    RESULTS,
    Session,
    cache_key,
    demo_customers,
    discover,
    fill,
    free_port,
    members_customer,
    server_env,
    start_redis,
    stop,
    targets,
)

THRESHOLD = 1.10  # current/base ratio beyond which (at p50 and p95) an endpoint is "slower"
TREES = ("base", "current")


class Refused(Exception):
    """The run cannot be measured as asked (exit status 2)."""


# --- trees and servers --------------------------------------------------------------------------------


def tree_env(tree: Path, url: str, var_dir: Path, cache_url: str) -> dict[str, str]:
    """bench_customers' server environment (its own Redis cache database), importing the project from
    `tree` and nothing else."""
    (var_dir / "staticfiles").mkdir(parents=True, exist_ok=True)  # whitenoise wants STATIC_ROOT to exist
    env = server_env(url, str(var_dir), cache_url)
    env["PYTHONPATH"] = str(tree)
    if tree != ROOT:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave the base tree as it is (no __pycache__)
    return env


def check_migrations(tree: Path, env: dict[str, str], name: str) -> None:
    result = subprocess.run(
        [PYTHON, "manage.py", "migrate", "--check", "-v0"], cwd=tree, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise Refused(
            f"{name} tree {tree}: `manage.py migrate --check` failed on {env['DATABASE_URL'].rsplit('/', 1)[1]} "
            f"(unapplied migrations, or the tree does not start):\n{result.stderr[-2000:]}"
        )


def migration_files(tree: Path) -> set[str]:
    return {str(p.relative_to(tree)) for p in tree.glob("*/migrations/[0-9]*.py")}


def describe(tree: Path) -> str:
    """Path and commit (read-only git; `--no-optional-locks` so nobody else's index is touched)."""
    git = ["git", "--no-optional-locks", "-C", str(tree)]
    try:
        commit = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return str(tree)
    return f"{tree} @ {commit.stdout.strip()}" + (" + uncommitted changes" if dirty.stdout.strip() else "")


def server_log(env: dict[str, str]) -> Path:
    return Path(env["KAM_VAR_DIR"]) / "gunicorn.log"


def start_servers(trees: dict[str, Path], envs: dict[str, dict[str, str]]) -> dict[str, tuple[subprocess.Popen, str]]:
    """bench_customers.start_server, but with each tree as the working directory (gunicorn imports
    kam.wsgi from there), both servers booting at once and their output in a log file each (the expected
    409s are logged as warnings whatever LOG_LEVEL says). Returns {name: (process, base URL)}."""
    servers: dict[str, tuple[subprocess.Popen, str]] = {}
    ports: set[int] = set()
    for name, tree in trees.items():
        port = free_port()
        while port in ports:
            port = free_port()
        ports.add(port)
        with server_log(envs[name]).open("ab") as log:
            process = subprocess.Popen(
                [str(Path(PYTHON).parent / "gunicorn"), "kam.wsgi:application", "--workers", "2", "--bind",
                 f"127.0.0.1:{port}", "--log-level", "warning"],
                cwd=tree, env=envs[name], stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        servers[name] = (process, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 90
        for name, (process, base) in servers.items():
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"gunicorn for the {name} tree exited with status {process.returncode}:\n"
                        + server_log(envs[name]).read_text(errors="replace")[-3000:]
                    )
                try:
                    urllib.request.urlopen(f"{base}/login/", timeout=10).read()
                    break
                except OSError:  # refused while booting, or a timeout
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"gunicorn for the {name} tree did not start") from None
                    time.sleep(0.5)
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def log_errors(env: dict[str, str]) -> list[str]:
    """Lines of a server's log worse than the expected warnings (tracebacks, 500s, worker timeouts)."""
    text = server_log(env).read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if any(m in line for m in (" ERROR ", "Traceback", "[CRITICAL]"))]


def stop_servers(servers: dict[str, tuple[subprocess.Popen, str]]) -> None:
    for process, _base in servers.values():
        process.terminate()
    for process, _base in servers.values():
        process.wait(timeout=30)


# --- measurement --------------------------------------------------------------------------------------


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)  # the same nearest-rank p95 as bench_customers.measure
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure_paired(
    bases: dict[str, str], caches: dict[str, object], values: dict[str, str], password: str, requests: int, warmup: int
) -> dict:
    """One status check per endpoint and server, then rounds: in each, every endpoint once on each server,
    base first in even rounds and current first in odd ones. `caches`: each server's Redis cache database,
    where an endpoint's `drop_cache` key is deleted before each of its requests."""
    sessions: dict[str, dict[str, Session]] = {tree: {} for tree in TREES}
    prepared = []
    for endpoint in ENDPOINTS:
        path, body, _label = fill(endpoint, values)
        for tree in TREES:
            if endpoint.user not in sessions[tree]:
                sessions[tree][endpoint.user] = Session(bases[tree], endpoint.user, password)
        prepared.append((endpoint, path, body))

    def ask(tree: str, endpoint, path: str, body) -> tuple[int, float]:
        if endpoint.drop_cache:
            caches[tree].delete(cache_key(endpoint, values))
        return sessions[tree][endpoint.user].request(endpoint.method, path, body)

    first = {
        endpoint.key: {tree: ask(tree, endpoint, path, body)[0] for tree in TREES} for endpoint, path, body in prepared
    }
    active = [row for row in prepared if all(status == row[0].expect for status in first[row[0].key].values())]
    for endpoint, _path, _body in prepared:
        if any(status != endpoint.expect for status in first[endpoint.key].values()):
            print(f"    {endpoint.key:<20} SKIPPED: expected {endpoint.expect}, got {first[endpoint.key]}")

    times = {tree: {endpoint.key: [] for endpoint, _p, _b in active} for tree in TREES}
    statuses = {tree: {endpoint.key: set() for endpoint, _p, _b in active} for tree in TREES}
    for i in range(warmup + requests):
        order = TREES if i % 2 == 0 else TREES[::-1]
        for endpoint, path, body in active:
            for tree in order:
                status, ms = ask(tree, endpoint, path, body)
                statuses[tree][endpoint.key].add(status)
                if i >= warmup:
                    times[tree][endpoint.key].append(ms)

    rows = {}
    for endpoint, _path, _body in prepared:
        row = rows[endpoint.key] = {"expect": endpoint.expect, "first_status": first[endpoint.key]}
        if endpoint.key not in times["base"]:
            continue
        for tree in TREES:
            samples = times[tree][endpoint.key]
            row[tree] = {
                "p50": statistics.median(samples),
                "p95": p95(samples),
                "statuses": sorted(statuses[tree][endpoint.key]),
                "ms": [round(ms, 2) for ms in samples],
            }
        row["ratio_p50"] = row["current"]["p50"] / row["base"]["p50"]
        row["ratio_p95"] = row["current"]["p95"] / row["base"]["p95"]
        # The same round's two requests side by side: the most noise-proof figure (JSON only).
        row["paired_median_ratio"] = statistics.median(
            c / b for c, b in zip(times["current"][endpoint.key], times["base"][endpoint.key], strict=True)
        )
        row["verdict"] = verdict(row["ratio_p50"], row["ratio_p95"])
        print(
            f"    {endpoint.key:<20} base {row['base']['p50']:6.1f}/{row['base']['p95']:6.1f} ms  "
            f"current {row['current']['p50']:6.1f}/{row['current']['p95']:6.1f} ms  "
            f"x{row['ratio_p50']:.2f}  {row['verdict']}"
        )
    return rows


def verdict(ratio_p50: float, ratio_p95: float) -> str:
    if ratio_p50 > THRESHOLD and ratio_p95 > THRESHOLD:
        return "slower"
    if ratio_p50 < 1 / THRESHOLD and ratio_p95 < 1 / THRESHOLD:
        return "faster"
    return "same"


def problems(row: dict) -> list[str]:
    """Why a row fails the run: the current tree answering anything but the expected status."""
    if row["first_status"]["current"] != row["expect"]:
        return [f"current answers {row['first_status']['current']} (expected {row['expect']})"]
    if "current" in row and row["current"]["statuses"] != [row["expect"]]:
        return [f"current answered {row['current']['statuses']} while timed"]
    return []


# --- report -------------------------------------------------------------------------------------------


def report(size: int, run: dict) -> tuple[str, bool]:
    labels = {e.key: fill(e, run["targets"])[2] for e in ENDPOINTS}
    lines = [
        f"## {size:,} customers (`kam_bench_{size}`)",
        "",
        "| endpoint | base p50 | base p95 | current p50 | current p95 | current/base p50 ratio "
        "| current/base p95 ratio | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ok = True
    notes = []
    for endpoint in ENDPOINTS:
        row = run["rows"][endpoint.key]
        failing = problems(row)
        if "base" not in row:
            reason = "; ".join(failing) or f"base answers {row['first_status']['base']} (expected {row['expect']})"
            lines.append(f"| {labels[endpoint.key]} | – | – | – | – | – | – | skipped: {reason} |")
            notes.append(f"- {endpoint.key} skipped: {reason}")
            ok = ok and not failing
            continue
        cells = [labels[endpoint.key]]
        for tree in TREES:
            cells += [f"{row[tree]['p50']:.1f}", f"{row[tree]['p95']:.1f}"]
        cells += [f"{row['ratio_p50']:.2f}", f"{row['ratio_p95']:.2f}"]
        text = row["verdict"]
        if row["base"]["statuses"] != [row["expect"]]:
            notes.append(f"- {endpoint.key}: base answered {row['base']['statuses']} while timed")
        if failing:
            text += " — FAIL: " + "; ".join(failing)
        cells.append(f"**{text}**" if row["verdict"] == "slower" or failing else text)
        ok = ok and row["verdict"] != "slower" and not failing
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    floor = run["rows"][FLOOR]
    if "base" in floor:
        lines.append(
            f"Floor ratio (current/base): p50 {floor['ratio_p50']:.2f}, p95 {floor['ratio_p95']:.2f}. A shift "
            "common to every request (middleware, authentication, settings) shows here; a row well above the "
            "floor's ratio points at that endpoint's own code."
        )
    else:
        lines.append("Floor row skipped: no common baseline for this size.")
    for tree, errors in run["server_errors"].items():
        if errors:
            notes.append(f"- {tree} server logged {len(errors)} error lines, first: `{errors[0][:200]}`")
    if notes:
        lines += [""] + notes
    lines.append("")
    return "\n".join(lines), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", default="100000", help="comma-separated sizes; kam_bench_<size> must exist")
    parser.add_argument("--requests", type=int, default=200, help="timed rounds (requests per endpoint and server)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed rounds first (every worker warm)")
    parser.add_argument(
        "--base-tree",
        type=Path,
        default=Path("/work/bench-base"),
        help="checkout of the code to compare against (default /work/bench-base)",
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432"),
                        help="server holding the kam_bench_<size> databases")  # fmt: skip
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.customers.split(","))
    trees = {"base": args.base_tree.resolve(), "current": ROOT}
    password = os.environ.get("DEMO_PASSWORD", "kam-demo-2026")
    urls = {size: f"{args.database_url.rstrip('/')}/kam_bench_{size}" for size in sizes}

    try:
        if not (trees["base"] / "manage.py").is_file() or not (trees["base"] / "kam" / "wsgi.py").is_file():
            raise Refused(f"--base-tree {trees['base']} is not a checkout of this project (no manage.py, kam/wsgi.py)")
        for size, url in urls.items():
            found = demo_customers(url)
            if found != size:
                state = "does not exist or is not migrated" if found < 0 else f"holds {found:,} demo customers"
                raise Refused(
                    f"database kam_bench_{size} {state}; seed it first: "
                    f".venv/bin/python bench/bench_customers.py --customers {size} --reuse"
                )
            if members_customer(url) is None:
                raise Refused(
                    f"database kam_bench_{size} has no customer with the benchmark's group members; add them: "
                    f".venv/bin/python bench/bench_customers.py --customers {size} --reuse"
                )
    except Refused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2

    base_only = sorted(migration_files(trees["base"]) - migration_files(ROOT))
    current_only = sorted(migration_files(ROOT) - migration_files(trees["base"]))
    schema = (
        "same migrations in both trees"
        if not base_only and not current_only
        else f"migrations only in current: {current_only or 'none'}; only in base: {base_only or 'none'}"
    )
    header = [
        f"# Customer endpoints, paired before/after ({datetime.now():%Y-%m-%d %H:%M})",
        "",
        f"- base: {describe(trees['base'])}",
        f"- current: {describe(ROOT)}",
        f"- one database per size, shared by both servers ({schema}); each tree on its own gunicorn "
        f"(2 workers); {args.requests} timed rounds after {args.warmup} warm-up rounds, each round one request "
        "per endpoint to each server, alternating which goes first.",
        f"- times in ms over HTTP; verdict: slower when the current/base ratio > {THRESHOLD:.2f} at p50 and p95, "
        f"faster when both < {1 / THRESHOLD:.2f}. The machine is shared: only the ratios mean anything.",
        "",
    ]
    print("\n".join(header))

    import redis

    sections, runs, ok = [], {}, True
    redis_server = None
    try:
        with tempfile.TemporaryDirectory(prefix="kam-bench-compare-") as var_dir:
            redis_server, redis_port = start_redis(var_dir)
            for size, url in urls.items():
                dbs = {name: index for index, name in enumerate(TREES, start=1)}
                caches = {name: redis.Redis(port=redis_port, db=db) for name, db in dbs.items()}
                for cache in caches.values():
                    cache.flushdb()  # the previous size's entries (same ids, other rows)
                envs = {
                    name: tree_env(tree, url, Path(var_dir) / name, f"redis://127.0.0.1:{redis_port}/{dbs[name]}")
                    for name, tree in trees.items()
                }
                for name, tree in trees.items():
                    check_migrations(tree, envs[name], name)
                values = targets(url)
                servers = start_servers(trees, envs)
                try:
                    bases = {name: base for name, (_process, base) in servers.items()}
                    for base in bases.values():
                        Session(base, "am_zhang", password)  # both workers up and loaded
                    discover(bases["current"], password, values)
                    print(f"[{size}] measuring {args.requests} paired rounds ({bases})")
                    rows = measure_paired(bases, caches, values, password, args.requests, args.warmup)
                finally:
                    stop_servers(servers)
                runs[size] = {"targets": values, "rows": rows}
                runs[size]["server_errors"] = {name: log_errors(env) for name, env in envs.items()}
                text, size_ok = report(size, runs[size])
                sections.append(text)
                ok = ok and size_ok
    except Refused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    finally:
        stop(redis_server)

    slower = [f"{key} ({size:,})" for size, run in runs.items() for key, row in run["rows"].items()
              if row.get("verdict") == "slower"]  # fmt: skip
    failing = [f"{key} ({size:,})" for size, run in runs.items() for key, row in run["rows"].items() if problems(row)]
    verdict_line = (
        "**PASS: no endpoint slower**"
        if ok
        else "**FAIL**: " + "; ".join(([f"slower: {', '.join(slower)}"] if slower else [])
                                     + ([f"wrong status: {', '.join(failing)}"] if failing else []))
    )  # fmt: skip
    text = "\n".join(header + sections + [verdict_line, ""])
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"compare-{stamp}.md").write_text(text, encoding="utf-8")
    raw = {"trees": {name: describe(tree) for name, tree in trees.items()}, "requests": args.requests,
           "warmup": args.warmup, "runs": runs}  # fmt: skip
    (RESULTS / f"compare-{stamp}.json").write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\n".join(sections + [verdict_line]))
    print(f"\nwritten to {RESULTS}/compare-{stamp}.md")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
