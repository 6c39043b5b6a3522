"""The what-if panel (SPEC §5.4, §6): a candidate value of a replayable parameter over the
optimizer's own window and replay, the decisions it flips and the P&L difference, filed as a
proposal on request.

Nothing is replayed here: the window is optimizer.runs.load_window, each decision is the
optimizer's RecordedDecision (optimizer.decisions.recorded_decision), the outcomes come from
optimizer.domain.fast_replay and the totals from optimizer.domain.candidates.candidate_table, the
very table a run stores. A decision the record cannot replay exactly is listed with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from guards.domain.params import SPECS, validate_value
from guards.models import ParameterVersion
from guards.parameters import active_version, propose_version
from optimizer.domain.candidates import CENT, candidate_table, spread_candidates
from optimizer.domain.fast_replay import pnl_under, reference_size, replay_fast
from optimizer.domain.replay import REPLAYABLE, Outcome, RecordedDecision, Replayed, Unreplayable
from optimizer.runs import PARAMETERS, Window, load_window

EVIDENCE_FLIPS = 200  # flips listed in a proposal's evidence (all are counted)


class BadCandidate(ValueError):
    """A parameter or value the what-if cannot use, and the form field it came in."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def parse_request(query: Any) -> tuple[str, Decimal]:
    """(parameter, candidate value) from the form; BadCandidate naming the field otherwise."""
    parameter = query.get("parameter", "").strip()
    if parameter not in REPLAYABLE:
        raise BadCandidate("parameter", f"choose one of {', '.join(PARAMETERS)}")
    raw = query.get("value", "").strip().replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadCandidate("value", f"{raw or 'nothing'!r} is not a number") from None
    try:
        validate_value(parameter, value)
    except ValueError as exc:
        spec = SPECS[parameter]
        raise BadCandidate("value", f"{raw} {exc}; the {spec.label.lower()} may be {spec.allowed()}") from None
    return parameter, value


@dataclass(frozen=True)
class Flip:
    """A decision whose outcome at the candidate differs from its replay at the active value."""

    decision: RecordedDecision
    at_active: Replayed
    at_candidate: Replayed
    pnl_effect: Decimal | None  # USD at the candidate minus at the active value; None: P&L unknown

    def to_json(self) -> dict[str, Any]:
        d = self.decision
        return {
            "evaluation_id": d.evaluation_id,
            "evaluated_at": d.evaluated_at.isoformat(),
            "symbol": d.symbol,
            "direction": d.direction.value,
            "recorded": recorded_text(d),
            "at_active": outcome_text(self.at_active),
            "at_candidate": outcome_text(self.at_candidate),
            "pnl_effect": None if self.pnl_effect is None else str(self.pnl_effect.quantize(CENT)),
        }


@dataclass(frozen=True)
class NotReplayed:
    decision: RecordedDecision
    reason: str


@dataclass(frozen=True)
class WhatIf:
    parameter: str
    active: ParameterVersion
    candidate: Decimal
    window: Window
    flips: list[Flip]  # newest first
    not_replayed: list[NotReplayed]  # newest first
    unpriced: int  # replayable decisions left out of the P&L: taken without a known P&L
    compared: int  # the decisions both P&L totals are made of
    pnl_active: Decimal
    pnl_candidate: Decimal
    curve: list[tuple[Decimal, Decimal]]  # (value, P&L) from -20% to +20% of the active value, and the candidate

    @property
    def difference(self) -> Decimal:
        return self.pnl_candidate - self.pnl_active

    @property
    def is_active(self) -> bool:
        return self.candidate == Decimal(str(self.active.value))

    def curve_chart(self) -> dict[str, Any]:
        """The curve as Chart.js data (static/dashboard/dashboard.js draws it); the candidate marked."""
        marked = ["#c62828" if value == self.candidate else "#1565c0" for value, _ in self.curve]
        return {
            "labels": [str(value) for value, _ in self.curve],
            "datasets": [
                {
                    "label": "P&L over the window",
                    "data": [float(pnl) for _, pnl in self.curve],
                    "borderColor": "#1565c0",
                    "pointBackgroundColor": marked,
                    "pointRadius": [6 if m == "#c62828" else 3 for m in marked],
                }
            ],
        }

    def summary(self) -> str:
        more = "more" if self.difference >= 0 else "less"
        return (
            f"What-if: {self.candidate} would have made ${abs(self.difference):,} {more} than the active "
            f"{self.active.value} (v{self.active.version}) over the {self.compared} comparable of "
            f"{len(self.window.decisions)} recent decisions; {len(self.flips)} decisions flip, "
            f"{len(self.not_replayed)} cannot be replayed exactly, {self.unpriced} without a known P&L"
        )

    def evidence(self) -> dict[str, Any]:
        return {
            "source": "what-if",
            "parameter": self.parameter,
            "active_value": self.active.value,
            "active_version": self.active.version,
            "candidate": str(self.candidate),
            "window": self.window.to_json(),
            "decisions": len(self.window.decisions),
            "compared": self.compared,
            "unreplayable": len(self.not_replayed),
            "unpriced": self.unpriced,
            "pnl_active": str(self.pnl_active),
            "pnl_candidate": str(self.pnl_candidate),
            "difference": str(self.difference),
            "flipped": len(self.flips),
            "flips": [f.to_json() for f in self.flips[:EVIDENCE_FLIPS]],
        }


def what_if(parameter: str, candidate: Decimal, *, now: datetime, with_curve: bool = True) -> WhatIf | None:
    """The candidate against the active value on the optimizer's window; None without an active version.
    `with_curve`: also the P&L from -20% to +20% (shown on the page; a filed proposal needs none)."""
    active = active_version(parameter)
    if active is None:
        return None
    window = load_window(now=now)
    decisions = sorted(window.decisions, key=lambda d: (d.evaluated_at, d.evaluation_id), reverse=True)
    active_value = Decimal(str(active.value))
    flips, not_replayed, unpriced = [], [], 0
    for decision, (at_active, at_candidate) in zip(
        decisions, replay_fast(decisions, parameter, [active_value, candidate]), strict=True
    ):
        if isinstance(at_candidate, Unreplayable) or isinstance(at_active, Unreplayable):
            not_replayed.append(NotReplayed(decision, _why(at_candidate, at_active)))
            continue
        effect = _pnl_effect(decision, at_active, at_candidate)
        unpriced += effect is None  # only an allowed outcome can lack a P&L (pnl_under)
        if at_active != at_candidate:
            flips.append(Flip(decision, at_active, at_candidate, effect))
    table = candidate_table(
        window.decisions, parameter=parameter, active_value=active_value, candidates=[candidate], resamples=0
    )
    at = {row.value: row.pnl for row in table.candidates}
    return WhatIf(
        parameter=parameter,
        active=active,
        candidate=candidate,
        window=window,
        flips=flips,
        not_replayed=not_replayed,
        unpriced=unpriced,
        compared=table.compared,
        pnl_active=at[active_value],
        pnl_candidate=at[candidate],
        curve=_curve(window, parameter, active_value, candidate) if with_curve else [],
    )


def _why(*outcomes: Outcome) -> str:
    return next(o.reason for o in outcomes if isinstance(o, Unreplayable))


def _pnl_effect(decision: RecordedDecision, at_active: Replayed, at_candidate: Replayed) -> Decimal | None:
    reference = reference_size(decision)
    before, after = pnl_under(decision, at_active, reference), pnl_under(decision, at_candidate, reference)
    return None if before is None or after is None else after - before


def _curve(window: Window, parameter: str, active_value: Decimal, candidate: Decimal) -> list[tuple[Decimal, Decimal]]:
    """P&L over the window from -20% to +20% of the active value and at the candidate (the same
    table, more candidates)."""
    if not window.decisions:
        return []
    values = spread_candidates(parameter, active_value, count=21) + [candidate]
    table = candidate_table(
        window.decisions, parameter=parameter, active_value=active_value, candidates=values, resamples=0
    )
    return [(row.value, row.pnl) for row in table.candidates]


def file_proposal(result: WhatIf, *, proposer, reason: str) -> ParameterVersion:
    """The candidate as a PROPOSED version by this person, with the what-if as its evidence."""
    why = f"{reason.strip()} ({result.summary()})" if reason.strip() else result.summary()
    return propose_version(
        parameter=result.parameter,
        value=result.candidate,
        proposer=proposer,
        reason=why,
        origin=ParameterVersion.Origin.PERSON,
        evidence=result.evidence(),
    )


def recorded_text(decision: RecordedDecision) -> str:
    if not decision.allowed:
        return f"blocked by {decision.blocked_by}" if decision.blocked_by else "blocked"
    return f"allowed ×{_multiplier(decision.size_multiplier)}"


def outcome_text(outcome: Outcome) -> str:
    if isinstance(outcome, Unreplayable):
        return "not replayable"
    return f"allowed ×{_multiplier(outcome.size_multiplier)}" if outcome.allowed else "blocked"


def _multiplier(value: Decimal) -> str:
    return format(value.normalize(), "f")
