"""Exact replay of recorded guard decisions at another parameter value (SPEC §5.2, §5.4).

A recorded decision is everything the chain read (Evaluation.replay, built by
guards.domain.chain.replay_record, plus the whale flow's FlowDetail) and the outcome of the
signal. This module holds the record, the P&L it is worth under a replayed outcome, and the
slow path: rebuild `Params` and `Intel` and run the real `build_steps`/`run_chain`, the very
code the gate runs, with one parameter overridden. It is the reference the fast path
(optimizer/domain/fast_replay.py) is tested against.

A replay is exact or it is not made: where the record cannot say what a guard would have done
at the candidate (a threshold below the stored detail floor, an input the record hides), the
answer is `Unreplayable` with the reason, never a guess (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from guards.domain import inputs
from guards.domain.chain import GUARDS, ChainResult, build_steps, run_chain
from guards.domain.cvd import FlowDetail, threshold_to_cents
from guards.domain.params import Params, ParamValue
from guards.domain.rules import fear_greed, taker_aggression, whale_intent
from guards.domain.types import Direction, Intel, Reading, Signal

WHALE_THRESHOLD = whale_intent.WHALE_THRESHOLD
TAKER_MIN_SHARE = taker_aggression.MIN_SHARE
FEAR_GREED_CUTOFF = fear_greed.CUTOFF
# The parameters whose decisions the stored inputs recompute exactly, and the guard reading each.
# (A window length is not among them: the stored flow covers the recorded window only.)
REPLAYABLE = {
    WHALE_THRESHOLD: whale_intent.NAME,
    TAKER_MIN_SHARE: taker_aggression.NAME,
    FEAR_GREED_CUTOFF: fear_greed.NAME,
}
BELOW_FLOOR = "below the detail floor"  # cvd.FlowDetail.split's words, carried in the recorded problem


@dataclass(frozen=True)
class Replayed:
    """What the chain decides at a candidate: allowed or not, and the size multiplier (0 when blocked)."""

    allowed: bool
    size_multiplier: Decimal


@dataclass(frozen=True)
class Unreplayable:
    """The record cannot say what the chain would decide at this candidate, and why."""

    reason: str


Outcome = Replayed | Unreplayable


@dataclass(frozen=True)
class RecordedDecision:
    """One evaluated signal as the optimizer replays it, and what it made.

    `pnl` is the outcome in USD: the real P&L of the trade when the signal was taken, the shadow
    P&L when it was blocked (SPEC §5.2), None when unknown. `pnl_size` is the position size that
    P&L was made at; None means the chain's own size: the recorded final size when taken, the size
    the chain would have given had no guard blocked when blocked (fast_replay.reference_size).
    Under another outcome the P&L scales with the size (fees and slippage are proportional):
    fast_replay.pnl_under.
    """

    evaluation_id: int
    direction: Direction
    base_size: Decimal
    allowed: bool
    blocked_by: str | None
    size_multiplier: Decimal
    evaluated_at: datetime
    guard_order: tuple[str, ...]
    problems: Mapping[str, str | None]  # per guard in the order: why it could not decide, or None
    values: Mapping[str, Decimal]  # decimal inputs by kind (taker_flow, fear_greed)
    parameters: Mapping[str, ParamValue]  # usable recorded parameters
    parameter_problems: Mapping[str, str]  # recorded parameters that were unusable, and why
    flow_detail: FlowDetail | None = None
    pnl: Decimal | None = None
    pnl_size: Decimal | None = None
    damage: str | None = None  # the replay record itself is unusable: every candidate is Unreplayable
    symbol: str = field(default="", compare=False)

    @classmethod
    def from_record(
        cls,
        *,
        evaluation_id: int,
        direction: str,
        base_size: Decimal,
        allowed: bool,
        blocked_by: str | None,
        size_multiplier: Decimal,
        evaluated_at: datetime,
        replay: Mapping[str, Any],
        flow_detail: Any = None,
        pnl: Decimal | None = None,
        pnl_size: Decimal | None = None,
        symbol: str = "",
    ) -> RecordedDecision:
        """From an Evaluation's fields, its `replay` JSON and its whale snapshot's `raw["detail"]`.

        A damaged replay record is kept, with `damage` saying why (counted, never guessed); a
        damaged flow detail reads as absent (the guard that needed it recorded its problem)."""
        parsed, damage = _parse_replay(replay)
        return cls(
            evaluation_id=evaluation_id,
            direction=Direction(direction),
            base_size=Decimal(base_size),
            allowed=allowed,
            blocked_by=blocked_by or None,
            size_multiplier=Decimal(size_multiplier),
            evaluated_at=evaluated_at,
            flow_detail=_flow_detail(flow_detail),
            pnl=None if pnl is None else Decimal(pnl),
            pnl_size=None if pnl_size is None else Decimal(pnl_size),
            damage=damage,
            symbol=symbol,
            **parsed,
        )

    def recorded_params(self) -> Params:
        """The parameters as the gate held them, guard order included, unusable ones with their problem."""
        active = {**self.parameters, "guard_order": ParamValue(list(self.guard_order), 0)}
        return Params(active, self.parameter_problems)

    def recorded_value(self, parameter: str) -> Decimal | None:
        """The recorded value of a numeric parameter, None when it was unusable."""
        found = self.parameters.get(parameter)
        return None if found is None or parameter in self.parameter_problems else Decimal(str(found.value))


def replay_chain(decision: RecordedDecision, parameter: str | None = None, value: Any = None) -> Outcome:
    """The slow, obviously exact path: the real chain on the rebuilt inputs, `parameter` set to `value`.

    Guards whose verdict the record cannot give at `value` fail open here; if the chain blocks
    anyway the decision is exact (blocked whatever they say), else it is Unreplayable."""
    result = chain_result(decision, parameter, value)
    if isinstance(result, Unreplayable):
        return result
    chain, unknown = result
    if unknown and chain.allowed:
        return Unreplayable(unknown)
    return Replayed(chain.allowed, chain.size_multiplier)


def chain_result(
    decision: RecordedDecision, parameter: str | None = None, value: Any = None
) -> tuple[ChainResult, str | None] | Unreplayable:
    """The real chain's result on the rebuilt record, and why some guard's verdict is unknown (or None)."""
    if decision.damage:
        return Unreplayable(decision.damage)
    if parameter is not None and parameter not in REPLAYABLE:
        raise ValueError(f"{parameter} cannot be replayed from stored inputs")
    params = _overridden(decision, parameter, value)
    readings: dict[str, Reading] = {}
    unknown: list[str] = []
    for guard in decision.guard_order:
        for kind in GUARDS[guard].needs:
            reading, why = _reading(decision, guard, kind, params, parameter)
            readings[kind] = reading
            unknown += [f"{guard}: {why}"] if why else []
    signal = Signal(decision.symbol, decision.direction, decision.base_size)
    chain = run_chain(build_steps(params), signal, Intel(decision.symbol, readings), decision.evaluated_at)
    return chain, "; ".join(unknown) or None


def _overridden(decision: RecordedDecision, parameter: str | None, value: Any) -> Params:
    if parameter is None:
        return decision.recorded_params()
    active = {
        **decision.parameters,
        parameter: ParamValue(value, -1),
        "guard_order": ParamValue(list(decision.guard_order), 0),
    }
    problems = {name: why for name, why in decision.parameter_problems.items() if name != parameter}
    return Params(active, problems)


def _reading(
    decision: RecordedDecision, guard: str, kind: str, params: Params, parameter: str | None
) -> tuple[Reading, str | None]:
    """One input as the gate read it, fresh at the evaluation; a recorded problem stays a problem.

    Returns the reading and, when the record cannot give it at these parameters, why."""
    ttl, now = params.ttl_seconds(kind), decision.evaluated_at
    contract_params = GUARDS[guard].parameter_names
    if params.problem(*contract_params):  # still unusable at the candidate: the step fails open itself
        return Reading(None, now, ttl, problem="PARAMETER"), None
    if decision.recorded_params().problem(*contract_params):  # the record hid this input behind it
        return Reading(None, now, ttl, problem="UNKNOWN"), "its input was not judged (a parameter was unusable)"
    recorded = decision.problems.get(guard)
    if recorded and BELOW_FLOOR in recorded and not _same_threshold(decision, params):
        return Reading(None, now, ttl, problem="UNKNOWN"), "the recorded flow was unusable at the recorded threshold"
    if recorded:
        return Reading(None, now, ttl, problem=recorded), None
    value, why = _value(decision, kind, params)
    if why:
        return Reading(None, now, ttl, problem="UNKNOWN"), why
    return Reading(value, now, ttl), None


def _value(decision: RecordedDecision, kind: str, params: Params) -> tuple[Any, str | None]:
    if kind == inputs.WHALE_FLOW:
        detail, cents = decision.flow_detail, threshold_to_cents(params.decimal(WHALE_THRESHOLD))
        if detail is None:
            return None, "no stored flow detail"
        if cents < detail.floor_cents:
            return None, f"threshold {cents} cents is {BELOW_FLOOR} {detail.floor_cents} cents"
        return detail.split(cents), None
    if kind in decision.values:
        return decision.values[kind], None
    return None, f"no stored {kind}"


def _same_threshold(decision: RecordedDecision, params: Params) -> bool:
    recorded = decision.recorded_value(WHALE_THRESHOLD)
    now_cents = threshold_to_cents(params.decimal(WHALE_THRESHOLD))
    return recorded is not None and threshold_to_cents(recorded) == now_cents


def _parse_replay(replay: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    empty: dict[str, Any] = {
        "guard_order": (),
        "problems": {},
        "values": {},
        "parameters": {},
        "parameter_problems": {},
    }
    try:
        order = tuple(replay["guard_order"])
        if any(guard not in GUARDS for guard in order):
            return empty, f"unknown guard in the recorded order {list(order)}"
        problems = {guard: replay["problems"].get(guard) for guard in order}
        values = {kind: Decimal(str(text)) for kind, text in replay["values"].items()}
        stamps = replay["parameters"]
        parameters = {n: ParamValue(s["value"], s["version"]) for n, s in stamps.items() if "problem" not in s}
        parameter_problems = {n: str(s["problem"]) for n, s in stamps.items() if "problem" in s}
    except (KeyError, TypeError, AttributeError, ArithmeticError, ValueError) as exc:
        return empty, f"replay record unusable ({type(exc).__name__}: {exc})"
    return {
        "guard_order": order,
        "problems": problems,
        "values": values,
        "parameters": parameters,
        "parameter_problems": parameter_problems,
    }, None


def _flow_detail(raw: Any) -> FlowDetail | None:
    if raw is None or isinstance(raw, FlowDetail):
        return raw
    try:
        return FlowDetail.from_json(raw)
    except (KeyError, ValueError):
        return None
