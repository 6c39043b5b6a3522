"""Stored market inputs for tests: a fresh snapshot of one input, as a fetch stores it."""

from datetime import timedelta

from django.utils import timezone

from guards.domain import inputs
from guards.intel.snapshots import store_snapshot


def store_input(kind: str, derived: dict, raw: dict | None = None, symbol: str = "BTCUSDT", age_seconds: int = 30):
    """Market-wide inputs (Fear & Greed) are stored under "*", whatever `symbol` says."""
    return store_snapshot(
        symbol=inputs.MARKET_WIDE_SYMBOL if kind in inputs.MARKET_WIDE else symbol,
        kind=kind,
        ttl_seconds=inputs.TTL_SECONDS[kind],
        source="simulated",
        fetched_at=timezone.now() - timedelta(seconds=age_seconds),
        derived=derived,
        raw=raw or {},
    )
