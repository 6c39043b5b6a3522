"""The shared rate limiter (SPEC §2) on Redis and embedded: budgets, spacing, penalties, plans,
and groups of OS processes judged by a server that logs arrivals on its own clock.

Spacing, windows and penalties run on a fake clock (FakeClock: time moves only when the limiter
sleeps or the test says so), so their figures are exact and the tests instant; a few tests keep
the real clocks (Redis's TIME, the boot-tagged monotonic clock, another OS process), and the
multi-process runs at the end (marked slow) judge the real thing by a server's arrival log."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings as django_settings

from guards.marketdata.limiter import (
    KEY_PREFIX,
    MAX_SLEEP_SECONDS,
    SAFETY_MARGIN_SECONDS,
    Budget,
    FileLimiter,
    LimiterBusy,
    RedisLimiter,
    decide,
    get_limiter,
)
from tests.fakes.counting_server import max_calls_in_any_window, min_gap
from tests.limiter_harness import ROOT, Group, format_summary, run_groups, summary, worker_env

M = SAFETY_MARGIN_SECONDS
EPS = 1e-6  # float rounding of clock arithmetic (60.05000000000001); Redis keeps microseconds
START = 1000.0


class FakeClock:
    """Seconds that move only when the limiter sleeps or the test advances them."""

    def __init__(self, start: float = START):
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def exactly(seconds: float):
    return pytest.approx(seconds, abs=EPS)


@pytest.fixture
def spec_budgets(settings):
    """The SPEC budgets (the test settings open them up for every other test)."""
    settings.COINGLASS_MIN_INTERVAL_SECONDS = 2.5
    settings.COINGLASS_CALLS_PER_MINUTE = 30
    settings.BINANCE_WEIGHT_PER_MINUTE = 1200


@pytest.fixture(params=["redis", "file"])
def backend(request, settings, tmp_path, spec_budgets):
    if request.param == "redis":
        settings.REDIS_URL = request.getfixturevalue("redis_url")
    else:
        settings.REDIS_URL = ""
        settings.RATE_LIMIT_DIR = tmp_path / "var" / "ratelimit"
    return request.param


@pytest.fixture
def clock():
    return FakeClock()


def build(backend, settings, clock):
    if backend == "redis":
        return RedisLimiter(settings.REDIS_URL, clock=clock, sleep=clock.sleep)
    return FileLimiter(settings.RATE_LIMIT_DIR, clock=clock, sleep=clock.sleep)


@pytest.fixture
def limiter(backend, settings, clock):
    """The backend's limiter on the fake clock."""
    return build(backend, settings, clock)


@pytest.fixture
def elsewhere(backend, settings, clock):
    """A second limiter on the same shared state and clock, as another process would build it."""
    return build(backend, settings, clock)


@pytest.fixture
def real_limiter(backend):
    """The limiter every process uses: real clocks (Redis's TIME, this machine's monotonic clock)."""
    return get_limiter()


def busy_wait(limiter, source, weight=1, max_wait=0.0) -> float:
    with pytest.raises(LimiterBusy) as busy:
        limiter.acquire(source, weight=weight, max_wait_seconds=max_wait)
    return busy.value.wait_seconds


# --- The decision, as a table -------------------------------------------------------------------


@pytest.mark.parametrize(
    "log, last, penalty, weight, limit, spacing, wait",
    [
        ([], None, 0.0, 1, 30, 2.5, 0.0),
        ([[99.0, 1]], 99.0, 0.0, 1, 30, 2.5, 1.5 + M),  # spacing plus the safety margin
        ([[97.0, 1]], 97.0, 0.0, 1, 30, 2.5, 0.0),
        ([[50.0, 1]] * 30, 50.0, 0.0, 1, 30, 0.0, 10.0 + M),  # full: until the oldest leaves
        ([[41.0, 20], [50.0, 20]], 50.0, 0.0, 20, 40, 0.0, 1.0 + M),
        ([[41.0, 10], [45.0, 10], [50.0, 20]], 50.0, 0.0, 20, 40, 0.0, 5.0 + M),  # two must leave
        ([[45.0, 10], [41.0, 10], [50.0, 20]], 50.0, 0.0, 20, 40, 0.0, 5.0 + M),  # any log order
        ([[39.0, 40]], 39.0, 0.0, 40, 40, 0.0, 0.0),  # left the window at 99.05
        ([[40.0 - M / 2, 40]], 40.0, 0.0, 1, 40, 0.0, M / 2),  # counts 60 s + margin
        ([], None, 130.0, 1, 30, 0.0, 30.0),  # penalty
        ([[99.9, 1]], 99.9, 101.0, 1, 30, 2.5, 2.4 + M),  # the longest wait wins
    ],
)
def test_decide_table(log, last, penalty, weight, limit, spacing, wait):
    assert decide(100.0, log, last, penalty, weight, Budget(limit, spacing), limit) == pytest.approx(wait, abs=1e-9)


def test_decide_refuses_a_weight_that_can_never_fit():
    with pytest.raises(ValueError):
        decide(100.0, [], None, 0.0, 41, Budget(40, 0.0), 40)


def test_limiter_busy_carries_the_wait_and_pickles():
    busy = pickle.loads(pickle.dumps(LimiterBusy(2.5, "coinglass")))
    assert (busy.wait_seconds, busy.source) == (2.5, "coinglass") and "2.50s" in str(busy)
    assert LimiterBusy(1.0).wait_seconds == 1.0 and isinstance(busy, Exception)


# --- Backend choice --------------------------------------------------------------------------------


def test_without_redis_url_the_file_limiter_is_used_per_directory(settings, tmp_path):
    settings.REDIS_URL = ""
    settings.RATE_LIMIT_DIR = tmp_path / "a" / "ratelimit"
    first = get_limiter()
    assert isinstance(first, FileLimiter) and (tmp_path / "a" / "ratelimit").is_dir()
    assert get_limiter() is first
    settings.RATE_LIMIT_DIR = tmp_path / "b"
    assert get_limiter() is not first and get_limiter().directory == tmp_path / "b"


def test_with_redis_url_the_redis_limiter_is_used(settings, redis_url):
    settings.REDIS_URL = redis_url
    assert isinstance(get_limiter(), RedisLimiter) and get_limiter() is get_limiter()
    assert get_limiter().usage("coinglass")["backend"] == "redis"


# --- Budgets ---------------------------------------------------------------------------------------


def test_spacing_runs_from_the_end_of_a_slow_call(limiter, clock):
    limiter.acquire("coinglass", max_wait_seconds=0)
    clock.advance(0.6)  # a call whose connection set-up was slow
    limiter.finished("coinglass")
    assert busy_wait(limiter, "coinglass") == exactly(2.5 + M)  # from the answer (from the start: 1.95)


def test_an_answer_in_another_process_spaces_every_process(limiter, elsewhere, clock):
    limiter.acquire("coinglass", max_wait_seconds=0)
    clock.advance(0.3)
    elsewhere.finished("coinglass")  # another process's answer arrives
    limiter.finished("binance")  # no spacing rule there: nothing to move
    assert busy_wait(limiter, "coinglass") == exactly(2.5 + M)
    limiter.acquire("binance", max_wait_seconds=0)


def test_binance_weight_budget(limiter, settings, clock):
    settings.BINANCE_WEIGHT_PER_MINUTE = 100
    for _ in range(5):
        limiter.acquire("binance", weight=20, max_wait_seconds=0)
    assert busy_wait(limiter, "binance", weight=20) == exactly(60 + M)
    clock.advance(10)
    assert busy_wait(limiter, "binance", weight=1) == exactly(50 + M)  # even the lightest call
    assert limiter.usage("binance")["used_last_60s"] == 100
    limiter.acquire("coinglass", max_wait_seconds=0)  # budgets are per source


def test_weight_frees_up_when_the_oldest_calls_leave(limiter, settings, clock):
    settings.BINANCE_WEIGHT_PER_MINUTE = 3
    limiter.acquire("binance", weight=2)
    clock.advance(0.3)
    limiter.acquire("binance", weight=1)
    limiter.acquire("binance", weight=2)  # needs the first (weight 2) to leave: 60 s + margin after it
    assert clock() - START == exactly(60 + M)
    assert sum(clock.slept) == exactly(60 + M - 0.3) and max(clock.slept) == MAX_SLEEP_SECONDS  # in steps
    assert limiter.usage("binance")["used_last_60s"] == 3  # the weight-1 call and the second weight 2


def test_the_window_slides(limiter, settings, clock):
    """No 60 s window, wherever it starts, holds more than the budget; the budget is used: five
    calls at once, the next five as soon as the first leave the window (60 s + margin), and so on."""
    settings.BINANCE_WEIGHT_PER_MINUTE = 5
    returned = []
    while len(returned) < 15:
        limiter.acquire("binance")
        returned.append(clock() - START)
    assert returned == [exactly(at) for at in [0.0] * 5 + [60 + M] * 5 + [120 + 2 * M] * 5]
    assert max_calls_in_any_window(returned, window=60.0) == 5


def test_coinglass_min_interval(limiter, clock):
    limiter.acquire("coinglass", max_wait_seconds=0)
    assert busy_wait(limiter, "coinglass", max_wait=1) == exactly(2.5 + M)
    clock.advance(1.0)
    assert busy_wait(limiter, "coinglass", max_wait=1) == exactly(1.5 + M)
    limiter.acquire("coinglass", max_wait_seconds=5)
    assert clock() - START == exactly(2.5 + M)
    assert limiter.usage("coinglass")["min_interval_seconds"] == 2.5


def test_max_wait_lets_a_caller_wait_that_long(limiter, settings, clock):
    settings.COINGLASS_MIN_INTERVAL_SECONDS = 0.3
    limiter.acquire("coinglass")
    limiter.acquire("coinglass", max_wait_seconds=0.3 + M + 0.001)  # waits 0.35 s, no LimiterBusy
    assert clock.slept == [exactly(0.3 + M)]
    assert busy_wait(limiter, "coinglass", max_wait=0.3 + M - 0.001) == exactly(0.3 + M)  # just too short
    assert clock.slept == [exactly(0.3 + M)]  # a refused caller does not wait at all
    assert limiter.usage("coinglass")["used_last_60s"] == 2  # a refused call reserves nothing


def test_the_real_clocks_really_wait(real_limiter, settings):
    """The clocks every process uses (no injection): a spacing is really slept."""
    settings.COINGLASS_MIN_INTERVAL_SECONDS = 0.1
    real_limiter.acquire("coinglass")
    started = time.monotonic()
    real_limiter.acquire("coinglass", max_wait_seconds=1)
    assert 0.1 + M - 0.01 <= time.monotonic() - started < 1


def test_unknown_sources_and_impossible_weights_are_refused(limiter, settings):
    for call in (
        lambda: limiter.acquire("kraken"),
        lambda: limiter.penalize("kraken", 5),
        lambda: limiter.set_calls_per_minute("kraken", 5),
        lambda: limiter.usage("kraken"),
        lambda: limiter.acquire("binance", weight=1201),
        lambda: limiter.acquire("binance", weight=0),
        lambda: limiter.set_calls_per_minute("coinglass", 0),
        lambda: limiter.penalize("coinglass", float("inf")),
    ):
        with pytest.raises(ValueError):
            call()
    limiter.set_calls_per_minute("binance", 10)
    with pytest.raises(ValueError):  # larger than the plan's budget: it would wait forever
        limiter.acquire("binance", weight=11)


def test_threads_never_overbook(limiter, elsewhere, settings):
    settings.BINANCE_WEIGHT_PER_MINUTE = 10
    granted = []

    def attempt(lim):
        for _ in range(5):
            try:
                lim.acquire("binance", max_wait_seconds=0)
                granted.append(1)
            except LimiterBusy:
                pass

    threads = [threading.Thread(target=attempt, args=(lim,)) for lim in [limiter, elsewhere] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 10


# --- Penalties -------------------------------------------------------------------------------------


def test_penalize_blocks_every_caller_of_that_source(limiter, elsewhere, clock):
    limiter.penalize("coinglass", 30)
    assert busy_wait(limiter, "coinglass", max_wait=1) == exactly(30)
    assert busy_wait(elsewhere, "coinglass") == exactly(30)
    clock.advance(1)
    limiter.penalize("coinglass", 5)  # a shorter penalty does not shorten the running one
    assert busy_wait(elsewhere, "coinglass") == exactly(29)
    limiter.penalize("coinglass", 40)  # a longer one does lengthen it
    assert busy_wait(elsewhere, "coinglass") == exactly(40)
    until = elsewhere.usage("coinglass")["penalized_until"]  # a Unix time for the dashboard
    assert until == pytest.approx(time.time() + 40, abs=2)
    limiter.acquire("binance", max_wait_seconds=0)
    assert limiter.usage("binance")["penalized_until"] is None


def test_penalty_ends_on_time(limiter, clock):
    limiter.penalize("binance", 0.3)
    limiter.acquire("binance", max_wait_seconds=2)
    assert clock.slept == [exactly(0.3)]
    assert limiter.usage("binance")["penalized_until"] is None


def test_penalty_holds_in_another_os_process(backend, real_limiter, settings, tmp_path):
    real_limiter.penalize("coinglass", 20)
    code = (
        "import django; django.setup()\n"
        "from guards.marketdata.limiter import LimiterBusy, get_limiter\n"
        "try:\n    get_limiter().acquire('coinglass', max_wait_seconds=1); print('went')\n"
        "except LimiterBusy as busy:\n    print(busy.wait_seconds)\n"
    )
    group_vars = {"REDIS_URL": settings.REDIS_URL} if backend == "redis" else {}
    if backend == "file":
        group_vars["TRADINGBOT_VAR_DIR"] = str(tmp_path / "var")  # RATE_LIMIT_DIR is VAR_DIR/ratelimit
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=worker_env(**group_vars), capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert 18 < float(out.stdout.strip()) <= 20


# --- Plans -----------------------------------------------------------------------------------------


def test_set_calls_per_minute_lowers_and_raises_the_cap_for_everyone(limiter, elsewhere, settings):
    settings.COINGLASS_MIN_INTERVAL_SECONDS = 0
    limiter.set_calls_per_minute("coinglass", 3)
    for _ in range(3):
        elsewhere.acquire("coinglass", max_wait_seconds=0)
    busy_wait(limiter, "coinglass")
    assert elsewhere.usage("coinglass")["limit_per_minute"] == 3
    elsewhere.set_calls_per_minute("coinglass", 40)  # above the settings' 30: the plan wins
    for _ in range(37):
        limiter.acquire("coinglass", max_wait_seconds=0)
    busy_wait(limiter, "coinglass")
    assert limiter.usage("coinglass") == {
        "used_last_60s": 40,
        "limit_per_minute": 40,
        "min_interval_seconds": 0.0,
        "penalized_until": None,
        "backend": limiter.backend,
    }


def test_usage_of_an_unused_source(limiter):
    assert limiter.usage("binance") == {
        "used_last_60s": 0,
        "limit_per_minute": 1200,
        "min_interval_seconds": 0.0,
        "penalized_until": None,
        "backend": limiter.backend,
    }


# --- Backend details -------------------------------------------------------------------------------


def test_file_state_that_cannot_be_read_pauses_the_source_one_window(tmp_path, spec_budgets, clock):
    (tmp_path / "binance.json").write_text("{not json")
    limiter = FileLimiter(tmp_path, clock=clock, sleep=clock.sleep)
    assert busy_wait(limiter, "binance") == exactly(60 + M)
    clock.advance(1)
    assert busy_wait(limiter, "binance") == exactly(59 + M)  # persisted, not re-derived each time
    assert json.loads((tmp_path / "binance.json").read_text())["penalty"] == exactly(START + 60 + M)


def test_file_state_from_another_boot_is_dropped_but_the_plan_kept(settings, tmp_path, spec_budgets):
    settings.REDIS_URL = ""
    settings.RATE_LIMIT_DIR = tmp_path
    stale = {"clock": "monotonic:another-boot", "log": [[1e12, 1200]], "last": 1e12, "penalty": 1e12, "limit": 80}
    (tmp_path / "coinglass.json").write_text(json.dumps(stale))
    get_limiter().acquire("coinglass", max_wait_seconds=0)
    assert get_limiter().usage("coinglass")["limit_per_minute"] == 80


def test_redis_keys_are_prefixed_and_expire(settings, redis_url, spec_budgets):
    import redis

    settings.REDIS_URL = redis_url
    limiter = get_limiter()
    limiter.acquire("coinglass")
    limiter.penalize("binance", 10)
    limiter.set_calls_per_minute("coinglass", 80)
    client = redis.Redis.from_url(redis_url)
    keys = sorted(k.decode() for k in client.keys("*"))
    assert keys and all(k.startswith(KEY_PREFIX) for k in keys)
    log, last, _, limit = RedisLimiter.keys("coinglass")
    assert 60 < client.pttl(log) / 1000 <= 62 and 60 < client.pttl(last) / 1000 <= 62
    assert 10 < client.pttl(RedisLimiter.keys("binance")[2]) / 1000 <= 11
    assert client.pttl(limit) == -1  # the plan stays until changed
    seconds, micros = client.time()
    assert float(client.get(last)) == pytest.approx(seconds + micros / 1e6, abs=1)  # Redis's clock


def test_an_injected_clock_replaces_redis_time_in_every_script(settings, redis_url, spec_budgets, clock):
    import redis

    limiter = RedisLimiter(redis_url, clock=clock, sleep=clock.sleep)
    limiter.acquire("coinglass")
    clock.advance(0.5)
    limiter.finished("coinglass")
    limiter.penalize("binance", 10)
    client = redis.Redis.from_url(redis_url)
    log, last, _, _ = RedisLimiter.keys("coinglass")
    assert [score for _, score in client.zrange(log, 0, -1, withscores=True)] == [START]
    assert float(client.get(last)) == START + 0.5
    assert float(client.get(RedisLimiter.keys("binance")[2])) == START + 10.5
    clock.advance(60 + M)  # the reservation leaves the window on the injected clock, not Redis's
    assert limiter.usage("coinglass")["used_last_60s"] == 0


# --- The acceptance test: OS processes for 65 s, judged by the server's log -----------------------

RUN_SECONDS = 65.0
REDIS_GROUPS = {"redis", "redis-binance-weight"}


@pytest.fixture(scope="module")
def process_groups(tmp_path_factory):
    """All groups at once (~72 s wall in total), 4 OS processes each, own server and own state:
    - redis, file: CoinGlass at the SPEC budget (2.5 s spacing, 30/min): the spacing binds;
    - file-cap: CoinGlass with 0.5 s spacing, so the 30-per-minute cap binds;
    - redis-binance-weight: Binance, 120 weight/min at weight 4, no spacing: the sliding
      window alone binds, in bursts (30 calls at once, the next 30 one window later).
    Redis groups run only when Redis is there (the redis variants skip, or fail in CI)."""
    tmp = tmp_path_factory.mktemp("limiter-groups")
    cg = {"COINGLASS_CALLS_PER_MINUTE": "30"}
    groups = [
        Group(
            "file",
            worker_env(TRADINGBOT_VAR_DIR=str(tmp / "file"), COINGLASS_MIN_INTERVAL_SECONDS="2.5", **cg),
            2.5,
            30,
        ),
        Group(
            "file-cap",
            worker_env(TRADINGBOT_VAR_DIR=str(tmp / "cap"), COINGLASS_MIN_INTERVAL_SECONDS="0.5", **cg),
            0.5,
            30,
        ),
    ]
    if django_settings.REDIS_AVAILABLE:
        import redis

        url = django_settings.TEST_REDIS_URL
        redis.Redis.from_url(url).flushdb()
        groups += [
            Group("redis", worker_env(REDIS_URL=url, COINGLASS_MIN_INTERVAL_SECONDS="2.5", **cg), 2.5, 30),
            Group(
                "redis-binance-weight",
                worker_env(REDIS_URL=url, BINANCE_WEIGHT_PER_MINUTE="120"),
                0.0,
                30,
                source="binance",
                weight=4,
            ),
        ]
    run_groups(groups, RUN_SECONDS)
    for group in groups:
        print(format_summary(summary(group, RUN_SECONDS), group.processes, RUN_SECONDS))
    return {group.name: group for group in groups}


@pytest.fixture
def group(request, process_groups):
    if request.param in REDIS_GROUPS:
        request.getfixturevalue("redis_url")  # skips without Redis (fails in CI)
    return process_groups[request.param]


@pytest.mark.slow
@pytest.mark.parametrize("group", ["redis", "file"], indirect=True)
def test_processes_keep_the_coinglass_spacing_and_cap(group):
    arrivals = group.arrivals
    assert min_gap(arrivals) >= 2.5, group.name  # from the server's clock, no tolerance
    assert max_calls_in_any_window(arrivals) <= 30, group.name
    assert len(arrivals) >= 25, group.name  # 65 s at one call per 2.55 s: 26
    assert len(group.workers_seen) >= 3, group.name  # the budget really is shared by processes


@pytest.mark.slow
@pytest.mark.parametrize("group", ["file-cap", "redis-binance-weight"], indirect=True)
def test_processes_keep_the_per_minute_cap_when_it_binds(group):
    arrivals = group.arrivals
    assert max_calls_in_any_window(arrivals) == 30, group.name  # reached, never exceeded
    assert min_gap(arrivals) >= group.spacing, group.name
    # After the first 30 the cap holds calls until the first one leaves the window, then more go.
    assert len(arrivals) >= (38 if group.spacing else 58), group.name
    assert arrivals[30] - arrivals[0] > 60, group.name
    assert len(group.workers_seen) >= 3, group.name
