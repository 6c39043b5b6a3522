"""The 12-hour optimizer run (SPEC §5.4, issue 9 items 4-6): replay the window at the standard
candidates of one parameter, store the run whole, and file a proposal when it is worth one.

The window is the last `WINDOW_TRADES` closed trades (their evaluations are the taken decisions,
real P&L at the traded size) and the blocked signals evaluated from the earliest of those
evaluations to now (shadow P&L at the shadow size). A proposal goes through the ordinary approval
flow (guards.parameters); with AUTO_APPROVE_OPTIMIZER it is approved at once, recorded as auto.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from guards.domain.params import validate_value
from guards.domain.retention import cutoff
from guards.events import LogTag
from guards.models import Evaluation, ParameterVersion, Trade
from guards.parameters import active_version, approve_version, propose_version
from guards.retention import retention_days
from optimizer.decisions import recorded_decision
from optimizer.domain.candidates import CENT, CandidateTable, candidate_table, should_propose
from optimizer.domain.replay import REPLAYABLE, RecordedDecision
from optimizer.models import OptimizerRun
from optimizer.text import aligned

logger = logging.getLogger("optimizer")
WINDOW_TRADES = 50
PARAMETERS = tuple(REPLAYABLE)  # whale threshold, taker minimum share, Fear & Greed cut-off


@dataclass(frozen=True)
class Window:
    """The decisions one run replays, and what the stored run says about them."""

    decisions: tuple[RecordedDecision, ...]
    start: datetime | None
    end: datetime
    trades: int
    blocked_signals: int
    unlinked_trades: int  # closed trades without their evaluation: not replayable

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat(),
            "trades": self.trades,
            "blocked_signals": self.blocked_signals,
            "unlinked_trades": self.unlinked_trades,
        }


def min_changed_decisions() -> int:
    return int(getattr(settings, "OPTIMIZER_MIN_CHANGED_DECISIONS", 3))


def load_window(*, now: datetime, trades: int = WINDOW_TRADES) -> Window:
    """Two queries: the last closed trades with their evaluation and whale snapshot, then the
    blocked signals over the same period with theirs."""
    kept_since = cutoff(now, retention_days())  # never past the pruned history (docs/operations.md)
    closed = list(
        Trade.objects.select_related("evaluation__whale_flow_snapshot")
        .filter(closed_at__gte=kept_since)
        .order_by("-closed_at", "-id")[:trades]
    )
    taken: dict[int, tuple[Evaluation, Decimal, Decimal]] = {}
    for trade in closed:
        if trade.evaluation is None:
            continue
        # Two trades reported for one signal: one decision, its P&L and size summed.
        _, pnl, size = taken.get(trade.evaluation.pk, (trade.evaluation, Decimal(0), Decimal(0)))
        taken[trade.evaluation.pk] = (trade.evaluation, pnl + trade.pnl, size + trade.size)
    start = min((max(e.evaluated_at, kept_since) for e, _, _ in taken.values()), default=None)
    blocked = []
    if start is not None:
        blocked = list(
            Evaluation.objects.select_related("whale_flow_snapshot")
            .filter(allowed=False, evaluated_at__gte=start, evaluated_at__lte=now)
            .exclude(pk__in=taken)
            .order_by("evaluated_at", "id")
        )
    decisions = [_decision(e, pnl, size) for e, pnl, size in taken.values()]
    decisions += [_decision(e, e.shadow_pnl, e.shadow_size) for e in blocked]
    return Window(
        decisions=tuple(decisions),
        start=start,
        end=now,
        trades=len(closed),
        blocked_signals=len(blocked),
        unlinked_trades=sum(t.evaluation is None for t in closed),
    )


def _decision(evaluation: Evaluation, pnl: Decimal | None, size: Decimal | None) -> RecordedDecision:
    snapshot = evaluation.whale_flow_snapshot
    return recorded_decision(evaluation, snapshot_raw=snapshot and snapshot.raw, pnl=pnl, pnl_size=size)


def run_optimizer(*, now: datetime, parameters: Iterable[str] = PARAMETERS) -> list[OptimizerRun]:
    """One run per parameter over one window (loaded once); each run stored, proposals filed."""
    window = load_window(now=now)
    return [run_parameter(parameter, window=window, now=now) for parameter in parameters]


def run_parameter(parameter: str, *, window: Window, now: datetime, resamples: int = 1000) -> OptimizerRun:
    if parameter not in REPLAYABLE:
        raise ValueError(f"{parameter} cannot be replayed from stored inputs (one of {', '.join(PARAMETERS)})")
    active = active_version(parameter)
    run = OptimizerRun(
        run_id=uuid.uuid4(),
        ran_at=now,
        parameter=parameter,
        active_value=active.value if active else None,
        active_version=active.version if active else None,
        window=window.to_json(),
        decisions=len(window.decisions),
        improvement=Decimal(0),
    )
    propose = False
    if active is None:
        run.reason = f"{parameter} has no active version: nothing to move from"
    else:
        table = candidate_table(window.decisions, parameter=parameter, active_value=active.value, resamples=resamples)
        propose = _tabulate(run, table, window)
    with transaction.atomic():
        if propose and active is not None:
            _file(run)
        run.save()
    logger.info(
        "optimizer %s: %s",
        parameter,
        run.reason,
        extra={
            "tag": LogTag.HYPERPARAM,
            "run_id": str(run.run_id),
            "parameter": parameter,
            "active_value": run.active_value,
            "best_value": run.best_value,
            "improvement": str(run.improvement),
            "proposal_version": run.proposal_version,
        },
    )
    return run


def _tabulate(run: OptimizerRun, table: CandidateTable, window: Window) -> bool:
    """Fill the run from the table; whether a proposal should be filed."""
    best = table.best
    decision = should_propose(table, min_changed_decisions=min_changed_decisions())
    run.candidates = [c.to_json() for c in table.candidates]
    run.best_value = str(best.value)
    run.improvement = table.improvement
    run.compared = table.compared
    run.unreplayable = max((c.unreplayable for c in table.candidates), default=0)
    run.unpriced = max((c.unpriced for c in table.candidates), default=0)
    run.reason = decision.reason if window.decisions else "no closed trades with their signal in the window"
    return decision.propose and bool(window.decisions)


def _file(run: OptimizerRun) -> None:
    value = validate_value(run.parameter, Decimal(str(run.best_value)))
    pending = ParameterVersion.objects.filter(
        parameter=run.parameter, status=ParameterVersion.Status.PROPOSED, origin=ParameterVersion.Origin.OPTIMIZER
    )
    if waiting := next((v for v in pending.order_by("version") if v.value == value), None):
        run.reason += f"; already proposed as v{waiting.version}, awaiting approval"
        return
    version = propose_version(
        parameter=run.parameter,
        value=value,
        proposer=None,
        reason=run.reason,
        origin=ParameterVersion.Origin.OPTIMIZER,
        evidence=to_json(run),  # the whole run, as export_optimizer_runs writes it
    )
    run.proposal, run.proposal_version = version, version.version
    if settings.AUTO_APPROVE_OPTIMIZER:
        approve_version(version=version, approver=None, now=run.ran_at, auto=True)
        run.reason += f"; v{version.version} auto-approved (AUTO_APPROVE_OPTIMIZER)"
    else:
        run.reason += f"; proposed as v{version.version}, awaiting approval"


def to_json(run: OptimizerRun) -> dict[str, Any]:
    """One line of export_optimizer_runs."""
    return {
        "run_id": str(run.run_id),
        "ran_at": run.ran_at.isoformat(),
        "parameter": run.parameter,
        "active_value": run.active_value,
        "active_version": run.active_version,
        "window": run.window,
        "decisions": run.decisions,
        "compared": run.compared,
        "unreplayable": run.unreplayable,
        "unpriced": run.unpriced,
        "candidates": run.candidates,
        "best_value": run.best_value,
        "improvement": str(run.improvement.quantize(CENT)),
        "proposal": run.proposal_version,
        "reason": run.reason,
    }


COLUMNS = ("value", "P&L", "older half", "newer half", "changed", "bootstrap win %")


def table_text(run: OptimizerRun) -> str:
    """The run's candidate table, aligned, and its decision (run_optimizer's output)."""
    head = (
        f"{run.parameter} (active {run.active_value}, v{run.active_version}): "
        f"{run.decisions} decisions, {run.compared} compared, {run.unreplayable} unreplayable, "
        f"{run.unpriced} unpriced"
    )
    rows: list[Sequence[str]] = [COLUMNS]
    active = None if run.active_value is None else Decimal(str(run.active_value))
    for c in run.candidates:
        share = c["bootstrap_win_share"]
        mark = " (active)" if Decimal(c["value"]) == active else ""
        rows.append(
            (
                c["value"] + mark,
                c["pnl"],
                c["pnl_older_half"],
                c["pnl_newer_half"],
                str(c["changed_decisions"]),
                "n/a" if share is None else f"{Decimal(share) * 100:.1f}",
            )
        )
    lines = [head, *aligned(rows)]
    return "\n".join([*lines, f"decision: {run.reason}"])
