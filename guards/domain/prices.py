"""Minute price bars (SPEC §2): parsing Binance klines rows and reading the current price."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


class MalformedBars(ValueError):
    pass


@dataclass(frozen=True)
class Bar:
    open_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


def parse_klines(rows: Any) -> list[Bar]:
    """Binance kline rows `[open_time, open, high, low, close, volume, ...]`, prices as strings."""
    if not isinstance(rows, list):
        raise MalformedBars("klines answer is not a list")
    bars = []
    for row in rows:
        if not isinstance(row, (list, tuple)) or len(row) < 5:
            raise MalformedBars("kline row is not a 12-element array")
        try:
            bars.append(Bar(int(row[0]), *(Decimal(str(v)) for v in row[1:5])))
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise MalformedBars(f"kline row has a non-numeric field: {exc}") from None
    return sorted(bars, key=lambda b: b.open_time_ms)
