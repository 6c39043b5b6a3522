"""The paper bot of `simulate` (issue 9): what a trading bot would send, decided from a seed.

Pure and deterministic: the same seed, symbols and minutes give the same signals, sizes and
holds. The bot sends a signal every 10-30 minutes per symbol, follows the last half hour's
price move (with a seeded share of contrarian calls, so the guards meet both kinds), trades
TRUE_TREND mostly, and keeps a taken position for the hold the control plane answers, or for
its own standard hold when that is longer. Prices come from the caller (the simulated market).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from guards.domain.hold import TRUE_TREND
from guards.domain.types import Direction

SIGNAL_GAP_MINUTES = (10, 30)
MOMENTUM_MINUTES = 30
CONTRARIAN_SHARE = 0.3
STRATEGIES = ((TRUE_TREND, 0.75), ("SCALP", 0.25))
BASE_SIZES_USD = (1_000, 2_000, 2_500, 5_000, 10_000)
SIGNAL_PREFIX = "sim-"  # signal ids: sim-<seed>-<symbol>-<minute>
OWN_HOLD_MINUTES = 45  # the bot's own standard hold: it never exits a taken position sooner

# minute -> price of the last closed minute bar at that minute (the simulated market's close)
PriceAt = Callable[[str, int], Decimal]
# (symbol, minute, rng, price_at) -> direction: the bot's rule, replaceable to build a history
DirectionRule = Callable[[str, int, random.Random, PriceAt], Direction]


@dataclass(frozen=True)
class PlannedSignal:
    minute: int  # the simulated market's minute index (guards.marketdata.market_model)
    symbol: str
    direction: Direction
    strategy: str
    base_size: Decimal
    signal_id: str


def momentum_rule(symbol: str, minute: int, rng: random.Random, price_at: PriceAt) -> Direction:
    """Follow the last half hour's move; a seeded share of calls go against it."""
    rising = price_at(symbol, minute) >= price_at(symbol, minute - MOMENTUM_MINUTES)
    if rng.random() < CONTRARIAN_SHARE:
        rising = not rising
    return Direction.LONG if rising else Direction.SHORT


def bot_rng(seed: int, *parts: object) -> random.Random:
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def planned_signals(
    *,
    seed: int,
    symbol: str,
    first_minute: int,
    last_minute: int,
    price_at: PriceAt,
    rule: DirectionRule = momentum_rule,
    base_sizes: tuple[int, ...] = BASE_SIZES_USD,
) -> Iterator[PlannedSignal]:
    """The bot's signals for one symbol between two minutes (inclusive), oldest first: the same
    seed and minutes give the same signals."""
    gap_rng = bot_rng(seed, symbol, "gaps", first_minute)
    minute = first_minute + gap_rng.randint(*SIGNAL_GAP_MINUTES)
    while minute <= last_minute:
        rng = bot_rng(seed, symbol, "signal", minute)
        strategy = rng.choices([s for s, _ in STRATEGIES], weights=[w for _, w in STRATEGIES])[0]
        yield PlannedSignal(
            minute=minute,
            symbol=symbol,
            direction=rule(symbol, minute, rng, price_at),
            strategy=strategy,
            base_size=Decimal(rng.choice(base_sizes)),
            signal_id=f"{SIGNAL_PREFIX}{seed}-{symbol}-{minute}",
        )
        minute += gap_rng.randint(*SIGNAL_GAP_MINUTES)


def exit_minute(*, opened_minute: int, min_hold_seconds: int) -> int:
    """When the bot closes a taken position: after the answered minimum hold, and never before
    its own standard hold."""
    hold_minutes = -(-min_hold_seconds // 60)  # a hold of 61 s is kept for 2 minutes
    return opened_minute + max(hold_minutes, OWN_HOLD_MINUTES)
