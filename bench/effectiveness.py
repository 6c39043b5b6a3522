"""Guard effectiveness over 1,000,000 guard events on PostgreSQL (issue 9: one run <= 5 s).

    .venv/bin/python bench/effectiveness.py [--events 1000000] [--repeat 5] [--days 7]

Creates a throwaway database (bench_effectiveness_<pid>) on the PostgreSQL at BENCH_PG_URL
(default postgres://postgres@127.0.0.1:5432/postgres), migrates it, fills it in SQL
(generate_series: no data leaves the server) and drops it at the end; it never touches another
database. The history: events/3 evaluated signals spread evenly over the window, three guard
events each, in the gate's mix: 60% allowed (half of them resized by Fear & Greed), 20% blocked
by the whale filter, 10% by taker aggression, 10% with taker aggression failed open; every
blocked signal has a shadow P&L between -$100 and +$100 except 1 in 50 (no outcome yet).
Timed: `run_effectiveness` (the aggregate query, the run and its report rows), warm cache.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.throwaway import throwaway_database  # noqa: E402

END = datetime(2026, 11, 30, tzinfo=UTC)


def main() -> None:
    args = parse_args()
    with throwaway_database("effectiveness"):
        run(args)


def run(args) -> None:
    from optimizer.effectiveness import report_table, run_effectiveness

    started = time.perf_counter()
    signals, events = fill_history(args.events, timedelta(days=args.days))
    print(f"{events:,} guard events over {signals:,} signals inserted in {time.perf_counter() - started:.1f} s")
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        last = run_effectiveness(now=END, days=args.days)
        timings.append(time.perf_counter() - started)
    print(report_table(last))
    print(
        f"\nrun_effectiveness over {events:,} events: best {min(timings):.3f} s, "
        f"median {statistics.median(timings):.3f} s ({args.repeat} runs)"
    )


def fill_history(events: int, window: timedelta, symbols: tuple[str, ...] = ("BTCUSDT",)) -> tuple[int, int]:
    """Migrates the (throwaway) database and fills it with at least `events` guard events, three a
    signal, spread over `window` and over `symbols` in turn, then VACUUM ANALYZE: (signals, events)."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    signals = -(-events // 3)  # at least the events asked for
    with connection.cursor() as cursor:
        fill(cursor, signals, window, symbols)
        cursor.execute("SELECT count(*) FROM guards_guardevent")
        stored = cursor.fetchone()[0]
        cursor.execute("VACUUM ANALYZE guards_guardevent")
        cursor.execute("VACUUM ANALYZE guards_evaluation")
    return signals, stored


def fill(cursor, signals: int, window: timedelta, symbols: tuple[str, ...] = ("BTCUSDT",)) -> None:
    """The evaluations, copied from one template row (every column the schema has keeps its
    default), then three events each, all in SQL."""
    from guards.models import Evaluation

    template = Evaluation.objects.create(
        signal_id="template", symbol="BTCUSDT", direction="LONG", base_size=1000, allowed=True,
        size_multiplier=1, final_size=1000, response={}, evaluated_at=END,
    )  # fmt: skip
    step_us = int(window / timedelta(microseconds=1)) // (signals + 1)
    overrides = {
        "signal_id": "'bench-' || n",
        "symbol": "(%(symbols)s::text[])[1 + mod(n, cardinality(%(symbols)s::text[]))]",
        "evaluated_at": f"%(end)s - make_interval(secs => n * {step_us} / 1e6)",
        "allowed": "mod(n, 10) NOT IN (6, 7, 8)",
        "blocked_by": "CASE WHEN mod(n, 10) IN (6, 7) THEN 'WHALE_INTENT_FILTER' "
        "WHEN mod(n, 10) = 8 THEN 'TAKER_AGGRESSION' ELSE '' END",
        "shadow_pnl": "CASE WHEN mod(n, 10) IN (6, 7, 8) AND mod(n, 50) <> 6 "
        "THEN (mod(n * 7919, 20001) - 10000) / 100.0 END",
    }
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'guards_evaluation' "
        "AND column_name <> 'id' ORDER BY ordinal_position"
    )
    columns = [row[0] for row in cursor.fetchall()]
    select = ", ".join(overrides.get(c, f"t.{c}") for c in columns)
    cursor.execute(
        f"INSERT INTO guards_evaluation ({', '.join(columns)}) SELECT {select} "
        "FROM guards_evaluation t CROSS JOIN generate_series(1::bigint, %(n)s::bigint) AS n WHERE t.id = %(template)s",
        {"end": END, "n": signals, "template": template.pk, "symbols": list(symbols)},
    )
    template.delete()
    cursor.execute(EVENTS)


EVENTS = """
INSERT INTO guards_guardevent
    (event_type, guard, decision, reason, symbol, evaluation_id, position_id, inputs, parameters, position, created_at)
SELECT CASE WHEN g.decision = 'fail_open' THEN 'GUARD_FAIL_OPEN' ELSE g.guard END, g.guard, g.decision, '',
       e.symbol, e.id, '', '{}', '{}', g.position, e.evaluated_at
FROM (SELECT id, symbol, evaluated_at, substring(signal_id from 7)::int % 10 AS kind FROM guards_evaluation) e
CROSS JOIN LATERAL (VALUES
    (0, 'TAKER_AGGRESSION', CASE e.kind WHEN 8 THEN 'block' WHEN 9 THEN 'fail_open' ELSE 'allow' END),
    (1, 'WHALE_INTENT_FILTER', CASE WHEN e.kind IN (6, 7) THEN 'block' WHEN e.kind = 8 THEN 'skipped' ELSE 'allow' END),
    (2, 'FEAR_GREED_MULTIPLIER', CASE WHEN e.kind IN (6, 7, 8) THEN 'skipped' WHEN e.kind % 2 = 1 THEN 'resize'
                                      ELSE 'allow' END)
) AS g(position, guard, decision)
"""


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--days", type=int, default=7)
    return parser.parse_args()


if __name__ == "__main__":
    main()
