"""Small builders for domain tests: signals and intel without any database."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from guards.domain import inputs
from guards.domain.cvd import FlowSplit
from guards.domain.types import Direction, Intel, Reading, Signal

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def signal(direction="LONG", size="1000", symbol="BTCUSDT") -> Signal:
    return Signal(symbol, Direction(direction), Decimal(size), "TRUE_TREND", Decimal("97000"))


def whale_split(whale_cvd_usd: int | str, threshold_usd: int = 100_000) -> FlowSplit:
    cents = int(Decimal(str(whale_cvd_usd)) * 100)
    buy, sell = (cents, 0) if cents >= 0 else (0, -cents)
    return FlowSplit(threshold_usd * 100, buy, sell, 5_000_000, 4_000_000)


def reading(value, age_seconds: float = 10, kind=inputs.WHALE_FLOW, problem=None) -> Reading:
    return Reading(value, NOW - timedelta(seconds=age_seconds), inputs.TTL_SECONDS[kind], "simulated", problem)


def intel(**values) -> Intel:
    """intel(whale_flow=whale_split(-5), taker_flow=Decimal('0.5'), fear_greed=reading(...))"""
    readings = {k: v if isinstance(v, Reading) else reading(v, kind=k) for k, v in values.items()}
    return Intel("BTCUSDT", readings)
