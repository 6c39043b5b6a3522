"""Fear & Greed, taker buy share and options max pain from CoinGlass payloads (SPEC §2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from guards.domain.numbers import MalformedPayload, to_decimal, to_millis


@dataclass(frozen=True)
class FearGreed:
    value: Decimal  # 0..100
    time_ms: int


def latest_fear_greed(data: Any) -> FearGreed:
    """The entry with the greatest time. Accepts both wrappings MARKETDATA.md lists:
    `[{"data_list", "time_list", ...}]` (the docs) and `{"data_list", ...}` (a client)."""
    if isinstance(data, list):
        if not data:
            raise MalformedPayload("fear & greed data is empty")
        data = data[0]
    if not isinstance(data, dict):
        raise MalformedPayload("fear & greed data is not an object")
    values, times = data.get("data_list"), data.get("time_list")
    if not isinstance(values, list) or not isinstance(times, list) or not values:
        raise MalformedPayload("fear & greed lacks data_list / time_list")
    if len(values) != len(times):
        raise MalformedPayload("fear & greed data_list and time_list differ in length")
    points = [(to_millis(t, "time"), v) for t, v in zip(times, values, strict=True)]
    time_ms, raw = max(points, key=lambda point: point[0])
    value = to_decimal(raw, "fear & greed value")
    if not Decimal(0) <= value <= Decimal(100):
        raise MalformedPayload(f"fear & greed value {value} is outside 0..100")
    return FearGreed(value, time_ms)


def taker_buy_share(data: Any) -> Decimal:
    """Taker buy share (0..1) over the requested range, from the exchange-list aggregate.

    Prefers USD volumes (buy / (buy + sell)); falls back to the percentage ratios.
    """
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict):
        raise MalformedPayload("taker buy/sell data is not an object")
    if "buy_vol_usd" in data and "sell_vol_usd" in data:
        buy, sell = to_decimal(data["buy_vol_usd"], "buy_vol_usd"), to_decimal(data["sell_vol_usd"], "sell_vol_usd")
    elif "buy_ratio" in data and "sell_ratio" in data:
        buy, sell = to_decimal(data["buy_ratio"], "buy_ratio"), to_decimal(data["sell_ratio"], "sell_ratio")
    else:
        raise MalformedPayload("taker buy/sell lacks buy_vol_usd/sell_vol_usd and buy_ratio/sell_ratio")
    if buy < 0 or sell < 0 or buy + sell == 0:
        raise MalformedPayload("taker buy/sell volumes are negative or both zero")
    return buy / (buy + sell)


@dataclass(frozen=True)
class MaxPain:
    expiry: date
    price: Decimal


def nearest_max_pain(rows: Any, today: date) -> MaxPain:
    """Max pain of the nearest expiry not in the past (row order is undocumented)."""
    if not isinstance(rows, list) or not rows:
        raise MalformedPayload("max pain data is not a non-empty list")
    expiries = [_max_pain_row(row) for row in rows]
    upcoming = [m for m in expiries if m.expiry >= today]
    if not upcoming:
        raise MalformedPayload("max pain has no expiry today or later")
    return min(upcoming, key=lambda m: m.expiry)


def _max_pain_row(row: Any) -> MaxPain:
    if not isinstance(row, dict) or "date" not in row or "max_pain_price" not in row:
        raise MalformedPayload("max pain row lacks date or max_pain_price")
    try:
        expiry = datetime.strptime(str(row["date"]), "%y%m%d").date()
    except ValueError:
        raise MalformedPayload(f"max pain date {row['date']!r} is not YYMMDD") from None
    price = to_decimal(row["max_pain_price"], "max_pain_price")
    if price <= 0:
        raise MalformedPayload("max pain price is not positive")
    return MaxPain(expiry, price)
