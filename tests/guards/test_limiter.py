"""The shared rate limiter (SPEC §2), on Redis and embedded: budgets, spacing, penalties, plans,
and 4+ processes for 65 s against a server that counts arrivals on its own clock."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guards.marketdata.limiter import Budget, FileLimiter, LimiterBusy, RedisLimiter, decide
from tests.fakes.counting_server import CountingServer, max_calls_in_any_window, min_gap

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def spec_budgets(settings):
    settings.COINGLASS_MIN_INTERVAL_SECONDS = 2.5
    settings.COINGLASS_CALLS_PER_MINUTE = 30
    settings.BINANCE_WEIGHT_PER_MINUTE = 1200


@pytest.fixture(params=["redis", "file"])
def limiter(request, settings, tmp_path, spec_budgets):
    if request.param == "redis":
        return RedisLimiter(request.getfixturevalue("redis_url"))
    return FileLimiter(tmp_path / "limits")


@pytest.mark.parametrize(
    "log, last, penalty, weight, limit, spacing, wait",
    [
        ([], 0.0, 0.0, 1, 30, 2.5, 0.0),
        ([[99.0, 1]], 99.0, 0.0, 1, 30, 2.5, 1.6),  # 2.5 s spacing plus the 0.1 s margin
        ([[50.0, 1]] * 30, 50.0, 0.0, 1, 30, 0.0, 10.501),  # full window: wait until the oldest leaves
        ([[41.0, 20], [50.0, 20]], 50.0, 0.0, 20, 40, 0.0, 1.501),
        ([], 0.0, 130.0, 1, 30, 0.0, 30.0),  # penalty first
    ],
)
def test_decide_table(log, last, penalty, weight, limit, spacing, wait):
    assert decide(100.0, log, last, penalty, weight, Budget(limit, spacing), limit) == pytest.approx(wait, abs=1e-6)


def test_binance_weight_budget_is_shared(limiter, settings):
    settings.BINANCE_WEIGHT_PER_MINUTE = 100
    for _ in range(5):
        limiter.acquire("binance", weight=20, max_wait_seconds=0)
    with pytest.raises(LimiterBusy) as busy:
        limiter.acquire("binance", weight=20, max_wait_seconds=0)
    assert 59 < busy.value.wait_seconds <= 61
    assert limiter.usage("binance")["used_last_60s"] == 100


def test_coinglass_spacing(limiter):
    limiter.acquire("coinglass", max_wait_seconds=0)
    with pytest.raises(LimiterBusy) as busy:
        limiter.acquire("coinglass", max_wait_seconds=1)
    assert 2.4 < busy.value.wait_seconds <= 2.6
    started = time.monotonic()
    limiter.acquire("coinglass", max_wait_seconds=5)
    assert time.monotonic() - started >= 2.4


def test_penalty_stops_every_caller(limiter):
    limiter.penalize("binance", 30)
    with pytest.raises(LimiterBusy) as busy:
        limiter.acquire("binance", max_wait_seconds=1)
    assert 29 < busy.value.wait_seconds <= 30
    assert limiter.usage("binance")["penalized_until"] is not None


def test_plan_limit_replaces_the_default(limiter, settings):
    settings.COINGLASS_MIN_INTERVAL_SECONDS = 0
    limiter.set_calls_per_minute("coinglass", 3)
    for _ in range(3):
        limiter.acquire("coinglass", max_wait_seconds=0)
    with pytest.raises(LimiterBusy):
        limiter.acquire("coinglass", max_wait_seconds=0)
    assert limiter.usage("coinglass")["limit_per_minute"] == 3


def test_unknown_source_and_oversized_weight_are_refused(limiter):
    with pytest.raises(ValueError):
        limiter.acquire("kraken")
    with pytest.raises(ValueError):
        limiter.acquire("binance", weight=5000)


def start_workers(count, url, seconds, env):
    return [
        subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "limiter_worker.py"), url, str(seconds)], cwd=ROOT, env=env
        )
        for _ in range(count)
    ]


@pytest.mark.slow
def test_four_processes_for_65s_keep_coinglass_limits_on_redis_and_embedded(redis_url, tmp_path):
    """Two groups run at once: 4 processes sharing the Redis limiter, 4 sharing the file limiter.
    A third group runs with 0.5 s spacing so the 30-per-minute cap is what binds."""
    base = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tradingbot.settings_test",
        "COINGLASS_CALLS_PER_MINUTE": "30",
        "PYTHONPATH": str(ROOT),
    }
    groups = {
        "redis": {**base, "REDIS_URL": redis_url, "COINGLASS_MIN_INTERVAL_SECONDS": "2.5"},
        "file": {**base, "TRADINGBOT_VAR_DIR": str(tmp_path / "file"), "COINGLASS_MIN_INTERVAL_SECONDS": "2.5"},
        "cap": {**base, "TRADINGBOT_VAR_DIR": str(tmp_path / "cap"), "COINGLASS_MIN_INTERVAL_SECONDS": "0.5"},
    }
    servers = {name: CountingServer() for name in groups}
    procs = [p for name, env in groups.items() for p in start_workers(4, servers[name].url, 65, env)]
    try:
        assert all(p.wait(timeout=120) == 0 for p in procs)
    finally:
        for p in procs:
            p.kill()
        for server in servers.values():
            server.stop()
    for name in ("redis", "file"):
        arrivals = servers[name].arrivals
        assert min_gap(arrivals) >= 2.5, name
        assert max_calls_in_any_window(arrivals) <= 30, name
        assert len(arrivals) >= 24, name  # the limiter lets calls through, not just blocks
    capped = servers["cap"].arrivals
    assert max_calls_in_any_window(capped) <= 30 and len(capped) >= 30 and min_gap(capped) >= 0.5
