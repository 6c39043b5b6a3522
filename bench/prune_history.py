"""The daily prune on PostgreSQL: 1,000,000 guard events over 180 days, half past RETENTION_DAYS=90.

    .venv/bin/python bench/prune_history.py [--events 1000000] [--days 180] [--retention 90]

Creates a throwaway database (bench_prune_<pid>) on the PostgreSQL at BENCH_PG_URL (default
postgres://postgres@127.0.0.1:5432/postgres), fills it as bench/effectiveness.py does (in SQL),
and drops it at the end. Timed: `prune_history` (5,000-row batches), each DELETE statement on
its own, and, meanwhile, a writer recording one decision (an evaluation and three guard events in
one transaction, as the gate does) every 20 ms: its slowest write, beside the same writer's
with no prune running, shows whether the prune held the gate up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.effectiveness import END, fill_history  # noqa: E402
from bench.throwaway import throwaway_database  # noqa: E402


def main() -> None:
    args = parse_args()
    with throwaway_database("prune", RETENTION_DAYS=str(args.retention)):
        run(args)


def run(args) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guards import retention

    started = time.perf_counter()
    signals, _ = fill_history(args.events, timedelta(days=args.days))
    filled = time.perf_counter() - started
    print(f"{args.events:,} guard events over {signals:,} signals and {args.days} days: {filled:.1f} s")

    quiet = Writer("quiet")  # the same writes with no prune running, for comparison
    quiet.start()
    time.sleep(3)
    quiet.stop()
    writer = Writer("during")
    writer.start()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        report = retention.prune_history(now=END)
        elapsed = time.perf_counter() - started
    writer.stop()
    deletes = [float(q["time"]) for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    print(f"prune_history (RETENTION_DAYS={args.retention}): {elapsed:.1f} s, {report.batches} batches")
    for table in retention.TABLES:
        print(f"  {table:<24} {report.rows[table]:>10,}")
    print(
        f"DELETE statements: {len(deletes)}, median {statistics.median(deletes) * 1000:.0f} ms, "
        f"slowest {max(deletes) * 1000:.0f} ms"
    )
    for label, timings in (("during the prune", writer.timings), ("with no prune", quiet.timings)):
        print(
            f"decisions recorded {label}: {len(timings)}, "
            f"median {statistics.median(timings) * 1000:.1f} ms, slowest {max(timings) * 1000:.1f} ms"
        )


class Writer(threading.Thread):
    """One decision every 20 ms, on its own connection, like a gunicorn worker."""

    def __init__(self, label: str):
        super().__init__(daemon=True)
        self.label = label
        self.timings: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        from django.db import connection, transaction
        from django.utils import timezone

        from guards.models import Evaluation, GuardEvent

        n = 0
        while not self.done.is_set():
            n += 1
            started = time.perf_counter()
            with transaction.atomic():
                now = timezone.now()
                evaluation = Evaluation.objects.create(
                    signal_id=f"{self.label}-{n}", symbol="BTCUSDT", direction="LONG", base_size=1000, allowed=True,
                    size_multiplier=1, final_size=1000, response={}, evaluated_at=now,
                )  # fmt: skip
                GuardEvent.objects.bulk_create(
                    GuardEvent(event_type=g, guard=g, decision="allow", symbol="BTCUSDT", evaluation=evaluation,
                               position=i, created_at=now)
                    for i, g in enumerate(("TAKER_AGGRESSION", "WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER"))
                )  # fmt: skip
            self.timings.append(time.perf_counter() - started)
            time.sleep(0.02)
        connection.close()

    def stop(self) -> None:
        self.done.set()
        self.join()


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--retention", type=int, default=90)
    return parser.parse_args()


if __name__ == "__main__":
    main()
