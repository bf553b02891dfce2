"""Tier and value evaluation benchmark: customers.tiering.engine.evaluate_tiers on PostgreSQL at 10,000 and
100,000 customers, or more (24 months of spend, 10 members each: 2.4 M spend rows and 1 M members at 100,000).

For each size: a seeded database `<prefix><size>` (UTF-8, C.UTF-8 ctype, as bench_customers.py makes them:
migrate, `seed_demo --customers N --contacts-per-customer 0 --members-per-customer 10 --months 24
--monthly-totals`, VACUUM ANALYZE; kept with --reuse), copied to `<prefix><size>_run` so every measurement
starts from data never evaluated. Then, in one process, each timed, with the SQL statements it sent and the
customer rows it wrote:

    dry run                 computes the moves a publication would make, writes no customer
    evaluation              the first evaluation: writes every live customer (values, service tier)
    evaluation (again)      the same month over unchanged data: must write no customer
    publication             moves published tiers (a TierChange row per move)
    publication (again)     the same month again: must move and write nothing

Budgets (exit status 1 when one fails):
- every run within --budget seconds per 100,000 customers (default 30: 30 s up to 100k, 90 s at 300k);
- cost at most linear: seconds per customer at the largest size <= --growth (default 1.2) x at the smallest;
- the same number of SQL statements at every size;
- a run again over unchanged data writes no customer and moves no tier.

    .venv/bin/python bench/bench_tiering.py --customers 10000,100000
    .venv/bin/python bench/bench_tiering.py --customers 10000,100000,300000 --reuse --prefix kam_tiering_

`--profile N` also prints the N slowest statements of each run; `--explain SECONDS` runs the engine's
INSERT/UPDATE/DELETE statements as EXPLAIN (ANALYZE, BUFFERS) (same effect, slightly slower: use it for a
diagnosis, not for the figures) and writes the plans of those slower than SECONDS next to the results.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_customers import PYTHON, RESULTS, pg_admin, pg_query, prepare, server_env  # noqa: E402

RUNS = ["dry_run", "evaluation", "evaluation (again)", "publication", "publication (again)"]
AGAIN = [label for label in RUNS if label.endswith("(again)")]
DML = re.compile(r"^\s*(INSERT|UPDATE|DELETE|WITH\b.*\bINSERT INTO)\b", re.IGNORECASE | re.DOTALL)


# --- inside Django: run the evaluations, one JSON line per run ------------------------------------------------


def statement_label(sql: str) -> str:
    """The first words of a statement, enough to recognise it in engine.py."""
    words = " ".join(sql.split())
    return words[:110] + ("…" if len(words) > 110 else "")


class Recorder:
    """connection.execute_wrapper: times every statement; with explain, runs DML as EXPLAIN (ANALYZE, BUFFERS)."""

    def __init__(self, explain: float | None):
        self.explain = explain
        self.statements: list[dict] = []

    def __call__(self, execute, sql, params, many, context):
        cursor = context["cursor"]
        explained = self.explain is not None and not many and DML.match(sql)
        started = time.perf_counter()
        if explained:
            result = execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params, many, context)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        else:
            result = execute(sql, params, many, context)
        seconds = time.perf_counter() - started
        entry = {"sql": statement_label(sql), "seconds": seconds, "rows": None if explained else cursor.rowcount}
        if explained and seconds >= self.explain:
            entry["plan"], entry["statement"] = plan, sql
        self.statements.append(entry)
        return result


def inside(explain: float | None) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from customers.tiering import engine

    for label in RUNS:
        recorder = Recorder(explain)
        started = time.perf_counter()
        with connection.execute_wrapper(recorder):
            evaluation = engine.evaluate_tiers(kind=label.split(" ")[0])
        seconds = time.perf_counter() - started
        print(json.dumps({
            "kind": label, "seconds": seconds, "statements": evaluation.statements,
            "customers": evaluation.customers, "written": getattr(evaluation, "customers_written", None),
            "upgrades": evaluation.upgrades, "downgrades": evaluation.downgrades,
            "period": evaluation.period.isoformat(), "profile": recorder.statements,
        }), flush=True)  # fmt: skip


# --- outside: databases, runs, report ---------------------------------------------------------------------------


def facts(url: str) -> dict[str, int]:
    return {
        "customers": pg_query(url, "SELECT count(*) FROM customers_customer")[0][0],
        "spend rows": pg_query(url, "SELECT count(*) FROM customers_spendrecord")[0][0],
        "members": pg_query(url, "SELECT count(*) FROM customers_groupmember")[0][0],
    }


def fresh_copy(seed_url: str, run_url: str) -> float:
    """The measured database: a file-level copy of the seeded one (statistics included), never evaluated."""
    seed, name = seed_url.rsplit("/", 1)[1], run_url.rsplit("/", 1)[1]
    started = time.monotonic()
    pg_admin(run_url, f'DROP DATABASE IF EXISTS "{name}"')
    for attempt in range(30):  # CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template
        try:
            pg_admin(run_url, f'CREATE DATABASE "{name}" TEMPLATE "{seed}"')
            break
        except Exception as error:  # noqa: BLE001
            if attempt == 29 or "being accessed" not in str(error):
                raise
            time.sleep(2)
    return time.monotonic() - started


def measure(env: dict[str, str], explain: float | None) -> list[dict]:
    command = [PYTHON, str(Path(__file__).resolve()), "--inside"]
    if explain is not None:
        command += ["--explain", str(explain)]
    result = subprocess.run(
        command, cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "kam.settings"}, capture_output=True, text=True
    )
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"the evaluation failed (exit status {result.returncode})")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", default="10000,100000", help="Comma-separated sizes (default 10000,100000).")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server (without a database name).",
    )
    parser.add_argument("--prefix", default="kam_bench_tiering_", help="Database names: <prefix><size>[_run].")
    parser.add_argument("--reuse", action="store_true", help="Keep a seeded database that has the right size.")
    parser.add_argument("--keep", action="store_true", help="Keep the measured copies (<prefix><size>_run).")
    parser.add_argument("--budget", type=float, default=30.0, help="Seconds per 100,000 customers per run (30).")
    parser.add_argument("--growth", type=float, default=1.2, help="Allowed growth of the cost per customer (1.2).")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="Print the N slowest statements per run.")
    parser.add_argument("--explain", type=float, metavar="SECONDS", help="Keep plans of DML slower than SECONDS.")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args.explain)
        return 0
    sizes = sorted(int(s) for s in args.customers.split(","))

    rows, seeding, sizes_facts, plans = [], {}, {}, []
    base = args.database_url.rstrip("/")
    for size in sizes:
        seed_url, run_url = f"{base}/{args.prefix}{size}", f"{base}/{args.prefix}{size}_run"
        with tempfile.TemporaryDirectory() as var_dir:
            seeding[size] = prepare(size, seed_url, server_env(seed_url, var_dir), args.reuse, contacts_per_customer=0)
            copied = fresh_copy(seed_url, run_url)
            env = server_env(run_url, var_dir)
            env["LOG_LEVEL"] = "WARNING"
            subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
            sizes_facts[size] = facts(run_url)
            print(f"[{size}] {sizes_facts[size]}; copied in {copied:.0f} s; evaluating", flush=True)
            for row in measure(env, args.explain):
                profile = row.pop("profile")
                rows.append({"size": size, **row})
                written = "-" if row["written"] is None else f"{row['written']:,}"
                print(f"[{size}] {row['kind']}: {row['seconds']:.1f} s, {row['statements']} statements, "
                      f"{written} customers written", flush=True)  # fmt: skip
                for entry in sorted(profile, key=lambda e: -e["seconds"])[: args.profile]:
                    rows_done = "" if entry["rows"] is None else f"{entry['rows']:>9} rows"
                    print(f"    {entry['seconds']:7.2f} s {rows_done:>14}  {entry['sql']}")
                plans += [{"size": size, "kind": row["kind"], **e} for e in profile if "plan" in e]
            if not args.keep:
                pg_admin(run_url, f'DROP DATABASE IF EXISTS "{run_url.rsplit("/", 1)[1]}"')

    failures = []
    for row in rows:
        allowed = args.budget * max(row["size"], 100_000) / 100_000  # below 100,000 the 100,000 budget
        if row["seconds"] > allowed:
            failures.append(f"{row['kind']} at {row['size']:,}: {row['seconds']:.1f} s > {allowed:.1f} s")
    for kind in RUNS:
        counts = {row["statements"] for row in rows if row["kind"] == kind}
        if len(counts) > 1:
            failures.append(f"{kind}: statements differ between sizes ({sorted(counts)})")
    for row in rows:  # (under --explain the statements' row counts are the plans' lines: written is not known)
        if row["kind"] in AGAIN and (row["upgrades"] or row["downgrades"] or (row["written"] and not args.explain)):
            failures.append(f"{row['kind']} at {row['size']:,} moved or wrote customers (not idempotent)")

    def per_customer(row: dict) -> float:
        return row["seconds"] / max(row["customers"], 1)

    by_key = {(row["size"], row["kind"]): row for row in rows}
    smallest, largest = sizes[0], sizes[-1]
    lines = [
        "| customers | spend rows | members | run | seconds | µs per customer | per customer vs "
        f"{smallest:,} | SQL statements | evaluated | written | up | down |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        f, first = sizes_facts[row["size"]], by_key[(smallest, row["kind"])]
        ratio = per_customer(row) / per_customer(first) if per_customer(first) else 0.0
        written = "-" if row["written"] is None else f"{row['written']:,}"
        lines.append(
            f"| {row['size']:,} | {f['spend rows']:,} | {f['members']:,} | {row['kind']} | {row['seconds']:.1f} "
            f"| {per_customer(row) * 1e6:.0f} | {ratio:.2f} | {row['statements']} | {row['customers']:,} "
            f"| {written} | {row['upgrades']:,} | {row['downgrades']:,} |"
        )
    if largest != smallest:
        for kind in RUNS:
            small, large = by_key[(smallest, kind)], by_key[(largest, kind)]
            if per_customer(large) > args.growth * per_customer(small) and large["seconds"] >= 1.0:
                failures.append(
                    f"{kind}: {per_customer(large) * 1e6:.0f} µs per customer at {largest:,} > {args.growth} x "
                    f"{per_customer(small) * 1e6:.0f} µs at {smallest:,} (more than linear)"
                )
    table = "\n".join(lines)
    seeded = ", ".join(f"{size:,}: {s:.0f} s" if s is not None else f"{size:,}: reused" for size, s in seeding.items())
    print()
    print(table)
    print(f"\nseeding: {seeded}; budget {args.budget:.0f} s per 100,000 customers per run; growth ≤ {args.growth}; "
          f"period {rows[0]['period'] if rows else '-'}")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"tiering-{stamp}.md").write_text(table + "\n")
    (RESULTS / f"tiering-{stamp}.json").write_text(json.dumps({"rows": rows, "facts": sizes_facts}, indent=2))
    if plans:
        text = "\n\n".join(
            f"## {p['size']:,} · {p['kind']} · {p['seconds']:.2f} s\n\n```sql\n{p['statement'].strip()}\n```\n\n```\n"
            f"{p['plan']}\n```"
            for p in plans
        )
        (RESULTS / f"tiering-{stamp}-plans.md").write_text(text + "\n")
        print(f"plans: {RESULTS / f'tiering-{stamp}-plans.md'}")
    if failures:
        print("\nBUDGET FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("\nall budgets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
