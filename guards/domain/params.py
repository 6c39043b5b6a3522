"""Tunable parameters and their SPEC defaults (§3, §4, §5.5); versions live in the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from guards.domain import inputs
from guards.domain.cvd import LOWEST_CANDIDATE, detail_floor_cents, threshold_to_cents

WHALE_THRESHOLD = "whale_cvd_threshold_usd"


def ttl_parameter(kind: str) -> str:
    """The versioned parameter holding an input's cache TTL (SPEC §2 table, §5.5)."""
    return f"{kind}_ttl_seconds"


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
    # An input's TTL sets how long a read is served from the cache, how often beat fetches it,
    # and when a guard stops trusting it (older than 2x TTL: fail open, SPEC §3).
    **{ttl_parameter(kind): seconds for kind, seconds in inputs.TTL_SECONDS.items()},
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

    def ttl_seconds(self, kind: str) -> int:
        return self.integer(ttl_parameter(kind))

    def stamp(self, *names: str) -> dict[str, dict[str, Any]]:
        """{name: {"value", "version"}} as recorded on events and returned by the API."""
        return {n: {"value": self.raw(n), "version": self.version(n)} for n in names}


def _number(
    low: Decimal | None = None, high: Decimal | None = None, *, integer: bool = False, strict_low=False, places=None
):
    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError("must be a number")
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            raise ValueError("must be a number") from None
        if not number.is_finite() or (integer and number != number.to_integral_value()):
            raise ValueError("must be a whole number" if integer else "must be a finite number")
        if places is not None and number != number.quantize(Decimal(1).scaleb(-places)):
            raise ValueError(f"must have at most {places} decimals")
        if low is not None and (number < low or (strict_low and number == low)):
            raise ValueError(f"must be {'above' if strict_low else 'at least'} {low}")
        if high is not None and number > high:
            raise ValueError(f"must be at most {high}")
        return int(number) if integer else str(number) if isinstance(value, str) else value

    return check


def _taker_window(value: Any) -> str:
    if value not in TAKER_WINDOWS:
        raise ValueError(f"must be one of {', '.join(TAKER_WINDOWS)}")
    return value


def _guard_order(value: Any) -> list[str]:
    known = DEFAULTS["guard_order"]
    if not isinstance(value, list) or not value or any(g not in known for g in value) or len(set(value)) != len(value):
        raise ValueError(f"must be a list of distinct guards from {', '.join(known)}")
    return value


MINUTES = _number(Decimal(0), Decimal(1440), integer=True)


VALIDATORS: dict[str, Any] = {
    WHALE_THRESHOLD: _number(Decimal(0), strict_low=True, places=2),  # whole cents
    "whale_window_minutes": _number(Decimal(1), Decimal(1440), integer=True),
    "taker_window": _taker_window,
    # Above 0.5 the LONG band (< share) and the SHORT band (> 1 - share) overlap: both blocked.
    "taker_min_share": _number(Decimal(0), Decimal("0.5")),
    "fear_greed_cutoff": _number(Decimal(0), Decimal(100)),
    "fear_greed_multiplier": _number(Decimal(0), Decimal(1), strict_low=True),  # SPEC: it never blocks
    "cluster_window_pct": _number(Decimal(0), Decimal(100), strict_low=True),
    "liq_magnet_hold_minutes": MINUTES,
    "max_pain_hold_minutes": MINUTES,
    "true_trend_hold_minutes": MINUTES,
    "default_min_hold_minutes": MINUTES,
    "max_pain_far_pct": _number(Decimal(0), Decimal(100), strict_low=True),
    "guard_order": _guard_order,
    **{ttl_parameter(kind): _number(Decimal(60), Decimal(86400), integer=True) for kind in inputs.TTL_SECONDS},
}


def below_detail_floor(new_threshold_usd: Any, active_threshold_usd: Any) -> bool:
    """Flow stored under the active threshold cannot be split at the new one (cvd.detail_floor_cents):
    the Whale Intent Filter fails open until the window is read again (docs/decisions.md)."""
    return _cents(new_threshold_usd) < detail_floor_cents(_cents(active_threshold_usd))


def below_replay_floor(new_threshold_usd: Any, active_threshold_usd: Any) -> bool:
    """The optimizer's lowest candidate for the new threshold falls under the stored detail: the
    guard works, but those minutes cannot be replayed there (SPEC §5.2, §5.4)."""
    lowest_candidate = Decimal(_cents(new_threshold_usd)) * LOWEST_CANDIDATE
    return lowest_candidate < detail_floor_cents(_cents(active_threshold_usd))


def _cents(usd: Any) -> int:
    return threshold_to_cents(Decimal(str(usd)))


def validate_value(name: str, value: Any) -> Any:
    """The value normalised for storage, or ValueError saying what is wrong (SPEC §5.5)."""
    if name not in VALIDATORS:
        raise ValueError(f"unknown parameter {name!r}")
    return VALIDATORS[name](value)
