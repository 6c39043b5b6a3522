"""The overview and data-health panels over 1,000,000 guard events on PostgreSQL (issue 10: each <= 50 ms).

    .venv/bin/python bench/dashboard_panels.py [--events 1000000] [--repeat 30]

Creates a throwaway database (bench_panels_<pid>) on the PostgreSQL at BENCH_PG_URL (default
postgres://postgres@127.0.0.1:5432/postgres), migrates it, fills it with bench/effectiveness.py's
history (three guard events per signal, in the gate's mix), adds the min-hold history of 400
positions (200 open) with a LIQ_MAGNET event per answer, 200,000 data-health records over 30
days (1 in 20 a failure), and a snapshot of every input and symbol in the shapes the fetchers
store (a whale-flow window of 3,000 large orders, a 400-level heatmap column); drops it at the end.

Timed: server time of each panel as HTMX asks for it, and of each whole page (Django's test
client: URL resolution, middleware, session and login, the reads, the template), warm cache (the
embedded file cache: no REDIS_URL); median and worst of `--repeat` requests, and the queries each makes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.effectiveness import fill_history  # noqa: E402
from bench.throwaway import throwaway_database  # noqa: E402

SYMBOLS = ("BTCUSDT", "ETHUSDT")
PRICES = {"BTCUSDT": 97_000, "ETHUSDT": 3_600}


def main() -> None:
    args = parse_args()
    with throwaway_database("panels", WATCHED_SYMBOLS=",".join(SYMBOLS)):
        run(args)


def run(args) -> None:
    from django.db import connection

    started = time.perf_counter()
    signals, _ = fill_history(args.events, timedelta(days=7), SYMBOLS)
    fill_positions()
    fill_health(connection)
    fill_snapshots()
    with connection.cursor() as cursor:
        for table in ("guards_guardevent", "guards_datahealthevent", "guards_position"):  # events: positions' too
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT count(*) FROM guards_guardevent")
        events = cursor.fetchone()[0]
    print(f"{events:,} guard events stored in {time.perf_counter() - started:.1f} s")
    report(time_panels(args.repeat))


def fill_positions(count: int = 400) -> None:
    """Min-hold answers as guards/holds.py records them: the event's time is the position's
    `updated_at`; every other position is closed, and each has older answers too."""
    from django.utils import timezone

    from guards.models import GuardEvent, Position

    now, rng = timezone.now(), random.Random(7)
    positions, events = [], []
    for i in range(count):
        symbol = SYMBOLS[i % 2]
        answered = now - timedelta(seconds=rng.randint(5, 3600))
        price = PRICES[symbol] * (1 + rng.uniform(-0.01, 0.01))
        positions.append(
            Position(
                position_id=f"pos-{i}", symbol=symbol, direction="LONG" if i % 3 else "SHORT",
                strategy="TRUE_TREND", entry_price=round(price, 2), current_price=round(price, 2),
                opened_at=answered - timedelta(minutes=5), min_hold_seconds=5400, hold_reason="LIQ_CLUSTER",
                hold_until=answered + timedelta(minutes=85), is_open=i % 2 == 0, updated_at=answered,
            )
        )  # fmt: skip
        for back in range(5):  # the latest answer and four older ones
            events.append(
                GuardEvent(
                    event_type="LIQ_MAGNET", guard="LIQ_MAGNET", decision="LIQ_CLUSTER", symbol=symbol,
                    reason="moving toward SHORT liquidation cluster", position_id=f"pos-{i}",
                    created_at=answered - timedelta(minutes=back),
                )
            )  # fmt: skip
    Position.objects.bulk_create(positions)
    GuardEvent.objects.bulk_create(events, batch_size=1000)


def fill_health(connection, rows: int = 200_000) -> None:
    """Fetch outcomes of every input and symbol over 30 days; 1 in 20 failed, with a reason code."""
    from django.utils import timezone

    from guards.domain import inputs

    pairs = [(s, k) for s in SYMBOLS for k in inputs.ALL if k not in inputs.MARKET_WIDE]
    pairs += [(inputs.MARKET_WIDE_SYMBOL, k) for k in inputs.MARKET_WIDE]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO guards_datahealthevent
                (symbol, kind, source, outcome, reason_code, detail, http_calls, duration_ms, created_at)
            SELECT (%(symbols)s::text[])[1 + n %% %(pairs)s], (%(kinds)s::text[])[1 + n %% %(pairs)s], 'simulated',
                   CASE WHEN n %% 20 = 0 THEN 'failed' ELSE 'ok' END,
                   CASE WHEN n %% 20 = 0 THEN 'HTTP_500' ELSE '' END, '', 1, 40,
                   %(now)s - make_interval(secs => n * 2592000.0 / %(rows)s)
            FROM generate_series(1, %(rows)s) AS n
            """,
            {
                "symbols": [s for s, _ in pairs],
                "kinds": [k for _, k in pairs],
                "pairs": len(pairs),
                "rows": rows,
                "now": timezone.now(),
            },
        )


def fill_snapshots() -> None:
    """The latest snapshot of every input, in the fetchers' shapes (guards/intel/fetchers.py)."""
    from django.utils import timezone

    from guards.domain import inputs
    from guards.domain.cvd import FlowDetail, TakerOrder, cents_to_usd
    from guards.intel.snapshots import store_snapshot

    now, rng = timezone.now(), random.Random(11)

    def store(symbol, kind, derived, raw=None):
        store_snapshot(
            symbol=symbol, kind=kind, source="simulated", fetched_at=now, derived=derived, raw=raw or {},
            ttl_seconds=inputs.TTL_SECONDS[kind],
        )  # fmt: skip

    for symbol, price in PRICES.items():
        orders = [TakerOrder(0, int(rng.paretovariate(1.5) * 4_000_000), rng.random() < 0.5, 0, 0) for _ in range(3000)]
        detail = FlowDetail.from_orders(orders, floor_cents=4_000_000)
        split = detail.split(10_000_000)
        store(symbol, inputs.WHALE_FLOW, split.as_usd() | {"window_minutes": 60}, {"detail": detail.to_json()})
        store(symbol, inputs.PRICE_BARS, {"price": str(price), "data_time": now.isoformat()})
        levels = [[str(round(price * (0.8 + i * 0.001), 2)), str(rng.randint(1, 10**7))] for i in range(400)]
        clusters = [{"price": p, "intensity": u} for p, u in sorted(levels, key=lambda r: -int(r[1]))[:12]]
        store(symbol, inputs.LIQUIDATION, {"clusters": clusters}, {"latest_column_levels": levels})
        store(symbol, inputs.TAKER_FLOW, {"buy_share": "0.52", "range": "1h"})
        store(symbol, inputs.MAX_PAIN, {"max_pain_price": str(cents_to_usd(price * 95))})
    store(inputs.MARKET_WIDE_SYMBOL, inputs.FEAR_GREED, {"value": "55"})


def time_panels(repeat: int) -> list[tuple[str, list[float], int]]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from dashboard.panels import PANELS
    from tradingbot.memory import freeze_long_lived

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host name
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-Passw0rd"))
    urls = [f"/panels/{name}/?symbol={symbol}" for name in PANELS for symbol in SYMBOLS[:1]]
    urls += ["/panels/positions/?symbol=ETHUSDT", "/", "/health/"]
    freeze_long_lived()  # as the web server does after start-up: the bench's own setup is not a request's cost
    results = []
    for url in urls:
        for _ in range(3):  # warm: cache filled, connection open
            assert client.get(url, headers={"HX-Request": "true"}).status_code == 200, url
        with CaptureQueriesContext(connection) as queries:
            client.get(url, headers={"HX-Request": "true"})
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url, headers={"HX-Request": "true"})
            timings.append((time.perf_counter() - started) * 1000)
        results.append((url, timings, len(queries)))
    return results


def report(results) -> None:
    print(f"\n{'panel or page':<40} {'median':>9} {'p95':>9} {'worst':>9} {'queries':>8}")
    for url, timings, queries in results:
        p95 = statistics.quantiles(timings, n=20, method="inclusive")[-1]
        print(f"{url:<40} {statistics.median(timings):>7.1f}ms {p95:>7.1f}ms {max(timings):>7.1f}ms {queries:>8}")
    panels = [t for url, t, _ in results if url.startswith("/panels/")]
    print(
        f"\nslowest panel: median {max(statistics.median(t) for t in panels):.1f} ms, "
        f"worst {max(max(t) for t in panels):.1f} ms (target <= 50 ms)"
    )


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    return parser.parse_args()


if __name__ == "__main__":
    main()
