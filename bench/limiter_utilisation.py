"""Limiter utilisation: N OS processes hammer CoinGlass's budget through the shared limiter.

    .venv/bin/python bench/limiter_utilisation.py [--backend redis|file|both] [--seconds 65] [--processes 4]
        [--min-interval 2.5] [--per-minute 30] [--parallel]

Each process loops acquire() + GET against a loopback server that logs arrivals on its own
clock (tests/limiter_worker.py). Per backend, one line: utilisation = calls made / calls
allowed, where allowed is what the tighter of the spacing and the sliding 60 s cap permits
over the run; the most calls in any 60 s window and the smallest gap between two arrivals,
both from the server's log; and the delay from acquire() returning to the server's arrival
(what SAFETY_MARGIN_SECONDS must cover). Redis: BENCH_REDIS_URL (default
redis://127.0.0.1:6379/14); only the limiter's keys there are deleted first.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.limiter_harness import Group, format_summary, run_groups, summary, worker_env  # noqa: E402

KEY_PREFIX = "tradingbot:ratelimit:"  # as guards/marketdata/limiter.py (not imported: no Django here)


def make_group(backend: str, args: argparse.Namespace) -> Group:
    budget = {
        "COINGLASS_MIN_INTERVAL_SECONDS": str(args.min_interval),
        "COINGLASS_CALLS_PER_MINUTE": str(args.per_minute),
    }
    if backend == "redis":
        url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
        clear_limiter_keys(url)
        env = worker_env(REDIS_URL=url, **budget)
    else:
        env = worker_env(TRADINGBOT_VAR_DIR=tempfile.mkdtemp(prefix="limiter-bench-"), **budget)
    return Group(backend, env, args.min_interval, args.per_minute, processes=args.processes)


def clear_limiter_keys(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{KEY_PREFIX}*"):
        client.delete(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["redis", "file", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=65.0)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--min-interval", type=float, default=2.5, help="CoinGlass spacing, seconds")
    parser.add_argument("--per-minute", type=int, default=30, help="CoinGlass calls in any 60 s")
    parser.add_argument("--parallel", action="store_true", help="run both backends at the same time")
    args = parser.parse_args()
    backends = ["redis", "file"] if args.backend == "both" else [args.backend]
    batches = [backends] if args.parallel else [[b] for b in backends]
    for batch in batches:
        groups = [make_group(backend, args) for backend in batch]
        run_groups(groups, args.seconds)
        for group in groups:
            print(format_summary(summary(group, args.seconds), args.processes, args.seconds), flush=True)


if __name__ == "__main__":
    main()
