"""Limiter utilisation: calls made over calls allowed, N processes hammering CoinGlass's budget.

    .venv/bin/python bench/limiter_utilisation.py [--backend redis|file|both] [--seconds 65] [--processes 4]

Each process loops acquire() + GET against a loopback server that logs arrivals on its own
clock. Allowed = what the tighter of the 2.5 s spacing and the 30-per-minute cap permits.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.counting_server import CountingServer, max_calls_in_any_window, min_gap  # noqa: E402

SPACING, PER_MINUTE = 2.5, 30


def allowed_calls(seconds: float) -> int:
    by_spacing = math.floor(seconds / SPACING) + 1
    by_cap = PER_MINUTE * math.floor(seconds / 60) + min(PER_MINUTE, math.floor((seconds % 60) / SPACING) + 1)
    return min(by_spacing, by_cap)


def run(backend: str, seconds: float, processes: int) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tradingbot.settings_test",
        "PYTHONPATH": str(ROOT),
        "COINGLASS_MIN_INTERVAL_SECONDS": str(SPACING),
        "COINGLASS_CALLS_PER_MINUTE": str(PER_MINUTE),
        "TRADINGBOT_VAR_DIR": tempfile.mkdtemp(prefix="limiter-bench-"),
    }
    if backend == "redis":
        env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    server = CountingServer()
    worker = str(ROOT / "tests" / "limiter_worker.py")
    procs = [subprocess.Popen([sys.executable, worker, server.url, str(seconds)], env=env) for _ in range(processes)]
    for p in procs:
        p.wait()
    server.stop()
    arrivals = sorted(server.arrivals)
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    made, allowed = len(arrivals), allowed_calls(span)
    return (
        f"{backend:<5} {processes} processes {seconds:.0f}s: {made} calls made / {allowed} allowed = "
        f"{made / allowed:.1%} utilisation; min gap {min_gap(arrivals):.3f}s; "
        f"max in any 60s {max_calls_in_any_window(arrivals)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["redis", "file", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=65)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    for backend in ["redis", "file"] if args.backend == "both" else [args.backend]:
        print(run(backend, args.seconds, args.processes), flush=True)


if __name__ == "__main__":
    main()
