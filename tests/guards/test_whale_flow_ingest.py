"""Whale flow from Binance aggTrades, incremental by fromId, against a fake Binance on 127.0.0.1."""

from datetime import datetime, timezone

import pytest

from guards import ingest
from guards.domain import inputs
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
