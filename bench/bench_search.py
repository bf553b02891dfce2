"""Customer search at scale, in-process: p50/p95 of search requests against the floor, interleaved.

Runs django.test.Client requests (no HTTP server) against an existing, migrated database: each round
requests the floor (an API contact by primary key) and every search endpoint once, in a shuffled order,
so machine noise hits all of them alike. Prints p50, p95, p50/floor p50 and the query count per endpoint.
The database is only read. Use a copy of a seeded database, never the seed itself:

    createdb -h 127.0.0.1 -U postgres -T kam_seed_100000 kam_search_100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kam_search_100000 .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kam_search_100000 .venv/bin/python bench/bench_search.py

--root runs another checkout's code against the same database (a before/after comparison).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

STEWARD, MANAGER = "steward_liu", "am_zhang"  # sees every customer; a portfolio of a few dozen

# (key, user, path); {contact} is filled in. Words: in 86% of names (有限), 643 (银行), 560 (北仑), 92 (人寿),
# 5,900 (服务) and 20,000 (杭州) of the 100,000 demo names; one character (prefix only); 4 characters (trigrams).
ENDPOINTS = [
    ("floor: API contact by pk", STEWARD, "/api/v1/contacts/{contact}/"),
    ("API list, no search, page_size=25", STEWARD, "/api/v1/customers/?page_size=25"),
    ("API ?q=有限&page_size=25", STEWARD, "/api/v1/customers/?q=有限&page_size=25"),
    ("API ?q=银行&page_size=25", STEWARD, "/api/v1/customers/?q=银行&page_size=25"),
    ("API ?q=北仑&page_size=25", STEWARD, "/api/v1/customers/?q=北仑&page_size=25"),
    ("API ?q=人寿&page_size=25", STEWARD, "/api/v1/customers/?q=人寿&page_size=25"),
    ("API ?q=服务&page_size=25", STEWARD, "/api/v1/customers/?q=服务&page_size=25"),
    ("API ?q=杭州&page_size=25", STEWARD, "/api/v1/customers/?q=杭州&page_size=25"),
    ("API ?q=银&page_size=25", STEWARD, "/api/v1/customers/?q=银&page_size=25"),
    ("API ?q=宁波银行&page_size=25", STEWARD, "/api/v1/customers/?q=宁波银行&page_size=25"),
    ("API ?q=有限公司&page_size=25", STEWARD, "/api/v1/customers/?q=有限公司&page_size=25"),
    ("API ?q=有限 (account manager)", MANAGER, "/api/v1/customers/?q=有限&page_size=25"),
    ("page /customers/, no search", STEWARD, "/customers/"),
    ("page /customers/?q=有限", STEWARD, "/customers/?q=有限"),
    ("page /customers/?q=银行", STEWARD, "/customers/?q=银行"),
    ("page /customers/?q=北仑&page=2", STEWARD, "/customers/?q=北仑&page=2"),
    ("picker ?customer_q=银行", STEWARD, "/opportunities/new/customers/?customer_q=银行"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent), help="the checkout to run")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        parser.error("set DATABASE_URL to a migrated copy of a seeded database")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECURE_HTTPS", "0")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
    sys.path.insert(0, args.root)
    os.chdir(args.root)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from channels.models import User
    from customers.models import Contact

    clients = {}
    for username in (STEWARD, MANAGER):
        clients[username] = Client()
        clients[username].force_login(User.objects.get(username=username))
    contact = Contact.objects.order_by("-pk").values_list("pk", flat=True).first()
    endpoints = [(key, user, path.format(contact=contact)) for key, user, path in ENDPOINTS]

    queries = {}
    for key, user, path in endpoints:
        with CaptureQueriesContext(connection) as ctx:
            response = clients[user].get(path)
        assert response.status_code == 200, (key, response.status_code)
        queries[key] = len(ctx.captured_queries)

    times: dict[str, list[float]] = {key: [] for key, _user, _path in endpoints}
    order = list(endpoints)
    for round_ in range(args.warmup + args.rounds):
        random.shuffle(order)
        for key, user, path in order:
            start = time.perf_counter()
            clients[user].get(path)
            elapsed = (time.perf_counter() - start) * 1000
            if round_ >= args.warmup:
                times[key].append(elapsed)

    floor = statistics.median(times[endpoints[0][0]])
    print(f"{args.rounds} interleaved rounds (after {args.warmup} warm-up), in-process, {os.environ['DATABASE_URL']}")
    print(f"{'endpoint':38} {'p50 ms':>8} {'p95 ms':>8} {'p50/floor':>9} {'queries':>7}")
    for key, _user, _path in endpoints:
        values = sorted(times[key])
        p50, p95 = statistics.median(values), values[int(0.95 * (len(values) - 1))]
        print(f"{key:38} {p50:8.1f} {p95:8.1f} {p50 / floor:9.1f} {queries[key]:7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
