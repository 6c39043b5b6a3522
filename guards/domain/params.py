"""Tunable parameters and their SPEC defaults (§3, §4, §5.5); versions live in the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

WHALE_THRESHOLD = "whale_cvd_threshold_usd"

DEFAULTS: dict[str, Any] = {
    WHALE_THRESHOLD: 100000,
    "whale_window_minutes": 60,
    "taker_window": "1h",
    "taker_min_share": "0.40",
    "fear_greed_cutoff": 80,
    "fear_greed_multiplier": "0.6",
    "cluster_window_pct": 3,
    "liq_magnet_hold_minutes": 90,
    "max_pain_hold_minutes": 75,
    "true_trend_hold_minutes": 45,
    "default_min_hold_minutes": 0,
    "max_pain_far_pct": 5,
    "guard_order": ["TAKER_AGGRESSION", "WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER"],
}

TAKER_WINDOWS = ("5m", "15m", "30m", "1h", "4h", "12h", "24h")


@dataclass(frozen=True)
class ParamValue:
    value: Any
    version: int


class Params:
    """Active parameter values with their versions; missing names fall back to DEFAULTS (version 0)."""

    def __init__(self, active: Mapping[str, ParamValue]):
        self._active = dict(active)

    def raw(self, name: str) -> Any:
        found = self._active.get(name)
        return found.value if found else DEFAULTS[name]

    def version(self, name: str) -> int:
        found = self._active.get(name)
        return found.version if found else 0

    def decimal(self, name: str) -> Decimal:
        return Decimal(str(self.raw(name)))

    def integer(self, name: str) -> int:
        return int(self.raw(name))

    def stamp(self, *names: str) -> dict[str, dict[str, Any]]:
        """{name: {"value", "version"}} as recorded on events and returned by the API."""
        return {n: {"value": self.raw(n), "version": self.version(n)} for n in names}
