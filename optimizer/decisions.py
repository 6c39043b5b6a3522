"""An evaluation as the optimizer replays it: one construction for the shadow task and the runs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from guards.models import Evaluation
from optimizer.domain.replay import RecordedDecision


def recorded_decision(
    evaluation: Evaluation, *, snapshot_raw: Any, pnl: Decimal | None = None, pnl_size: Decimal | None = None
) -> RecordedDecision:
    """`snapshot_raw` is the whale snapshot's `raw` (its exact flow detail); damaged, it reads as absent."""
    return RecordedDecision.from_record(
        evaluation_id=evaluation.pk,
        direction=evaluation.direction,
        base_size=evaluation.base_size,
        allowed=evaluation.allowed,
        blocked_by=evaluation.blocked_by,
        size_multiplier=evaluation.size_multiplier,
        evaluated_at=evaluation.evaluated_at,
        replay=evaluation.replay,
        flow_detail=snapshot_raw.get("detail") if isinstance(snapshot_raw, dict) else None,
        pnl=pnl,
        pnl_size=pnl_size,
        symbol=evaluation.symbol,
    )
