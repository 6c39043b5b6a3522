"""Writes: evaluating a signal and recording its decision (SPEC §3)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError

from guards import gate_memory, records, selectors
from guards.domain import inputs
from guards.domain.chain import (
    ANY_GUARD_NEEDS,
    GUARD_PARAMS,
    GUARDS,
    ChainResult,
    GuardStep,
    build_steps,
    replay_record,
    run_chain,
)
from guards.domain.params import ORDER, WHALE_THRESHOLD, Params
from guards.domain.types import Decision, GuardResult, Intel, Signal
from guards.events import GUARD_LOG_TAGS, EventType, LogTag
from guards.intel import snapshots
from guards.models import Evaluation

logger = logging.getLogger("guards.decisions")


def evaluate_signal(
    *, signal: Signal, signal_id: str | None, now: datetime, remember_seconds: float = 0
) -> dict[str, Any]:
    """Run the guard chain on a signal and record it; a repeated signal_id returns the first answer.

    A repeat is found by the unique signal_id when the decision is inserted, not by a lookup
    before it: the first answer wins, whether the repeat came later or raced it (issue 11).
    With `remember_seconds` (the bot API's GATE_REMEMBER_SECONDS) what was read for the symbol
    serves it for that long in this process (guards/gate_memory.py)."""
    known = _known_for(signal.symbol, remember_seconds)
    signal_id = signal_id or f"sig-{uuid.uuid4().hex}"
    try:
        return _decide(signal_id, signal, known.steps, known.intel, known.params, now)
    except IntegrityError:
        if stored := _stored_answer(signal_id):  # the same signal_id was answered first: that answer
            return stored
        if not (missing := snapshots.missing_snapshots(known.intel)):
            raise
        # A cached snapshot this database does not hold (deleted, or another database's): forget
        # it (and what the gate remembered) and decide again with that input failed open,
        # SNAPSHOT_MISSING (docs/decisions.md).
        intel = snapshots.without_snapshots(known.intel, missing)
        return _decide(signal_id, signal, known.steps, intel, known.params, now)


@dataclass(frozen=True)
class _Known:
    """Everything a decision on one symbol reads before it runs the chain."""

    params: Params
    steps: list[GuardStep]
    intel: Intel


def _known_for(symbol: str, remember_seconds: float) -> _Known:
    if remember_seconds > 0 and (known := gate_memory.recall(symbol)) is not None:
        return known
    read = selectors.read_for_signal(symbol, ANY_GUARD_NEEDS)  # one cache round trip
    params = selectors.active_parameters(read)
    steps = build_steps(params)
    needs = tuple(dict.fromkeys(kind for step in steps for kind in step.needs))
    known = _Known(params, steps, selectors.intel_for(symbol=symbol, params=params, kinds=needs, read=read))
    gate_memory.remember(symbol, known, remember_seconds)
    return known


def _decide(signal_id, signal: Signal, steps, intel: Intel, params: Params, now) -> dict[str, Any]:
    outcome = run_chain(steps, signal, intel, now)
    sources = {r.guard: _sources(r.guard, intel) for r in outcome.results}  # the answer and the events show them
    answer = _answer(signal_id, signal, outcome, params, sources)
    _record(signal_id, signal, steps, outcome, intel, params, answer, sources, now)
    _log(signal_id, signal, outcome, params)
    return answer


def _stored_answer(signal_id: str) -> dict[str, Any] | None:
    return Evaluation.objects.filter(signal_id=signal_id).values_list("response", flat=True).first()


def _answer(signal_id: str, signal: Signal, outcome: ChainResult, params: Params, sources) -> dict[str, Any]:
    return {
        "signal_id": signal_id,
        "allowed": outcome.allowed,
        "size_multiplier": float(outcome.size_multiplier),
        "final_size": float(outcome.final_size(signal.base_size)),
        "blocked_by": outcome.blocked_by,
        "reason": outcome.reason,
        "guards": [
            {"guard": r.guard, "decision": str(r.decision), "reason": r.reason, "data": _labelled(r, sources[r.guard])}
            for r in outcome.results
        ],
        "thresholds": params.stamp(WHALE_THRESHOLD),
    }


def _labelled(result: GuardResult, sources: dict[str, Any]) -> dict[str, Any]:
    """The guard's data, with where it came from: simulated data says so wherever it is shown."""
    names = {i["source"] for i in sources.values() if i["source"]}
    return {**result.data, "source": names.pop()} if len(names) == 1 and result.data else dict(result.data)


def _record(signal_id, signal, steps, outcome: ChainResult, intel: Intel, params: Params, answer, sources, now) -> None:
    whale = intel.readings.get(inputs.WHALE_FLOW)
    evaluation = {
        "signal_id": signal_id,
        "symbol": signal.symbol,
        "direction": signal.direction,
        "strategy": signal.strategy,
        "base_size": signal.base_size,
        "price": signal.price,
        "allowed": outcome.allowed,
        "size_multiplier": outcome.size_multiplier,
        "final_size": outcome.final_size(signal.base_size),
        "blocked_by": outcome.blocked_by or "",
        "reason": outcome.reason,
        "response": answer,
        "whale_flow_snapshot_id": whale.detail.get("snapshot_id") if whale else None,
        "replay": replay_record(steps, intel, params, now),
        "evaluated_at": now,
    }
    events = [
        _event(signal.symbol, position, result, sources[result.guard], params, now)
        for position, result in enumerate(outcome.results)
    ]
    records.insert_decision(evaluation, events)


def _event(symbol: str, position: int, result: GuardResult, sources: dict[str, Any], params: Params, now) -> dict:
    """A guard event row (guards.models.GuardEvent's fields; its evaluation is set by the insert)."""
    fail_open = result.decision is Decision.FAIL_OPEN
    return {
        "event_type": EventType.GUARD_FAIL_OPEN if fail_open else result.guard,
        "guard": result.guard,
        "decision": result.decision,
        "reason": result.reason,
        "symbol": symbol,
        "inputs": {"data": dict(result.data), "sources": sources},
        "parameters": params.stamp(*GUARD_PARAMS.get(result.guard, ()), *_order_problem(params)),
        "position": position,
        "created_at": now,
    }


def _sources(guard: str, intel: Intel) -> dict[str, Any]:
    """Which snapshot each input came from and when it was fetched, for the audit trail."""
    out = {}
    for kind in GUARDS[guard].needs:
        reading = intel.readings.get(kind)
        if reading:
            out[kind] = {
                "source": reading.source,
                "snapshot_id": reading.detail.get("snapshot_id"),
                "fetched_at": reading.fetched_at.isoformat() if reading.fetched_at else None,
            }
    return out


def _order_problem(params: Params) -> tuple[str, ...]:
    """`guard_order` when it is unusable (the default order ran): every event of the decision says so."""
    return (ORDER,) if params.problem(ORDER) else ()


def _log(signal_id: str, signal: Signal, outcome: ChainResult, params: Params) -> None:
    if problem := params.problem(ORDER):
        logger.warning(
            "guard_order unusable, the default order ran: %s",
            problem,
            extra={"tag": LogTag.HYPERPARAM, "signal_id": signal_id, "symbol": signal.symbol, "problem": problem},
        )
    if not logger.isEnabledFor(logging.INFO):  # the lines' extras cost more than the check
        return
    for result in outcome.results:
        logger.info(
            "%s %s %s: %s",
            result.guard,
            signal.symbol,
            result.decision,
            result.reason,
            extra={
                "tag": GUARD_LOG_TAGS.get(result.guard, "GUARD"),
                "signal_id": signal_id,
                "symbol": signal.symbol,
                "direction": str(signal.direction),
                "guard": result.guard,
                "decision": str(result.decision),
                "data": dict(result.data),
            },
        )
