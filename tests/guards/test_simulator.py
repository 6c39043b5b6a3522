"""The seeded market simulator (SPEC §2 offline default): deterministic, realistic, consistent."""

import statistics
from decimal import Decimal

import pytest

from guards.domain.clusters import find_clusters, parse_heatmap, top_clusters
from guards.domain.cvd import group_taker_orders
from guards.domain.sentiment import latest_fear_greed, nearest_max_pain, taker_buy_share
from guards.marketdata import market_model as model
from guards.marketdata import simulated_coinglass as sim
from guards.marketdata.sources import SimulatedFullMarket

NOW_MS = 1_795_559_000_000  # 2026-11-24


def market(seed=7, now_ms=NOW_MS):
    return SimulatedFullMarket(seed, clock_ms=lambda: now_ms)


def test_same_seed_same_market_other_seed_other_market():
    a, b, c = market(7), market(7), market(8)
    assert a.agg_trades("BTCUSDT", start_ms=NOW_MS - 600_000) == b.agg_trades("BTCUSDT", start_ms=NOW_MS - 600_000)
    assert a.heatmap("BTC") == b.heatmap("BTC")
    assert a.agg_trades("BTCUSDT", start_ms=NOW_MS - 600_000) != c.agg_trades("BTCUSDT", start_ms=NOW_MS - 600_000)


def test_agg_trades_page_by_from_id_and_never_from_the_future():
    m = market()
    first = m.agg_trades("BTCUSDT", start_ms=NOW_MS - 3_600_000, end_ms=NOW_MS)
    second = m.agg_trades("BTCUSDT", from_id=first[-1].agg_id + 1)
    assert len(first) == 1000 and second[0].agg_id > first[-1].agg_id
    assert all(t.time_ms <= NOW_MS for t in first + second)
    assert [t.agg_id for t in first + second] == sorted({t.agg_id for t in first + second})


def test_trade_sizes_are_heavy_tailed_and_sweeps_span_several_rows():
    m = market()
    trades = m.agg_trades("BTCUSDT", start_ms=NOW_MS - 3_600_000, end_ms=NOW_MS)
    while len(trades) < 6000:
        trades += m.agg_trades("BTCUSDT", from_id=trades[-1].agg_id + 1)
    orders = group_taker_orders(trades)
    sizes = sorted(o.notional_cents for o in orders)
    assert sizes[-1] > 100 * statistics.median(sizes)
    top_share = sum(sizes[-len(sizes) // 100 :]) / sum(sizes)
    assert top_share > 0.2  # the largest 1% of orders carry over a fifth of the notional
    assert len(orders) < len(trades)  # some orders swept several price levels


def test_fear_greed_stays_in_range_and_crosses_80_in_some_regimes():
    values = [int(v) for v in sim.fear_greed(7, NOW_MS, days=180)[0]["data_list"]]
    assert all(0 <= v <= 100 for v in values)
    assert any(v > 80 for v in values) and any(v < 50 for v in values)
    assert latest_fear_greed(market().fear_greed()).value == Decimal(values[-1])


def test_taker_flow_sometimes_agrees_and_sometimes_disagrees_with_whale_flow():
    agree = disagree = 0
    for hour in range(48):
        now_ms = NOW_MS - hour * 3_600_000
        share = taker_buy_share(sim.taker_buy_sell(7, "BTCUSDT", now_ms, "1h"))
        last = model.minute_index(now_ms)
        orders = [o for minute in range(last - 60, last) for o in model.taker_orders(7, "BTCUSDT", minute)]
        whale_cvd = sum(n if buy else -n for _, n, buy, _ in orders if n >= 100_000)
        if whale_cvd:
            agree, disagree = (
                (agree + 1, disagree) if (share > Decimal("0.5")) == (whale_cvd > 0) else (agree, disagree + 1)
            )
    assert agree > 0 and disagree > 0


@pytest.mark.parametrize("symbol, round_step", [("BTCUSDT", 1000), ("ETHUSDT", 50)])
def test_liquidation_clusters_sit_around_the_price_and_round_numbers(symbol, round_step):
    heatmap = parse_heatmap(market().heatmap(symbol.removesuffix("USDT")))
    clusters = find_clusters(heatmap)
    assert top_clusters(clusters, heatmap.current_price, window_pct=Decimal(3))
    assert any(c.price % round_step == 0 for c in clusters)
    assert all(abs(c.price / heatmap.current_price - 1) < Decimal("0.15") for c in clusters)


def test_max_pain_has_an_upcoming_expiry_near_the_price():
    from datetime import datetime, timezone

    today = datetime.fromtimestamp(NOW_MS / 1000, tz=timezone.utc).date()
    pain = nearest_max_pain(market().max_pain("BTC"), today)
    price = Decimal(str(model.mid_price(7, "BTCUSDT", model.minute_index(NOW_MS))))
    assert pain.expiry >= today and abs(pain.price / price - 1) < Decimal("0.2")
