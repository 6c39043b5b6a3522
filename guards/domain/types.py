"""Value types shared by every guard rule (plain Python, SPEC §3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

FUTURE_TOLERANCE_SECONDS = 60


class Direction(StrEnum):
    LONG = "LONG"
    SHORT = "SHORT"


class HoldReason(StrEnum):
    """Why a position got its minimum hold (Magnet Target 2.0)."""  # SPEC §4

    LIQ_CLUSTER = "LIQ_CLUSTER"
    MAX_PAIN_FAR = "MAX_PAIN_FAR"
    TRUE_TREND = "TRUE_TREND"
    DEFAULT = "DEFAULT"


class Decision(StrEnum):
    ALLOW = "allow"
    BLOCK = "block"
    RESIZE = "resize"
    FAIL_OPEN = "fail_open"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Signal:
    symbol: str
    direction: Direction
    base_size: Decimal
    strategy: str = ""
    price: Decimal | None = None


@dataclass(frozen=True)
class ClosedTrade:
    """A closed trade as the bot reports it (SPEC §5.1)."""

    trade_id: str
    signal_id: str | None
    symbol: str
    direction: Direction
    size: Decimal
    entry_price: Decimal
    exit_price: Decimal
    opened_at: datetime
    closed_at: datetime
    pnl: Decimal


@dataclass(frozen=True)
class GuardResult:
    guard: str
    decision: Decision
    reason: str
    data: Mapping[str, Any] = field(default_factory=dict)
    size_multiplier: Decimal = Decimal("1")

    @classmethod
    def allow(cls, guard: str, reason: str, data: Mapping[str, Any]) -> GuardResult:
        return cls(guard, Decision.ALLOW, reason, data)

    @classmethod
    def block(cls, guard: str, reason: str, data: Mapping[str, Any]) -> GuardResult:
        return cls(guard, Decision.BLOCK, reason, data, Decimal("0"))

    @classmethod
    def resize(cls, guard: str, reason: str, data: Mapping[str, Any], multiplier: Decimal) -> GuardResult:
        return cls(guard, Decision.RESIZE, reason, data, multiplier)

    @classmethod
    def fail_open(cls, guard: str, problem: str, data: Mapping[str, Any] | None = None) -> GuardResult:
        return cls(guard, Decision.FAIL_OPEN, problem, data or {})

    @classmethod
    def skipped(cls, guard: str) -> GuardResult:
        return cls(guard, Decision.SKIPPED, "an earlier guard blocked the signal", {})


@dataclass(frozen=True)
class Reading:
    """One market input as the guards see it: a parsed value, or why there is none.

    `problem` is a reason code (e.g. NOT_IN_PLAN, UNPARSEABLE) when the latest fetch left no
    usable value; `value` is then None. `ttl_seconds` is the input's cache TTL (SPEC §2).
    """

    value: Any
    fetched_at: datetime | None
    ttl_seconds: int
    source: str = ""
    problem: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    data_time: datetime | None = None  # the moment the data describes, when it lags its fetch

    @property
    def as_of(self) -> datetime | None:
        """The earlier of fetch time and data time: what the data's age is measured from."""
        times = [t for t in (self.fetched_at, self.data_time) if t is not None]
        return min(times) if times else None


@dataclass(frozen=True)
class Intel:
    """Every input for one symbol at one moment, keyed by input kind."""

    symbol: str
    readings: Mapping[str, Reading]

    def get(self, kind: str) -> Any:
        reading = self.readings.get(kind)
        return reading.value if reading else None

    def unusable(self, needs: tuple[str, ...], now: datetime) -> str | None:
        """Why the data a guard needs cannot be used (SPEC §3 fail-open), or None.

        Missing, unparseable, or older than twice its TTL: strictly older, so data exactly
        2x TTL old is still used. Data dated more than a minute ahead of now is unusable too
        (machines' clocks agree far better than that). Age runs from `Reading.as_of` (a backlog makes data older
        than its fetch).
        """
        for kind in needs:
            reading = self.readings.get(kind)
            if reading is None or (reading.value is None and reading.problem is None):
                return f"{kind}: MISSING"
            if reading.problem:
                return f"{kind}: {reading.problem}"
            if reading.as_of is None:
                return f"{kind}: MISSING"
            age = (now - reading.as_of).total_seconds()
            if age < -FUTURE_TOLERANCE_SECONDS:  # a damaged time, or a clock far off: never "fresh"
                return f"{kind}: FROM_THE_FUTURE (dated {int(-age)}s ahead of now)"
            if age > 2 * reading.ttl_seconds:
                return f"{kind}: STALE ({int(age)}s old, limit {2 * reading.ttl_seconds}s)"
        return None
