"""One process of the shared-limiter test: acquire, GET the counting server, repeat until the deadline."""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradingbot.settings_test")
django.setup()

import requests  # noqa: E402

from guards.marketdata.limiter import get_limiter  # noqa: E402


def main(url: str, seconds: float, source: str) -> None:
    limiter, session, deadline = get_limiter(), requests.Session(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        limiter.acquire(source)
        session.get(url, timeout=5)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "coinglass")
