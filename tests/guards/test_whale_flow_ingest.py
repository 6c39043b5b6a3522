"""Whale flow from Binance aggTrades, incremental by fromId, against a fake Binance on 127.0.0.1."""

from datetime import datetime, timedelta, timezone

import pytest

from guards.domain import inputs
from guards.intel import ingest
from guards.marketdata.binance import BinanceFuturesClient
from guards.models import DataHealthEvent, MarketSnapshot, TradeCursor, WhaleFlowBucket

pytestmark = pytest.mark.django_db
NOW = datetime.now(timezone.utc).replace(microsecond=0)
NOW_MS = int(NOW.timestamp() * 1000)


def fetch():
    report = ingest.FetchReport()
    for kind in (inputs.WHALE_FLOW, inputs.PRICE_BARS):
        report.add("BTCUSDT", kind, *ingest.fetch_one(kind=kind, symbol="BTCUSDT", now=NOW, force=True))
    return report


def whale_snapshot():
    return MarketSnapshot.objects.filter(kind=inputs.WHALE_FLOW, symbol="BTCUSDT").order_by("-id").first()


def test_client_parses_agg_trades_and_sends_paging_params(fake_binance, settings):
    fake_binance.add_trade("BTCUSDT", price="96500.10", qty="1.250", time_ms=NOW_MS - 1000, taker_buy=True)
    client = BinanceFuturesClient(settings.BINANCE_FUTURES_BASE_URL)
    [row] = client.agg_trades("BTCUSDT", from_id=26129)
    assert (row.agg_id, str(row.price), str(row.qty), row.taker_buy) == (26129, "96500.10", "1.250", True)
    assert fake_binance.calls("/fapi/v1/aggTrades")[0]["query"] == {
        "symbol": "BTCUSDT",
        "limit": "1000",
        "fromId": "26129",
    }


def test_whale_and_retail_split_from_live_trades(fake_binance):
    t = NOW_MS - 120_000
    fake_binance.add_trade("BTCUSDT", price="100000", qty="0.7", time_ms=t, taker_buy=True)  # sweep: 2 rows,
    fake_binance.add_trade("BTCUSDT", price="100010", qty="0.5", time_ms=t, taker_buy=True)  # one 120k order
    fake_binance.add_trade("BTCUSDT", price="100000", qty="2.0", time_ms=t + 5, taker_buy=False)  # 200k whale sell
    fake_binance.add_trade("BTCUSDT", price="100000", qty="0.1", time_ms=t + 9, taker_buy=True)  # retail 10k
    fake_binance.add_trade("BTCUSDT", price="100000", qty="0.01", time_ms=t + 20, taker_buy=False)  # held back
    fetch()
    derived = whale_snapshot().derived
    assert derived["whale_buy_usd"] == "120005.00" and derived["whale_sell_usd"] == "200000.00"
    assert derived["whale_cvd_usd"] == "-79995.00"
    assert derived["retail_buy_usd"] == "10000.00" and derived["retail_cvd_usd"] == "10000.00"
    assert derived["divergent"] is True


def test_second_fetch_reads_only_new_trades_by_from_id(fake_binance):
    t = NOW_MS - 300_000
    for i in range(5):
        fake_binance.add_trade("BTCUSDT", price="50000", qty="3", time_ms=t + i, taker_buy=i % 2 == 0)
    fetch()
    first_calls = fake_binance.calls("/fapi/v1/aggTrades")
    assert "startTime" in first_calls[0]["query"] and "fromId" not in first_calls[0]["query"]
    cursor = TradeCursor.objects.get(symbol="BTCUSDT").resume_from
    assert cursor == 26129 + 4  # the trailing order is held back until it is complete
    fake_binance.add_trade("BTCUSDT", price="50000", qty="3", time_ms=t + 10, taker_buy=True)
    fetch()
    later = fake_binance.calls("/fapi/v1/aggTrades")[len(first_calls) :]
    assert later[0]["query"]["fromId"] == str(cursor)
    assert "startTime" not in later[0]["query"]
    derived = whale_snapshot().derived
    assert derived["whale_buy_usd"] == "450000.00" and derived["whale_sell_usd"] == "300000.00"


def test_sweep_split_across_pages_is_one_order(fake_binance):
    t = NOW_MS - 60_000
    for _i in range(1001):  # 1001 rows, same time and side: one order spanning two pages
        fake_binance.add_trade("BTCUSDT", price="100", qty="1", time_ms=t, taker_buy=True)
    fake_binance.add_trade("BTCUSDT", price="100", qty="1", time_ms=t + 50, taker_buy=False)
    fetch()
    derived = whale_snapshot().derived
    assert derived["whale_buy_usd"] == "100100.00" and derived["retail_buy_usd"] == "0.00"


@pytest.mark.parametrize(
    "status, body, reason",
    [
        (429, '{"code": -1003, "msg": "Too many requests"}', "RATE_LIMITED"),
        (418, '{"code": -1003, "msg": "banned"}', "RATE_LIMITED"),
        (400, '{"code": -1121, "msg": "Invalid symbol."}', "BAD_PARAMETERS"),
        (200, "<html>maintenance</html>", "MALFORMED"),
        (200, '{"not": "a list"}', "MALFORMED"),
        (200, '[{"a": 1, "p": "x"}]', "MALFORMED"),
    ],
)
def test_fault_keeps_last_good_snapshot_and_records_health(fake_binance, status, body, reason):
    fake_binance.add_trade("BTCUSDT", price="100000", qty="2", time_ms=NOW_MS - 9000, taker_buy=True)
    fake_binance.add_trade("BTCUSDT", price="100000", qty="2", time_ms=NOW_MS - 8000, taker_buy=False)
    fetch()
    good = whale_snapshot()
    fake_binance.faults = [(status, body, {"Retry-After": "1"})] * 3
    report = fetch()
    assert whale_snapshot().id == good.id
    health = DataHealthEvent.objects.filter(kind=inputs.WHALE_FLOW).order_by("-id").first()
    assert health.reason_code == reason
    assert ("BTCUSDT", inputs.WHALE_FLOW, health.outcome, reason) in report.outcomes


def test_server_error_is_retried_then_succeeds(fake_binance):
    fake_binance.add_trade("BTCUSDT", price="100000", qty="2", time_ms=NOW_MS - 9000, taker_buy=True)
    fake_binance.add_trade("BTCUSDT", price="100000", qty="1", time_ms=NOW_MS - 8000, taker_buy=False)
    fake_binance.faults = [(503, "Service Unavailable", {})]
    fetch()
    assert len(fake_binance.calls("/fapi/v1/aggTrades")) >= 2  # the 503, then the retry
    assert whale_snapshot().derived["whale_buy_usd"] == "200000.00"
    assert DataHealthEvent.objects.filter(kind=inputs.WHALE_FLOW).latest("id").outcome == "ok"


def test_buckets_hold_minute_totals(fake_binance):
    fake_binance.add_trade("BTCUSDT", price="10", qty="1", time_ms=NOW_MS - 120_000, taker_buy=True)
    fake_binance.add_trade("BTCUSDT", price="10", qty="2", time_ms=NOW_MS - 60_000, taker_buy=False)
    fake_binance.add_trade("BTCUSDT", price="10", qty="3", time_ms=NOW_MS - 1_000, taker_buy=True)
    fetch()
    buckets = list(WhaleFlowBucket.objects.filter(symbol="BTCUSDT").values_list("buy_total_cents", "sell_total_cents"))
    assert buckets == [(1000, 0), (0, 2000)]


def test_old_minute_bars_are_stored_but_recorded_stale(fake_binance):
    from tests.fakes.binance import kline

    fake_binance.bars["BTCUSDT"] = [kline(NOW_MS - 3_600_000 - 60_000 * i, "96000.0") for i in range(3, 0, -1)]
    outcome = ingest.fetch_one(kind=inputs.PRICE_BARS, symbol="BTCUSDT", now=NOW, force=True)
    assert outcome == ("stale", "STALE_DATA")
    health = DataHealthEvent.objects.filter(kind=inputs.PRICE_BARS).latest("id")
    assert health.outcome == "stale" and "old" in health.detail
    assert MarketSnapshot.objects.filter(kind=inputs.PRICE_BARS).latest("id").derived["price"] == "96000.0"


def test_current_minute_bars_are_ok(fake_binance):
    assert ingest.fetch_one(kind=inputs.PRICE_BARS, symbol="BTCUSDT", now=NOW, force=True) == ("ok", "")


def add_trades(fake_binance, n, *, start_ms, step_ms, qty="2"):
    for i in range(n):  # alternate sides so each row is its own taker order
        fake_binance.add_trade("BTCUSDT", price="100000", qty=qty, time_ms=start_ms + i * step_ms, taker_buy=i % 2 == 0)


def test_backlog_is_recorded_stale_and_the_whale_filter_fails_open_until_caught_up(fake_binance, settings, bot):
    settings.BINANCE_AGGTRADES_MAX_PAGES = 2
    now = datetime.now(timezone.utc).replace(microsecond=0)  # the API judges age on the real clock
    now_ms = int(now.timestamp() * 1000)
    add_trades(fake_binance, 2500, start_ms=now_ms - 50 * 60_000, step_ms=1000, qty="0.1")  # 2,000 reach NOW - 16m40s
    fake_binance.add_trade("BTCUSDT", price="100000", qty="5", time_ms=now_ms - 5000, taker_buy=False)  # whale sell
    fake_binance.add_trade("BTCUSDT", price="1", qty="1", time_ms=now_ms - 1000, taker_buy=True)  # held back
    assert ingest.fetch_one(kind=inputs.WHALE_FLOW, symbol="BTCUSDT", now=now, force=True) == ("stale", "STALE_DATA")
    snapshot = whale_snapshot()
    assert snapshot.derived["caught_up"] is False
    assert datetime.fromisoformat(snapshot.derived["data_time"]) == datetime.fromtimestamp(
        (now_ms - 50 * 60_000 + 1999 * 1000) / 1000, tz=timezone.utc
    )
    body = bot("/api/v1/signals/evaluate", {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1}).json()
    whale = body["guards"][1]
    assert whale["decision"] == "fail_open" and "STALE" in whale["reason"]

    assert ingest.fetch_one(kind=inputs.WHALE_FLOW, symbol="BTCUSDT", now=now, force=True) == ("ok", "")
    assert whale_snapshot().derived["caught_up"] is True
    body = bot("/api/v1/signals/evaluate", {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1}).json()
    assert body["blocked_by"] == "WHALE_INTENT_FILTER"  # the 500k whale sell, now read
    assert whale_snapshot().derived["whale_sell_usd"] == "500000.00"


def test_backlog_older_than_the_window_is_skipped_and_nothing_counts_twice(fake_binance, settings):
    settings.BINANCE_AGGTRADES_MAX_PAGES = 1
    backlog_start = NOW_MS - 70 * 60_000
    add_trades(fake_binance, 2000, start_ms=backlog_start, step_ms=100, qty="0.1")  # 10k orders, 200 s of them
    add_trades(fake_binance, 4, start_ms=NOW_MS - 10 * 60_000, step_ms=1000)  # 200k orders inside the window
    fake_binance.add_trade("BTCUSDT", price="1", qty="1", time_ms=NOW_MS - 1000, taker_buy=True)  # held back
    earlier = NOW - timedelta(minutes=58)
    assert ingest.fetch_one(kind=inputs.WHALE_FLOW, symbol="BTCUSDT", now=earlier, force=True)[0] == "stale"
    # One page later the reading is still before the window (NOW - 60 min): the backlog is skipped
    # and the window read by time; nothing read before counts inside the window.
    assert ingest.fetch_one(kind=inputs.WHALE_FLOW, symbol="BTCUSDT", now=NOW, force=True)[0] == "stale"
    assert not TradeCursor.objects.filter(symbol="BTCUSDT").exists()
    settings.BINANCE_AGGTRADES_MAX_PAGES = 40  # the window (61 minutes: two time spans) in one read
    assert ingest.fetch_one(kind=inputs.WHALE_FLOW, symbol="BTCUSDT", now=NOW, force=True) == ("ok", "")
    derived = whale_snapshot().derived
    assert derived["whale_buy_usd"] == "400000.00" and derived["whale_sell_usd"] == "400000.00"
    assert derived["retail_buy_usd"] == "0.00" and derived["retail_sell_usd"] == "0.00"
    assert derived["caught_up"] is True


def test_after_an_hour_without_fetches_the_window_is_read_again_without_double_counting(fake_binance):
    now0 = datetime.now(timezone.utc).replace(second=55, microsecond=0) - timedelta(hours=2)
    now1 = now0 + timedelta(minutes=5)
    ms = lambda moment, seconds: int((moment + timedelta(seconds=seconds)).timestamp() * 1000)  # noqa: E731
    fake_binance.add_trade("BTCUSDT", price="100", qty="1", time_ms=ms(now0, -30), taker_buy=True)
    fake_binance.add_trade("BTCUSDT", price="100", qty="1", time_ms=ms(now0, -20), taker_buy=False)
    ingest.fetch_one(kind=inputs.WHALE_FLOW, symbol="BTCUSDT", now=now0, force=True)  # a cursor
    # Read at now1 by fromId, which has no end: a whale buy 7 s after now1 is stored too.
    fake_binance.add_trade("BTCUSDT", price="100000", qty="2", time_ms=ms(now1, 7), taker_buy=True)
    fake_binance.add_trade("BTCUSDT", price="100", qty="1", time_ms=ms(now1, 10), taker_buy=False)
    ingest.fetch_one(kind=inputs.WHALE_FLOW, symbol="BTCUSDT", now=now1, force=True)
    # An hour later the cursor is older than the window: the window is read by time from its start.
    later = now1 + timedelta(minutes=60, seconds=15)
    fake_binance.add_trade("BTCUSDT", price="100", qty="1", time_ms=ms(later, -1), taker_buy=True)
    assert ingest.fetch_one(kind=inputs.WHALE_FLOW, symbol="BTCUSDT", now=later, force=True) == ("ok", "")
    assert whale_snapshot().derived["whale_buy_usd"] == "200000.00"  # once, not twice


def test_switching_from_simulated_to_live_never_mixes_the_two_markets(fake_binance):
    from guards.models import WhaleFlowBucket

    minute = NOW.replace(second=0) - timedelta(minutes=5)
    WhaleFlowBucket.objects.create(  # what the simulator left: a $900k whale sell
        symbol="BTCUSDT",
        minute_start=minute,
        source="simulated",
        buy_total_cents=0,
        sell_total_cents=90_000_000,
        floor_cents=4_000_000,
        large_orders=[-90_000_000],
        order_count=1,
    )
    TradeCursor.objects.create(symbol="BTCUSDT", resume_from=4_700_000_000, updated_at=NOW)  # a simulator id
    for i in range(4):
        fake_binance.add_trade("BTCUSDT", price="100000", qty="3", time_ms=NOW_MS - 60_000 + i, taker_buy=True)
    fake_binance.add_trade("BTCUSDT", price="100", qty="1", time_ms=NOW_MS - 1000, taker_buy=False)  # held back
    assert ingest.fetch_one(kind=inputs.WHALE_FLOW, symbol="BTCUSDT", now=NOW, force=True) == ("ok", "")
    assert not [c for c in fake_binance.calls("/fapi/v1/aggTrades") if c["query"].get("fromId") == "4700000000"]
    derived = whale_snapshot().derived
    assert (derived["whale_buy_usd"], derived["whale_sell_usd"]) == ("1200000.00", "0.00")


def test_a_decision_that_failed_open_on_whale_data_still_points_at_it(fake_binance, bot, settings):
    from guards.models import Evaluation, ParameterVersion

    fake_binance.add_trade("BTCUSDT", price="100000", qty="2", time_ms=NOW_MS - 60_000, taker_buy=True)
    fake_binance.add_trade("BTCUSDT", price="100", qty="1", time_ms=NOW_MS - 1000, taker_buy=False)
    ingest.fetch_one(kind=inputs.WHALE_FLOW, symbol="BTCUSDT", now=datetime.now(timezone.utc), force=True)
    snapshot = whale_snapshot()
    ParameterVersion.objects.filter(parameter="whale_window_minutes").update(value=30)  # a window change
    from django.core.cache import cache

    cache.clear()
    ask = {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1, "signal_id": "w"}
    whale = bot("/api/v1/signals/evaluate", ask).json()["guards"][1]
    assert whale["decision"] == "fail_open" and "covers 60 min" in whale["reason"]
    assert Evaluation.objects.get(signal_id="w").whale_flow_snapshot_id == snapshot.id
