"""Minimum hold for an open position (SPEC §4): Magnet Target 2.0, recorded as LIQ_MAGNET."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from guards import positions, selectors
from guards.domain import inputs
from guards.domain.clusters import top_clusters
from guards.domain.hold import HOLD_PARAMETERS, PROTECTIVE_EXITS, HeldPosition, HoldDecision, HoldParams, min_hold
from guards.domain.params import Params
from guards.domain.types import Decision, HoldReason
from guards.events import EventType, LogTag
from guards.models import GuardEvent

logger = logging.getLogger("guards.decisions")
HOLD_PARAMS = tuple(p.name for p in HOLD_PARAMETERS)


def hold_params(params: Params) -> HoldParams:
    """The rules' parameters; an unusable one is None, and the rule needing it is passed over."""

    def usable(name: str, read):
        return None if params.problem(name) else read(name)

    return HoldParams(
        usable("liq_magnet_hold_minutes", params.integer),
        usable("max_pain_hold_minutes", params.integer),
        usable("true_trend_hold_minutes", params.integer),
        usable("default_min_hold_minutes", params.integer),
        usable("max_pain_far_pct", params.decimal),
    )


def decide_min_hold(*, position: HeldPosition, now: datetime) -> dict[str, Any]:
    """Answer a min-hold question from stored intel, record the LIQ_MAGNET event, track the position."""
    params = selectors.active_parameters()
    intel = selectors.intel_for(symbol=position.symbol, params=params, kinds=(inputs.LIQUIDATION, inputs.MAX_PAIN))
    problems = {kind: intel.unusable((kind,), now) for kind in (inputs.LIQUIDATION, inputs.MAX_PAIN)}
    clusters = None
    if not problems[inputs.LIQUIDATION] and not params.problem("cluster_window_pct"):
        window = params.decimal("cluster_window_pct")
        clusters = top_clusters(intel.get(inputs.LIQUIDATION), position.current_price, window_pct=window, n=2)
    max_pain = None if problems[inputs.MAX_PAIN] else intel.get(inputs.MAX_PAIN)
    decision = min_hold(position, clusters, max_pain, hold_params(params))
    fail_open = [p for p in problems.values() if p] + [p for name in HOLD_PARAMS if (p := params.problem(name))]
    answer = _answer(position, decision, fail_open) | {"sources": _sources(intel)}
    with transaction.atomic():
        _record(position, decision, clusters, max_pain, fail_open, params, answer, now)
    return answer


def _answer(position: HeldPosition, decision: HoldDecision, fail_open: list[str]) -> dict[str, Any]:
    cluster = decision.cluster
    return {
        "min_hold_seconds": decision.seconds,
        "reason": decision.reason,
        "hold_until": position.opened_at + timedelta(seconds=decision.seconds),
        "cluster": None
        if cluster is None
        else {
            "price": float(cluster.price),
            "distance_pct": float(round(cluster.distance_pct, 4)),
            "side": cluster.side,
            "intensity": float(cluster.intensity),
        },
        "protective_exits_allowed": True,
        "note": PROTECTIVE_EXITS,
        "fail_open": fail_open,
    }


def _sources(intel) -> dict[str, str]:
    """Where each input came from, so a simulated answer says so (SPEC §2)."""
    return {kind: reading.source for kind, reading in intel.readings.items() if reading.source}


def _record(position, decision, clusters, max_pain, fail_open, params, answer, now) -> None:
    data = {
        "direction": str(position.direction),
        "strategy": position.strategy,
        "entry_price": str(position.entry_price),
        "current_price": str(position.current_price),
        "top_clusters": [
            {
                "price": str(c.price),
                "side": c.side,
                "distance_pct": str(round(c.distance_pct, 4)),
                "intensity": str(c.intensity),
            }
            for c in clusters or ()
        ],
        "max_pain_price": str(max_pain) if max_pain is not None else None,
        "min_hold_seconds": decision.seconds,
        "fail_open": fail_open,
    }
    events = [
        GuardEvent(
            event_type=EventType.LIQ_MAGNET,
            guard="LIQ_MAGNET",
            decision=decision.reason,
            reason=_reason_text(decision),
            symbol=position.symbol,
            position_id=position.position_id or "",
            inputs=data,
            parameters=params.stamp(*HOLD_PARAMS),
            created_at=now,
        )
    ]
    events += [
        GuardEvent(
            event_type=EventType.GUARD_FAIL_OPEN,
            guard="LIQ_MAGNET",
            decision=Decision.FAIL_OPEN,
            reason=p,
            symbol=position.symbol,
            position_id=position.position_id or "",
            inputs={},
            created_at=now,
        )
        for p in fail_open
    ]
    GuardEvent.objects.bulk_create(events)
    if position.position_id:
        positions.track_open_position(position, decision, answer, now)
    logger.info(
        "min hold %s %s: %s",
        position.symbol,
        decision.reason,
        _reason_text(decision),
        extra={
            "tag": LogTag.LIQ_MAGNET,
            "symbol": position.symbol,
            "position_id": position.position_id,
            "reason": decision.reason,
            "min_hold_seconds": decision.seconds,
            "data": data,
        },
    )


def _reason_text(decision: HoldDecision) -> str:
    if decision.cluster is not None:
        c = decision.cluster
        return f"moving toward {c.side} liquidation cluster at {c.price.normalize():f} ({c.distance_pct:.2f}% away)"
    if decision.max_pain_distance_pct is not None:
        return f"options max pain {decision.max_pain_distance_pct:.2f}% away in the position's favour"
    return {HoldReason.TRUE_TREND: "standard TRUE_TREND hold", HoldReason.DEFAULT: "strategy default hold"}[
        decision.reason
    ]
