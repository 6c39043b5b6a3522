"""Recorded decisions made the way the gate makes them: the real chain runs on the inputs and
`replay_record` keeps what it read (guards/evaluations.py), then the optimizer parses the record."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from guards.domain import inputs
from guards.domain.chain import build_steps, replay_record, run_chain
from guards.domain.cvd import FlowDetail, threshold_to_cents
from guards.domain.params import WHALE_THRESHOLD, Params, ParamValue
from guards.domain.types import Direction, Intel, Reading, Signal
from optimizer.domain.replay import RecordedDecision

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
ORDER = ["TAKER_AGGRESSION", "WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER"]


def params(problems: dict[str, str] | None = None, **values: Any) -> Params:
    """The seeded defaults at version 1, `values` overriding; `problems` marks stored values unusable."""
    active = {
        "guard_order": ORDER,
        "taker_min_share": 0.4,
        "whale_cvd_threshold_usd": 100000,
        "fear_greed_cutoff": 80,
        "fear_greed_multiplier": 0.6,
        **values,
    }
    return Params({name: ParamValue(value, 1) for name, value in active.items()}, problems or {})


def whale_reading(detail: FlowDetail | None, gate: Params, now: datetime = NOW, age_seconds: int = 30) -> Reading:
    """As guards/selectors.py reads it: the stored detail split at the active threshold, or why not."""
    ttl = gate.ttl_seconds(inputs.WHALE_FLOW)
    if detail is None:
        return Reading(None, None, ttl)
    at = now - timedelta(seconds=age_seconds)
    try:
        split = detail.split(threshold_to_cents(gate.decimal(WHALE_THRESHOLD)))
    except ValueError as exc:
        return Reading(None, at, ttl, "simulated", problem=f"UNPARSEABLE ({type(exc).__name__}: {exc})")
    return Reading(split, at, ttl, "simulated")


def number_reading(
    kind: str, value: Decimal | None, gate: Params, now: datetime = NOW, age_seconds: int = 30
) -> Reading:
    ttl = gate.ttl_seconds(kind)
    return Reading(value, None if value is None else now - timedelta(seconds=age_seconds), ttl, "simulated")


def record(**given: Any) -> RecordedDecision:
    """Evaluate a signal with the real chain and keep it as the Evaluation row would."""
    return RecordedDecision.from_record(**record_fields(**given))


def record_fields(
    *,
    direction: str = "LONG",
    base_size: str = "1000",
    gate: Params | None = None,
    taker_share: Decimal | None = Decimal("0.5"),
    fear_greed: Decimal | None = Decimal("50"),
    detail: FlowDetail | None = None,
    readings: dict[str, Reading] | None = None,
    pnl: Decimal | None = None,
    pnl_size: Decimal | None = None,
    evaluation_id: int = 1,
    evaluated_at: datetime = NOW,
    lose_detail: bool = False,
) -> dict[str, Any]:
    """RecordedDecision.from_record's arguments, as the selector would read them from the rows."""
    gate = gate or params()
    intel = Intel(
        "BTCUSDT",
        {
            inputs.TAKER_FLOW: number_reading(inputs.TAKER_FLOW, taker_share, gate, evaluated_at),
            inputs.WHALE_FLOW: whale_reading(detail, gate, evaluated_at),
            inputs.FEAR_GREED: number_reading(inputs.FEAR_GREED, fear_greed, gate, evaluated_at),
            **(readings or {}),
        },
    )
    signal = Signal("BTCUSDT", Direction(direction), Decimal(base_size))
    steps = build_steps(gate)
    outcome = run_chain(steps, signal, intel, evaluated_at)
    return dict(
        evaluation_id=evaluation_id,
        direction=direction,
        base_size=Decimal(base_size),
        allowed=outcome.allowed,
        blocked_by=outcome.blocked_by or "",
        size_multiplier=outcome.size_multiplier,
        evaluated_at=evaluated_at,
        replay=replay_record(steps, intel, gate, evaluated_at),
        flow_detail=None if lose_detail or detail is None else detail.to_json(),
        pnl=pnl,
        pnl_size=pnl_size,
        symbol="BTCUSDT",
    )


def detail_of(*orders_usd: int, floor_usd: int = 40_000) -> FlowDetail:
    """Large orders in USD (+ taker buy, - taker sell) above a floor; some retail flow besides."""
    cents = tuple(o * 100 for o in orders_usd)
    buy = sum(o for o in cents if o > 0) + 5_000_000
    sell = -sum(o for o in cents if o < 0) + 4_000_000
    return FlowDetail(buy, sell, floor_usd * 100, cents)


# At $100k the two $120k sells outweigh the $150k buy (whale CVD -$90k); at $130k only the buy counts.
SWING = detail_of(150_000, -120_000, -120_000)
