"""The seeded market simulator: the same methods, shapes and paging as the live clients.

Everything here is labelled source "simulated". Trade ids encode the minute
(`minute * 10_000 + row`), so `fromId` paging works exactly as on Binance.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from guards.domain.cvd import AggTrade
from guards.domain.prices import Bar
from guards.marketdata import market_model as model

ROWS_PER_MINUTE = 10_000
PAGE = 1000


def _now_ms() -> int:
    return int(time.time() * 1000)


class SimulatedMarket:
    def __init__(self, seed: int, clock_ms: Callable[[], int] = _now_ms):
        self.seed = seed
        self.clock_ms = clock_ms

    def agg_trades(
        self, symbol: str, *, from_id: int | None = None, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[AggTrade]:
        """Up to 1000 rows from `from_id`, or from `start_ms`; never a trade after now."""
        limit_ms = min(self.clock_ms(), end_ms) if end_ms is not None and from_id is None else self.clock_ms()
        if from_id is None:
            from_id = model.minute_index(start_ms or limit_ms) * ROWS_PER_MINUTE
        rows: list[AggTrade] = []
        minute, skip = divmod(from_id, ROWS_PER_MINUTE)
        while len(rows) < PAGE and model.EPOCH_MS + minute * model.MINUTE_MS <= limit_ms:
            minute_rows = [r for r in self._minute_rows(symbol, minute) if r.time_ms <= limit_ms]
            rows.extend(r for r in minute_rows if r.agg_id >= minute * ROWS_PER_MINUTE + skip)
            if start_ms is not None and from_id is None:
                rows = [r for r in rows if r.time_ms >= start_ms]
            minute, skip = minute + 1, 0
        return rows[:PAGE]

    def klines(self, symbol: str, *, start_ms: int, end_ms: int | None = None, limit: int = 1500) -> list[Bar]:
        """Closed and current 1-minute bars from `start_ms`, as Binance returns them."""
        last = model.minute_index(min(end_ms or self.clock_ms(), self.clock_ms()))
        first = model.minute_index(start_ms + model.MINUTE_MS - 1)
        return [self.bar(symbol, m) for m in range(first, min(last + 1, first + limit))]

    def _minute_rows(self, symbol: str, minute: int) -> tuple[AggTrade, ...]:
        return _minute_rows(self.seed, symbol, minute)

    def bar(self, symbol: str, minute: int) -> Bar:
        """The 1-minute bar that opens at `minute` (minutes since the epoch)."""
        tick = model.TICKS.get(symbol, Decimal("0.001"))
        ohlc = (_round(v, tick) for v in model.minute_ohlc(self.seed, symbol, minute))
        return Bar(model.minute_start_ms(minute), *ohlc)


def _round(value: float, tick: Decimal) -> Decimal:
    return (Decimal(value) / tick).to_integral_value(rounding=ROUND_HALF_UP) * tick


@lru_cache(maxsize=1 << 10)
def _minute_rows(seed: int, symbol: str, minute: int) -> tuple[AggTrade, ...]:
    """The aggTrades rows of one minute (cached: a page boundary reads its minute twice)."""
    rows = []
    tick = model.TICKS.get(symbol, Decimal("0.001"))
    mid = model.mid_price(seed, symbol, minute)
    prices: dict[int, Decimal] = {}  # by book level walked (+ buying, - selling): one rounding each
    for time_ms, notional, buy, fills in model.taker_orders(seed, symbol, minute):
        for fill in range(fills):  # a sweep: several rows, same time and side, walking the book
            level = fill if buy else -fill
            if (price := prices.get(level)) is None:
                price = prices[level] = _round(mid * (1 + level * 0.00002), tick)
            qty = (Decimal(notional / fills) / price).quantize(Decimal("0.001"))
            rows.append((time_ms, price, qty, buy))
    return tuple(
        AggTrade(minute * ROWS_PER_MINUTE + i, price, qty, t, not buy)
        for i, (t, price, qty, buy) in enumerate(rows)
        if qty > 0
    )
