"""Tier and value evaluation benchmark: customers.tiering.engine.evaluate_tiers on PostgreSQL at 10,000 and
100,000 customers (24 months of spend, 10 members each: 2.4 M spend rows and 1 M members at 100,000).

For each size: a fresh database (UTF-8, C.UTF-8 ctype, as bench_customers.py makes them), migrate,
`seed_demo --customers N --contacts-per-customer 0 --members-per-customer 10 --months 24 --monthly-totals`,
VACUUM ANALYZE, then in one process: a dry run, an evaluation, a publication and the same publication again
(idempotent: it must move nothing), each timed, with the number of SQL statements it sent.

Budgets: every run at every size within --budget seconds (default 60), and the same number of statements
at every size (it must not grow with the number of customers). Exit status 1 when a budget fails.

    .venv/bin/python bench/bench_tiering.py --customers 10000,100000

`--reuse` keeps a database that already holds the right number of demo customers; the evaluation is
re-runnable, so reusing one only changes what the first publication has left to move.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_customers import PYTHON, RESULTS, pg_query, prepare, server_env  # noqa: E402

KINDS = ["dry_run", "evaluation", "publication", "publication (again)"]

# Runs inside Django against the benchmark database; prints one JSON line per run.
MEASURE = """
import json, time
import django
django.setup()
from customers.tiering import engine
from customers.models import TierEvaluation
for label in {kinds!r}:
    kind = label.split(" ")[0]
    started = time.perf_counter()
    evaluation = engine.evaluate_tiers(kind=kind)
    seconds = time.perf_counter() - started
    print(json.dumps({{"kind": label, "seconds": seconds, "statements": evaluation.statements,
                      "customers": evaluation.customers, "upgrades": evaluation.upgrades,
                      "downgrades": evaluation.downgrades, "period": evaluation.period.isoformat()}}), flush=True)
"""


def facts(url: str) -> dict[str, int]:
    return {
        "customers": pg_query(url, "SELECT count(*) FROM customers_customer")[0][0],
        "spend rows": pg_query(url, "SELECT count(*) FROM customers_spendrecord")[0][0],
        "members": pg_query(url, "SELECT count(*) FROM customers_groupmember")[0][0],
    }


def measure(env: dict[str, str]) -> list[dict]:
    result = subprocess.run(
        [PYTHON, "-c", MEASURE.format(kinds=KINDS)], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "kam.settings"},
        capture_output=True, text=True,
    )  # fmt: skip
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
        help="PostgreSQL server (without a database name); one database per size is dropped and re-created.",
    )
    parser.add_argument("--reuse", action="store_true", help="Keep a database that already has the right size.")
    parser.add_argument("--budget", type=float, default=60.0, help="Seconds allowed per run (default 60).")
    args = parser.parse_args()
    sizes = [int(s) for s in args.customers.split(",")]

    rows, seeding, sizes_facts = [], {}, {}
    for size in sizes:
        url = f"{args.database_url.rstrip('/')}/kam_bench_tiering_{size}"
        with tempfile.TemporaryDirectory() as var_dir:
            env = server_env(url, var_dir)
            env["LOG_LEVEL"] = "WARNING"
            seeding[size] = prepare(size, url, env, args.reuse, contacts_per_customer=0)
            sizes_facts[size] = facts(url)
            print(f"[{size}] {sizes_facts[size]}; evaluating")
            for row in measure(env):
                rows.append({"size": size, **row})
                print(f"[{size}] {row['kind']}: {row['seconds']:.1f} s, {row['statements']} statements")

    failures = []
    for row in rows:
        if row["seconds"] > args.budget:
            failures.append(f"{row['kind']} at {row['size']:,}: {row['seconds']:.1f} s > {args.budget:.0f} s")
    for kind in KINDS:
        counts = {row["statements"] for row in rows if row["kind"] == kind}
        if len(counts) > 1:
            failures.append(f"{kind}: statements differ between sizes ({sorted(counts)})")
    again = [row for row in rows if row["kind"] == "publication (again)"]
    if any(row["upgrades"] or row["downgrades"] for row in again):
        failures.append("publishing the same period again moved tiers (not idempotent)")

    lines = [
        "| customers | spend rows | members | run | seconds | SQL statements | evaluated | up | down |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        f = sizes_facts[row["size"]]
        lines.append(
            f"| {row['size']:,} | {f['spend rows']:,} | {f['members']:,} | {row['kind']} | {row['seconds']:.1f} "
            f"| {row['statements']} | {row['customers']:,} | {row['upgrades']:,} | {row['downgrades']:,} |"
        )
    table = "\n".join(lines)
    seeded = ", ".join(f"{size:,}: {s:.0f} s" if s is not None else f"{size:,}: reused" for size, s in seeding.items())
    print()
    print(table)
    print(f"\nseeding: {seeded}; budget {args.budget:.0f} s per run; period {rows[0]['period'] if rows else '-'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"tiering-{stamp}.md").write_text(table + "\n")
    (RESULTS / f"tiering-{stamp}.json").write_text(json.dumps({"rows": rows, "facts": sizes_facts}, indent=2))
    if failures:
        print("\nBUDGET FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("\nall budgets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
