"""Stored data for dashboard tests: whale flow, heatmap, prices, positions, as fetches and the
min-hold endpoint store them."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from guards.domain import inputs
from guards.domain.cvd import FlowDetail, TakerOrder
from tests.intel import store_input

FLOOR_CENTS = 4_000_000  # 40% of the default $100,000 threshold


def store_flow(orders_usd: list[int], symbol: str = "BTCUSDT", age_seconds: int = 30):
    """A whale-flow snapshot whose taker orders are `orders_usd` (signed: + buy, - sell)."""
    orders = [TakerOrder(0, abs(u) * 100, u > 0, 0, 0) for u in orders_usd]
    detail = FlowDetail.from_orders(orders, floor_cents=FLOOR_CENTS)
    return store_input(
        inputs.WHALE_FLOW,
        {"window_minutes": 60},
        {"detail": detail.to_json()},
        symbol=symbol,
        age_seconds=age_seconds,
    )


def diverging_flow(symbol: str = "BTCUSDT", age_seconds: int = 30):
    """Whales sell $500k net, retail buys $60k net: the two CVDs point opposite ways."""
    return store_flow([-300_000, -200_000, 40_000, 20_000], symbol=symbol, age_seconds=age_seconds)


def store_price(price: str, symbol: str = "BTCUSDT", age_seconds: int = 30):
    data_time = (timezone.now() - timedelta(seconds=age_seconds)).isoformat()
    return store_input(
        inputs.PRICE_BARS, {"price": price, "data_time": data_time}, symbol=symbol, age_seconds=age_seconds
    )


def store_heatmap(clusters: list[tuple[str, str]], symbol: str = "BTCUSDT", age_seconds: int = 30, levels=None):
    """Clusters as (price, intensity USD); `levels` the latest column [(price, USD)] (default: the clusters)."""
    derived = {"clusters": [{"price": p, "intensity": i} for p, i in clusters], "current_price": "100000"}
    raw = {"latest_column_levels": [[p, u] for p, u in (levels if levels is not None else clusters)]}
    return store_input(inputs.LIQUIDATION, derived, raw, symbol=symbol, age_seconds=age_seconds)


def hold_request(position_id: str, *, direction="LONG", entry="99000", current="100000", symbol="BTCUSDT") -> dict:
    return {
        "symbol": symbol,
        "direction": direction,
        "strategy": "TRUE_TREND",
        "entry_price": float(Decimal(entry)),
        "current_price": float(Decimal(current)),
        "opened_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "position_id": position_id,
    }
