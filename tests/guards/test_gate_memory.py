"""What the gate keeps between requests (issue 11): with GATE_REMEMBER_SECONDS, what it read for a
symbol is kept for at most that long (a change made in another process counts within it, one
made here at once); on Redis, bytes that do not decode read as a miss."""

import time

import pytest
from django.core.cache import cache
from django.utils import timezone

from guards import selectors
from guards.domain import inputs
from guards.intel.snapshots import snapshot_cache_key, snapshot_payload
from guards.models import MarketSnapshot
from guards.parameters import approve_version, propose_version
from tests.guards.test_evaluate_signal_api import store_whale_flow, whale_flow_raw

URL = "/api/v1/signals/evaluate"
LONG = {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 10}


def blocked_by(bot, **extra):
    response = bot(URL, {**LONG, **extra})
    assert response.status_code == 200, response.content
    return response.json()["blocked_by"]


def written_elsewhere(whale_signed_usd: list[int]) -> MarketSnapshot:
    """A snapshot as another process's worker stores it: the row and the shared cache entry, and
    nothing told to this process."""
    row = MarketSnapshot.objects.create(
        symbol="BTCUSDT",
        kind=inputs.WHALE_FLOW,
        source="simulated",
        fetched_at=timezone.now(),
        derived={},
        raw=whale_flow_raw(whale_signed_usd),
    )
    cache.set(snapshot_cache_key(row.symbol, row.kind), snapshot_payload(row), 600)
    return row


@pytest.fixture
def remember_a_second(settings):
    settings.GATE_REMEMBER_SECONDS = 1.0


@pytest.mark.django_db
def test_a_snapshot_stored_elsewhere_counts_within_the_second(bot, remember_a_second):
    store_whale_flow([-300_000])
    assert blocked_by(bot) == "WHALE_INTENT_FILTER"
    written_elsewhere([300_000])
    changed = time.monotonic()
    assert blocked_by(bot) == "WHALE_INTENT_FILTER"  # still what this process read a moment ago
    while (found := blocked_by(bot)) is not None and time.monotonic() - changed < 2:
        time.sleep(0.05)
    assert found is None and time.monotonic() - changed <= 1.1


@pytest.mark.django_db
def test_a_snapshot_stored_in_this_process_counts_at_once(bot, remember_a_second):
    store_whale_flow([-300_000])
    assert blocked_by(bot) == "WHALE_INTENT_FILTER"
    store_whale_flow([300_000])
    assert blocked_by(bot) is None


@pytest.mark.django_db
def test_an_approval_in_this_process_counts_at_once(bot, remember_a_second, django_user_model):
    proposer = django_user_model.objects.create_user("p", password="pw-p-1")
    approver = django_user_model.objects.create_superuser("a", password="pw-a-1")
    store_whale_flow([120_000, -200_000])  # whale CVD -80k: blocked at $100k
    assert blocked_by(bot) == "WHALE_INTENT_FILTER"
    version = propose_version(parameter="whale_cvd_threshold_usd", value=250000, proposer=proposer)
    approve_version(version=version, approver=approver, now=timezone.now())
    response = bot(URL, LONG).json()
    assert response["blocked_by"] is None
    assert response["thresholds"]["whale_cvd_threshold_usd"] == {"value": 250000, "version": 2}


@pytest.mark.django_db
def test_a_remembered_read_still_judges_the_data_age_at_each_request(bot, settings, remember_a_second):
    """The reading is kept, its age is not: data that turns stale while remembered fails open."""
    store_whale_flow([-300_000], age_seconds=2 * inputs.TTL_SECONDS[inputs.WHALE_FLOW] - 1)
    assert blocked_by(bot) == "WHALE_INTENT_FILTER"
    time.sleep(1.2)  # now older than twice its TTL; the read may still be remembered
    answer = bot(URL, LONG).json()
    whale = next(g for g in answer["guards"] if g["guard"] == "WHALE_INTENT_FILTER")
    assert answer["blocked_by"] is None and whale["decision"] == "fail_open" and "STALE" in whale["reason"]


@pytest.fixture
def redis_cache_on(settings, redis_url):
    from tradingbot.settings import redis_cache

    settings.CACHES = {"default": redis_cache(redis_url)}
    yield cache
    cache.clear()


@pytest.mark.django_db
def test_on_redis_an_undecodable_entry_reads_as_a_miss_and_the_table_answers(bot, redis_cache_on, redis_url, caplog):
    import redis

    store_whale_flow([-300_000])
    raw = redis.Redis.from_url(redis_url)
    for key in (selectors.ACTIVE_PARAMETERS_KEY, snapshot_cache_key("BTCUSDT", inputs.WHALE_FLOW)):
        raw.set(cache.make_key(key), b"\x80\x05not a pickle")
    assert blocked_by(bot) == "WHALE_INTENT_FILTER"  # parameters and snapshot read from the tables
    assert any("undecodable" in r.getMessage() for r in caplog.records if r.name == "guards.cache")
    assert isinstance(cache.get(selectors.ACTIVE_PARAMETERS_KEY), selectors.Params)  # and cached again
