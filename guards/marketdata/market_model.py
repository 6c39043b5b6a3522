"""The seeded market the simulator draws from (SPEC §2 offline default).

Deterministic for any (seed, symbol, minute): every process and every call sees the same
market, without shared state. The price follows 6-hour regimes (trending up, trending down
or ranging) with minute noise; trade flow follows the regime, whales lead it and retail
sometimes fades it, so whale/retail divergence and taker disagreement both occur.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: regimes are counted from here
MINUTE_MS = 60_000
REGIME_MINUTES = 360
BASE_PRICES = {"BTCUSDT": 97_000.0, "ETHUSDT": 3_600.0, "SOLUSDT": 180.0}
TICKS = {"BTCUSDT": Decimal("0.10"), "ETHUSDT": Decimal("0.01")}


@dataclass(frozen=True)
class Regime:
    kind: str  # "up", "down", "range"
    drift_per_minute: float  # log-price drift
    whale_bias: float  # added to whales' probability of buying
    retail_bias: float
    activity: float  # orders-per-minute multiplier


def rng_for(seed: int, *parts: object) -> random.Random:
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


@lru_cache(maxsize=4096)
def regime(seed: int, symbol: str, index: int) -> Regime:
    rnd = rng_for(seed, symbol, "regime", index)
    kind = rnd.choices(["up", "down", "range"], weights=[0.35, 0.3, 0.35])[0]
    sign = {"up": 1, "down": -1, "range": 0}[kind]
    drift = sign * rnd.uniform(0.00002, 0.00008)
    whale_bias = sign * rnd.uniform(0.08, 0.22) if sign else rnd.uniform(-0.06, 0.06)
    retail_bias = -whale_bias * rnd.uniform(-0.5, 1.2)  # sometimes with whales, often against
    return Regime(kind, drift, whale_bias, retail_bias, rnd.uniform(0.7, 1.5))


_REGIME_STARTS: dict[tuple[int, str], list[float]] = {}


def _regime_start_log_price(seed: int, symbol: str, index: int) -> float:
    """Log price at the start of regime `index`, walking regimes forward once and caching."""
    base = math.log(BASE_PRICES.get(symbol, 100.0))
    if index <= 0:
        return base
    starts = _REGIME_STARTS.setdefault((seed, symbol), [base])
    while len(starts) <= index:
        i = len(starts) - 1
        log_price = starts[i] + regime(seed, symbol, i).drift_per_minute * REGIME_MINUTES
        # Mean reversion toward the base keeps a long-running demo within sane prices.
        starts.append(log_price + 0.05 * (base - log_price))
    return starts[index]


def minute_index(time_ms: int) -> int:
    return (time_ms - EPOCH_MS) // MINUTE_MS


def minute_start_ms(minute: int) -> int:
    """The opposite of minute_index: when `minute` starts, in ms since 1970."""
    return EPOCH_MS + minute * MINUTE_MS


def regime_at(seed: int, symbol: str, minute: int) -> Regime:
    return regime(seed, symbol, minute // REGIME_MINUTES)


# The model is pure, so its per-minute draws are cached: the heatmap, taker flow and `simulate`
# read the same minutes many times over (sizes fit a few days of minutes per symbol).
@lru_cache(maxsize=1 << 18)
def mid_price(seed: int, symbol: str, minute: int) -> float:
    """Price at the start of `minute` (minutes since EPOCH_MS)."""
    index, offset = divmod(minute, REGIME_MINUTES)
    base = _regime_start_log_price(seed, symbol, index) + regime(seed, symbol, index).drift_per_minute * offset
    wiggle = 0.004 * math.sin(minute / 47.0 + seed) + 0.002 * math.sin(minute / 13.0 + 2 * seed)
    noise = rng_for(seed, symbol, "noise", minute).gauss(0, 0.0006)
    return math.exp(base + wiggle + noise)


@lru_cache(maxsize=1 << 16)
def minute_ohlc(seed: int, symbol: str, minute: int) -> tuple[float, float, float, float]:
    open_, close = mid_price(seed, symbol, minute), mid_price(seed, symbol, minute + 1)
    rnd = rng_for(seed, symbol, "ohlc", minute)
    high = max(open_, close) * (1 + abs(rnd.gauss(0, 0.0005)))
    low = min(open_, close) * (1 - abs(rnd.gauss(0, 0.0005)))
    return open_, high, low, close


@lru_cache(maxsize=1 << 13)
def taker_orders(seed: int, symbol: str, minute: int) -> tuple[tuple[int, float, bool, int], ...]:
    """Taker orders of one minute: (time_ms, notional_usd, taker_buy, fills).

    Sizes are Pareto (alpha 1.1, a fat tail) from $250, capped at $5M; whales (by size)
    lean with the regime's whale bias, retail with its own bias.
    """
    reg = regime_at(seed, symbol, minute)
    rnd = rng_for(seed, symbol, "orders", minute)
    scale = 1.0 if symbol.startswith("BTC") else 0.45
    count = max(5, int(rnd.gauss(90, 20) * reg.activity * scale))
    start_ms = EPOCH_MS + minute * MINUTE_MS
    orders = []
    for _ in range(count):
        notional = min(250.0 * rnd.paretovariate(1.1), 5_000_000.0)
        bias = reg.whale_bias if notional >= 50_000 else reg.retail_bias
        buy = rnd.random() < 0.5 + bias
        fills = 1 if notional < 50_000 else rnd.randint(1, 4)
        orders.append((start_ms + rnd.randrange(MINUTE_MS), notional, buy, fills))
    orders.sort(key=lambda o: o[0])
    return tuple(orders)
