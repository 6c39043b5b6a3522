"""The audit trail's panels over 1,000,000 guard events on PostgreSQL (issue 10: each <= 50 ms).

    .venv/bin/python bench/dashboard_audit.py [--events 1000000] [--repeat 20]

Creates a throwaway database (bench_audit_<pid>) on the PostgreSQL at BENCH_PG_URL (default
postgres://postgres@127.0.0.1:5432/postgres), migrates it, fills it with bench/effectiveness.py's
history (three guard events per signal, in the gate's mix), splits it over two symbols, stores an
effectiveness run and an optimizer run, and drops the database at the end.

Timed: server time of each panel as HTMX asks for it (Django's test client: URL resolution,
middleware, session and login, the queries, the template), first page and the page after it,
for every filter shape; warm cache; median and worst of `--repeat` requests.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.effectiveness import END, fill_history  # noqa: E402
from bench.throwaway import throwaway_database  # noqa: E402

FILTERS = [
    {},
    {"guard": "WHALE_INTENT_FILTER"},
    {"symbol": "ETHUSDT"},
    {"decision": "block"},
    {"decision": "fail_open"},
    {"guard": "TAKER_AGGRESSION", "decision": "fail_open"},
    {"symbol": "BTCUSDT", "decision": "resize"},
    {"guard": "WHALE_INTENT_FILTER", "symbol": "BTCUSDT"},
    {"guard": "WHALE_INTENT_FILTER", "symbol": "ETHUSDT", "decision": "block"},
    {"symbol": "SOLUSDT"},  # a pair never traded: nothing to find
    {"decision": "TRUE_TREND"},  # a hold reason no signal event carries
]


def main() -> None:
    args = parse_args()
    with throwaway_database("audit"):
        run(args)


def run(args) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from guards.models import GuardEvent
    from optimizer.effectiveness import run_effectiveness
    from optimizer.runs import run_optimizer
    from tradingbot.memory import freeze_long_lived

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    started = time.perf_counter()
    signals, events = fill_history(args.events, timedelta(days=7), ("BTCUSDT", "ETHUSDT"))
    print(f"{events:,} guard events over {signals:,} signals, two symbols, in {time.perf_counter() - started:.1f} s")
    run_effectiveness(now=END, days=7)
    run_optimizer(now=END)

    freeze_long_lived()  # as the web server does after start-up: the bench's own setup is not a request's cost
    client = Client(headers={"HX-Request": "true"})
    client.force_login(get_user_model().objects.create_superuser("bench", "bench@example.com", "pw-bench-1"))
    decision = GuardEvent.objects.order_by("-created_at").values_list("evaluation_id", flat=True).first()
    rows = [("/audit/ (whole page)", "/audit/", {}, False)]
    for query in FILTERS:
        label = "events " + (", ".join(f"{k}={v}" for k, v in query.items()) or "unfiltered")
        rows.append((label, "/audit/events/", query, True))
    rows += [
        ("parameter versions", "/audit/versions/", {}, True),
        ("optimizer runs", "/audit/runs/", {}, True),
        ("effectiveness reports", "/audit/reports/", {}, True),
        ("one decision opened", f"/audit/decisions/{decision}/", {}, True),
    ]
    print(f"\n{'panel':<66} {'median ms':>9} {'worst ms':>9} {'page 2 median':>14} {'page 2 worst':>13}")
    worst = 0.0
    for label, url, query, htmx in rows:
        first, body = timed(client, url, query, htmx, args.repeat)
        older = re.search(r'id="events-older" href="[^"]*(?:\?|&amp;)before=([0-9.]+)', body)
        second = timed(client, url, {**query, "before": older.group(1)}, htmx, args.repeat)[0] if older else []
        worst = max(worst, *first, *(second or [0]))
        page2 = f"{statistics.median(second) * 1000:14.1f} {max(second) * 1000:13.1f}" if second else f"{'–':>14}"
        print(f"{label:<66} {statistics.median(first) * 1000:9.1f} {max(first) * 1000:9.1f} {page2}")
    print(f"\nworst panel request over {events:,} guard events: {worst * 1000:.1f} ms (target 50 ms)")
    if args.explain:
        explain(FILTERS)


def explain(filters) -> None:
    """The plans of each filter's queries, as PostgreSQL ran them (EXPLAIN ANALYZE)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dashboard.audit import EventFilter, guard_events

    for query in filters:
        with CaptureQueriesContext(connection) as captured:
            guard_events(EventFilter(**query), None)
        for sql in (q["sql"] for q in captured.captured_queries):
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}")
                plan = [row[0] for row in cursor.fetchall()]
            print(f"\n-- {query or 'unfiltered'}: {sql[:100]}...")
            print("\n".join(line for line in plan if "Scan" in line or "Execution" in line or "Sort" in line))


def timed(client, url: str, query: dict, htmx: bool, repeat: int) -> tuple[list[float], str]:
    headers = {} if htmx else {"HX-Request": ""}
    client.get(url, query)  # warm
    timings, body = [], ""
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, query, headers=headers)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, query, response.status_code)
        body = response.content.decode()
    return timings, body


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="print each filter's query plans")
    return parser.parse_args()


if __name__ == "__main__":
    main()
