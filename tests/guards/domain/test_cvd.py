"""Whale/retail split and CVD (SPEC §2, §3.2, §5.2): buy minus sell, whale means >= threshold."""

from decimal import Decimal

import pytest

from guards.domain.cvd import (
    AggTrade,
    FlowDetail,
    TakerOrder,
    detail_floor_cents,
    group_taker_orders,
    threshold_to_cents,
    to_cents,
)


def trade(agg_id, price, qty, time_ms, taker_buy):
    return AggTrade(agg_id, Decimal(price), Decimal(qty), time_ms, buyer_is_maker=not taker_buy)


def order(usd, buy, t=0):
    cents = to_cents(Decimal(str(usd)))
    return TakerOrder(t, cents, buy, 0, 0)


def test_sweep_rows_with_same_time_and_side_are_one_taker_order():
    rows = [trade(1, "100000", "0.6", 5, True), trade(2, "100001", "0.5", 5, True), trade(3, "100002", "0.1", 5, False)]
    orders = group_taker_orders(rows)
    assert [(o.notional_cents, o.taker_buy) for o in orders] == [(11000050, True), (1000020, False)]
    assert (orders[0].first_agg_id, orders[0].last_agg_id) == (1, 2)


def test_rows_at_different_times_are_separate_orders():
    rows = [trade(1, "10", "1", 5, True), trade(2, "10", "1", 6, True), trade(3, "10", "1", 5, True)]
    assert len(group_taker_orders(rows)) == 3


@pytest.mark.parametrize(
    "price, qty, cents",
    [("96500.10", "1.250", 12062512), ("0.333", "0.1", 3), ("99999.999", "1", 9999999)],
)
def test_notional_is_truncated_to_whole_cents(price, qty, cents):
    assert group_taker_orders([trade(1, price, qty, 1, True)])[0].notional_cents == cents


@pytest.mark.parametrize(
    "orders, threshold, whale_buy, whale_sell, retail_buy, retail_sell",
    [
        ([(100000, True)], 100000, 100000, 0, 0, 0),  # exactly at the threshold is whale
        ([(99999.99, True)], 100000, 0, 0, 99999.99, 0),
        ([(150000, False), (5000, True)], 100000, 0, 150000, 5000, 0),
        ([(150000, False), (200000, True), (60000, False)], 100000, 200000, 150000, 0, 60000),
        ([], 100000, 0, 0, 0, 0),
    ],
)
def test_split_at_threshold(orders, threshold, whale_buy, whale_sell, retail_buy, retail_sell):
    detail = FlowDetail.from_orders([order(u, b) for u, b in orders], floor_cents=to_cents(Decimal(threshold)) // 2)
    split = detail.split(to_cents(Decimal(threshold)))
    expected = [to_cents(Decimal(str(v))) for v in (whale_buy, whale_sell, retail_buy, retail_sell)]
    assert [split.whale_buy_cents, split.whale_sell_cents, split.retail_buy_cents, split.retail_sell_cents] == expected
    assert split.whale_cvd_cents == expected[0] - expected[1]  # buy minus sell
    assert split.retail_cvd_cents == expected[2] - expected[3]


def test_replay_at_any_threshold_above_floor_equals_direct_split():
    orders = [order(u, i % 3 != 0, i) for i, u in enumerate([30_000, 45_000, 80_000, 95_000, 120_000, 250_000, 999])]
    floor = detail_floor_cents(to_cents(Decimal(100_000)))
    stored = FlowDetail.from_json(FlowDetail.from_orders(orders, floor).to_json())
    for threshold_usd in (80_000, 90_000, 100_000, 110_000, 120_000):
        t = to_cents(Decimal(threshold_usd))
        assert stored.split(t) == FlowDetail.from_orders(orders, 0).split(t)


def test_split_below_floor_is_refused():
    with pytest.raises(ValueError):
        FlowDetail.from_orders([], floor_cents=4_000_000).split(3_999_999)


def test_combined_windows_keep_the_highest_floor():
    a = FlowDetail.from_orders([order(50_000, True), order(30_000, False)], floor_cents=2_000_000)
    b = FlowDetail.from_orders([order(45_000, True)], floor_cents=4_000_000)
    combined = FlowDetail.combine([a, b])
    assert combined.floor_cents == 4_000_000
    assert combined.large_orders == (5_000_000, 4_500_000)
    assert (combined.buy_total_cents, combined.sell_total_cents) == (9_500_000, 3_000_000)


def test_divergence_needs_opposite_signs():
    detail = FlowDetail.from_orders([order(200_000, True), order(5_000, False)], floor_cents=0)
    assert detail.split(10_000_000).divergent
    assert not FlowDetail.from_orders([order(200_000, True)], 0).split(10_000_000).divergent


@pytest.mark.parametrize(
    "threshold_usd, cents", [("100000", 10_000_000), ("100000.005", 10_000_001), ("99999.999", 10_000_000)]
)
def test_a_threshold_rounds_up_to_whole_cents(threshold_usd, cents):
    assert threshold_to_cents(Decimal(threshold_usd)) == cents


def test_an_order_just_below_a_fractional_threshold_stays_retail():
    detail = FlowDetail.from_orders([TakerOrder(0, 10_000_000, True, 0, 0)], 0)  # exactly $100,000.00
    split = detail.split(threshold_to_cents(Decimal("100000.005")))
    assert (split.whale_buy_cents, split.retail_buy_cents) == (0, 10_000_000)
