"""Where one evaluation's time goes: POST /api/v1/signals/evaluate through Django's test client in
one process, on PostgreSQL + Redis (the bench databases of bench/gate.py), counting the database
and Redis round trips of each request and profiling with cProfile. Usage:

    .venv/bin/python bench/gate_profile.py [--requests 2000] [--top 25] [--sort tottime]

With CALLERS=<pattern> in the environment it also prints who called the functions matching it
(pstats' print_callers), e.g. CALLERS='__getattribute__' for the settings reads.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    args = parse_args()
    from gate import bench_env

    os.environ.update({k: v for k, v in bench_env().items() if k not in os.environ or k == "MARKET_DATA"})
    os.environ["DJANGO_SETTINGS_MODULE"] = "gate_site"  # the product plus bench/gate.py's two anchors
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from guards import evaluations
    from guards.schemas import EvaluateIn
    from guards.tokens import issue_token

    call_command("migrate", "--noinput", verbosity=0)
    call_command("fetch_intel", "--force", stdout=io.StringIO())
    token, _ = issue_token(user=User.objects.get_or_create(username="bench")[0])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    redis_calls = _count_redis_calls()
    run = time.time_ns()

    def evaluate(i: int, path: str = EVALUATE) -> None:
        answer = client.post(path, _body(run, path.rsplit("/", 1)[-1], i), content_type="application/json")
        assert answer.status_code == 200, answer.content

    for i in range(50):  # warm: imports, connections, caches
        evaluate(i)
    with CaptureQueriesContext(connection) as queries:
        before = redis_calls[0]
        evaluate(-1)
    print(f"one request: {len(queries)} SQL statements, {redis_calls[0] - before} Redis commands")
    for query in queries.captured_queries:
        print(f"  {query['time']}s  {query['sql'][:110]}")

    print(f"\n{args.requests} requests each, one process, unprofiled: ms per request")
    answer = client.post(EVALUATE, _body(run, "stub", 0), content_type="application/json").json()
    signal = EvaluateIn(**_body(run, "x", 0)).to_signal()
    stub = mock.patch.object(evaluations, "evaluate_signal", lambda **kwargs: answer)
    for name, path, each_request in (
        ("memory anchor", "/bench/anchor/memory", evaluate),
        ("durable anchor", "/bench/anchor/durable", evaluate),
        ("evaluate", EVALUATE, evaluate),
        ("evaluate, service stubbed (the request cycle)", EVALUATE, lambda i, path: _stubbed(stub, evaluate, i, path)),
        ("the service alone (evaluate_signal)", "direct", lambda i, path: _direct(evaluations, signal, run, i)),
    ):
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(50, 50 + args.requests):
            each_request(i, path)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        each = 1000 / args.requests
        print(f"  {name:<46} wall {wall * each:6.2f}   CPU of this process {cpu * each:6.2f}")

    profile = cProfile.Profile()
    profile.enable()
    for i in range(50 + args.requests, 50 + 2 * args.requests):
        evaluate(i)
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats(args.sort)
    stats.print_stats(args.top)
    if os.environ.get("CALLERS"):
        stats.print_callers(os.environ["CALLERS"])
    print(out.getvalue())


EVALUATE = "/api/v1/signals/evaluate"


def _body(run: int, where: str, i: int) -> dict:
    return {
        "symbol": "ETHUSDT" if i % 3 == 0 else "BTCUSDT",
        "direction": "LONG" if i % 2 == 0 else "SHORT",
        "base_size": 1000.0,
        "strategy": "TRUE_TREND",
        "signal_id": f"profile-{run}-{where}-{i}",
    }


def _stubbed(stub, evaluate, i: int, path: str) -> None:
    with stub:
        evaluate(i, path)


def _direct(evaluations, signal, run: int, i: int) -> None:
    from django.conf import settings
    from django.utils import timezone

    evaluations.evaluate_signal(
        signal=signal,
        signal_id=f"profile-{run}-direct-{i}",
        now=timezone.now(),
        remember_seconds=settings.GATE_REMEMBER_SECONDS,  # as the bot API calls it
    )


def _count_redis_calls() -> list[int]:
    """Counts every command the Redis client sends (one round trip each; MGET is one)."""
    import redis

    counter = [0]
    original = redis.Redis.execute_command

    def counted(self, *args, **options):
        counter[0] += 1
        return original(self, *args, **options)

    redis.Redis.execute_command = counted  # type: ignore[method-assign]
    return counter


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative or tottime")
    return parser.parse_args()


if __name__ == "__main__":
    main()
