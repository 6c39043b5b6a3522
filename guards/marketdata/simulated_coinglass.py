"""CoinGlass-shaped payloads from the seeded market (MARKETDATA.md shapes, byte for byte).

The simulator answers with the same JSON the real API sends, and the same parsers read it,
so the offline default exercises the whole pipeline. Everything is consistent with the
trade flow and prices of market_model: liquidation levels sit at leverage distances from
recent prices and at round numbers, Fear & Greed follows two-week momentum (and passes 80
in strong up-trends), taker flow is the simulated trades' own buy share.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from guards.marketdata import market_model as model

LEVERAGES = (10, 25, 50, 100)
COLUMN_MINUTES = 180
HEATMAP_COLUMNS = 24  # three-hour columns: the "3d" range (the real one is finer; the parser takes any)
ENTRY_HOURS = 12  # positions opened over the last 12 hours make up a column's levels
ROUND_STEP = {"BTCUSDT": 1000.0, "ETHUSDT": 50.0}


def envelope(data) -> dict:
    return {"code": "0", "msg": "success", "data": data}


def heatmap(seed: int, symbol: str, now_ms: int) -> dict:
    """aggregated-heatmap/model1 `data`: y_axis, sparse [x, y, usd] cells, hourly candles.

    The rows span about 88%-112% of the price on a grid that moves in whole blocks of 100 rows (5%)
    (so the axis, like the real one, stays put while the price wanders within a block); each
    column is a pure function of its own minute and the axis, cached: consecutive heatmaps share
    all but their newest column."""
    last_minute = model.minute_index(now_ms)
    minutes = [last_minute - COLUMN_MINUTES * (HEATMAP_COLUMNS - 1 - x) for x in range(HEATMAP_COLUMNS)]
    price = model.mid_price(seed, symbol, last_minute)
    step = _row_step(price)
    block = step * ROWS_PER_BLOCK
    first_row = math.floor(price * 0.88 / block) * block
    rows = ROWS_PER_BLOCK * max(1, round(price * 0.24 / block))
    y_axis = [round(first_row + i * step, 8) for i in range(rows)]
    cells: list[list] = []
    for x, minute in enumerate(minutes):
        cells.extend([x, y, usd] for y, usd in _column(seed, symbol, minute, first_row, step, rows))
    return {"y_axis": y_axis, "liquidation_leverage_data": cells, "price_candlesticks": _candles(seed, symbol, minutes)}


ROWS_PER_BLOCK = 100


@lru_cache(maxsize=1 << 13)
def _column(seed: int, symbol: str, minute: int, first_row: float, step: float, rows: int) -> tuple:
    """One time column's cells on the axis: (y_index, usd) of every level of at least $1."""
    levels = _liquidation_levels(seed, symbol, minute)
    cells = []
    for level_price, usd in levels.items():
        y = round((level_price - first_row) / step)
        if 0 <= y < rows and usd >= 1:
            cells.append((y, round(usd, 2)))
    return tuple(cells)


def _row_step(price: float) -> float:
    """A round row height near 0.05% of price: 50 for BTC near 97k, 2 for ETH near 3.6k."""
    raw = price * 0.0005
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


@lru_cache(maxsize=1 << 13)
def _liquidation_levels(seed: int, symbol: str, minute: int) -> dict[float, float]:
    """The levels at `minute`: positions opened in the ENTRY_HOURS before (hourly) liquidate at
    entry x (1 -/+ 1/leverage); a level the price has already crossed is gone. Round numbers
    gather extra stops and liquidations. Read-only (cached)."""
    price_now = model.mid_price(seed, symbol, minute)
    step = _row_step(price_now)
    levels: dict[float, float] = {}
    for entry_minute in range(minute - 60 * (ENTRY_HOURS - 1), minute + 1, 60):
        entry = model.mid_price(seed, symbol, entry_minute)
        for lev, side, weight in _position_weights(seed, symbol, entry_minute):
            level = entry * (1 + side / lev)
            if (side < 0 and level < price_now) or (side > 0 and level > price_now):
                key = round(level / step) * step
                levels[key] = levels.get(key, 0) + weight
    round_step = ROUND_STEP.get(symbol, 10 ** math.floor(math.log10(price_now)))
    for k in range(-5, 6):
        level = (math.floor(price_now / round_step) + k) * round_step
        levels[level] = levels.get(level, 0) + _round_number_weight(seed, symbol, level)
    return levels


@lru_cache(maxsize=1 << 13)
def _position_weights(seed: int, symbol: str, entry_minute: int) -> tuple[tuple[int, int, float], ...]:
    """(leverage, side, USD at its liquidation level) of the positions opened at `entry_minute`."""
    rnd = model.rng_for(seed, symbol, "liq", entry_minute)
    return tuple((lev, side, rnd.lognormvariate(13.5, 0.8) / lev * 10) for lev in LEVERAGES for side in (-1, 1))


@lru_cache(maxsize=1 << 12)
def _round_number_weight(seed: int, symbol: str, level: float) -> float:
    return model.rng_for(seed, symbol, "round", level).lognormvariate(14.5, 0.6)


def _candles(seed: int, symbol: str, minutes: list[int]) -> list[list]:
    return [list(_candle(seed, symbol, minute)) for minute in minutes]


@lru_cache(maxsize=1 << 12)
def _candle(seed: int, symbol: str, minute: int) -> tuple:
    """The candle of the column ending at `minute`."""
    bars = [model.minute_ohlc(seed, symbol, m) for m in range(minute - COLUMN_MINUTES + 1, minute + 1)]
    high, low = max(b[1] for b in bars), min(b[2] for b in bars)
    ts = (model.EPOCH_MS + (minute - COLUMN_MINUTES + 1) * model.MINUTE_MS) // 1000
    return (ts, f"{bars[0][0]:.1f}", f"{high:.1f}", f"{low:.1f}", f"{bars[-1][3]:.1f}", "63753192.11")


def fear_greed(seed: int, now_ms: int, days: int = 30) -> list[dict]:
    """fear-greed-history `data` in the documented wrapping: one object of parallel arrays."""
    today = datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    times, values, prices = [], [], []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        minute = model.minute_index(int(day.timestamp() * 1000))
        now_price = model.mid_price(seed, "BTCUSDT", minute)
        momentum = math.log(now_price / model.mid_price(seed, "BTCUSDT", minute - 14 * 1440))
        noise = model.rng_for(seed, "fng", minute).gauss(0, 3)
        values.append(max(0, min(100, round(52 + momentum * 320 + noise))))
        times.append(int(day.timestamp()))
        prices.append(round(now_price, 2))
    return [{"data_list": values, "price_list": prices, "time_list": times}]


RANGE_MINUTES = {"5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "12h": 720, "24h": 1440}


def taker_buy_sell(seed: int, symbol: str, now_ms: int, range_: str) -> dict:
    """taker-buy-sell-volume/exchange-list `data`: the simulated trades' own buy/sell notional."""
    last = model.minute_index(now_ms)
    buy = sell = 0.0
    for minute in range(last - RANGE_MINUTES[range_], last):
        minute_buy, minute_sell = _minute_taker_totals(seed, symbol, minute)
        buy, sell = buy + minute_buy, sell + minute_sell
    scale = 40.0  # the whole market is larger than the simulated Binance tape
    exchanges = [
        _exchange_row(name, buy * w, sell * w) for name, w in (("Binance", 1.0), ("OKX", 0.55), ("Bybit", 0.45))
    ]
    total_buy, total_sell = buy * scale, sell * scale
    total = total_buy + total_sell or 1.0
    return {
        "symbol": symbol.removesuffix("USDT"),
        "buy_ratio": round(total_buy / total * 100, 2),
        "sell_ratio": round(total_sell / total * 100, 2),
        "buy_vol_usd": round(total_buy, 2),
        "sell_vol_usd": round(total_sell, 2),
        "exchange_list": exchanges,
    }


@lru_cache(maxsize=1 << 14)
def _minute_taker_totals(seed: int, symbol: str, minute: int) -> tuple[float, float]:
    """Taker buy and sell notional of one simulated minute."""
    buy = sell = 0.0
    for _, notional, is_buy, _ in model.taker_orders(seed, symbol, minute):
        buy, sell = (buy + notional, sell) if is_buy else (buy, sell + notional)
    return buy, sell


def _exchange_row(name: str, buy: float, sell: float) -> dict:
    total = buy + sell or 1.0
    return {
        "exchange": name,
        "buy_ratio": round(buy / total * 100, 2),
        "sell_ratio": round(sell / total * 100, 2),
        "buy_vol_usd": round(buy, 2),
        "sell_vol_usd": round(sell, 2),
    }


def max_pain(seed: int, symbol: str, now_ms: int) -> list[dict]:
    """option/max-pain `data`: one row per expiry (weekly Fridays), max pain near round strikes."""
    now = datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc)
    price = model.mid_price(seed, symbol, model.minute_index(now_ms))
    strike = ROUND_STEP.get(symbol, 10 ** math.floor(math.log10(price)))
    friday = now + timedelta(days=(4 - now.weekday()) % 7)
    rows = []
    for week in range(-1, 6):  # one expired row too: the parser must skip the past
        expiry = friday + timedelta(weeks=week)
        rnd = model.rng_for(seed, symbol, "maxpain", expiry.strftime("%y%m%d"))
        pain = round(price * (1 + rnd.gauss(0, 0.035 + 0.01 * max(week, 0))) / strike) * strike
        rows.append(
            {
                "date": expiry.strftime("%y%m%d"),
                "max_pain_price": f"{pain:.0f}",
                "call_open_interest": round(rnd.uniform(500, 9000), 1),
                "put_open_interest": round(rnd.uniform(400, 8000), 1),
                "call_open_interest_notional": round(rnd.uniform(5e7, 9e8), 1),
                "put_open_interest_notional": round(rnd.uniform(4e7, 8e8), 1),
            }
        )
    return sorted(rows, key=lambda r: model.rng_for(seed, r["date"]).random())  # row order is undocumented
