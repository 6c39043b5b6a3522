"""One OS process of the shared-limiter tests and bench: acquire, GET, repeat until the deadline.

    python tests/limiter_worker.py URL SECONDS [SOURCE] [--weight N] [--wait-for-go]

The limiter is whatever the environment's settings pick (REDIS_URL, TRADINGBOT_VAR_DIR, the
budget variables), exactly as in a web or Celery process. With --wait-for-go the process
sets up (Django, limiter connection), prints "ready" and waits for a line on stdin, so that
start-up cost is not in the measured run. The last acquire() may wait only until the
deadline. At the end it prints one JSON line: its id and the monotonic time of each
acquire() return, for comparing with the server's arrival log.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradingbot.settings_test")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402

from guards.marketdata.limiter import LimiterBusy, get_limiter  # noqa: E402


def run(url: str, seconds: float, source: str, weight: int) -> list[float]:
    """Hammer `url` through the limiter for `seconds`; the acquire() return times (monotonic)."""
    limiter, session, acquired = get_limiter(), requests.Session(), []
    session.headers["X-Worker"] = str(os.getpid())
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            limiter.acquire(source, weight=weight, max_wait_seconds=remaining)
        except LimiterBusy:
            break
        acquired.append(time.monotonic())
        session.get(url, timeout=10).raise_for_status()
        limiter.finished(source)  # as guards/marketdata/http.py does after every answer
    return acquired


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("seconds", type=float)
    parser.add_argument("source", nargs="?", default="coinglass")
    parser.add_argument("--weight", type=int, default=1)
    parser.add_argument("--wait-for-go", action="store_true")
    args = parser.parse_args()
    get_limiter().usage(args.source)  # connect / create the state directory before the start
    if args.wait_for_go:
        print("ready", flush=True)
        sys.stdin.readline()
    acquired = run(args.url, args.seconds, args.source, args.weight)
    print(json.dumps({"worker": str(os.getpid()), "acquired": acquired}), flush=True)


if __name__ == "__main__":
    main()
