"""The optimizer's candidate table (SPEC §5.4, issue 9 items 4-5): each candidate value of one
parameter replayed over the window's decisions, with the evidence a person approves on.

Every candidate is compared on the same decisions: one that some candidate cannot replay
exactly, or whose P&L some candidate needs and the record lacks, is left out of every
candidate's P&L and counted (`unreplayable`, `unpriced` per candidate). Money is Decimal; the
table's amounts are rounded to cents once, at the end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from operator import attrgetter
from random import Random
from typing import Any

from guards.domain.params import SPECS, validate_value
from optimizer.domain.fast_replay import Run, candidate_key, decision_runs, pnl_under, reference_size
from optimizer.domain.replay import RecordedDecision, Replayed

CENT = Decimal("0.01")
STEPS_PCT = (-20, -10, 0, 10, 20)
MIN_IMPROVEMENT_USD = Decimal(50)


def standard_candidates(parameter: str, active_value: Any, steps_pct: Sequence[Any] = STEPS_PCT) -> list[Decimal]:
    """The active value moved by each step in %, rounded to the parameter's decimals (the whale
    threshold to whole cents); steps outside the parameter's allowed range are left out."""
    active = Decimal(str(active_value))
    places = SPECS[parameter].places or 0
    found: list[Decimal] = []
    for pct in steps_pct:
        value = (active * (100 + Decimal(str(pct))) / 100).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)
        try:
            validate_value(parameter, value)
        except ValueError:
            continue
        found += [value] if value not in found else []
    return found


def spread_candidates(parameter: str, active_value: Any, count: int = 41, span_pct: int = 20) -> list[Decimal]:
    """`count` candidates evenly from -span% to +span% of the active value (the what-if panel)."""
    steps = [Decimal(span_pct) * (Decimal(2 * i) / (count - 1) - 1) for i in range(count)] if count > 1 else [0]
    return standard_candidates(parameter, active_value, steps)


@dataclass(frozen=True)
class CandidateResult:
    """One row of the table: what the window would have made at `value` (USD, cents)."""

    value: Decimal
    pnl: Decimal
    pnl_older_half: Decimal
    pnl_newer_half: Decimal
    changed_decisions: int  # allowed or size differs from the active value's replay
    bootstrap_win_share: Decimal | None  # share of resamples in which it beats the active value
    unreplayable: int  # decisions the record cannot replay exactly at this value
    unpriced: int  # decisions it would take whose P&L is unknown

    def to_json(self) -> dict[str, Any]:
        share = self.bootstrap_win_share
        return {
            "value": str(self.value),
            "pnl": str(self.pnl),
            "pnl_older_half": str(self.pnl_older_half),
            "pnl_newer_half": str(self.pnl_newer_half),
            "changed_decisions": self.changed_decisions,
            "bootstrap_win_share": None if share is None else str(share),
            "unreplayable": self.unreplayable,
            "unpriced": self.unpriced,
        }


@dataclass(frozen=True)
class CandidateTable:
    parameter: str
    active_value: Decimal
    candidates: tuple[CandidateResult, ...]  # ascending by value, the active value among them
    decisions: int  # in the window
    compared: int  # the decisions every candidate is compared on

    @property
    def active(self) -> CandidateResult:
        return next(c for c in self.candidates if c.value == self.active_value)

    @property
    def best(self) -> CandidateResult:
        """Highest P&L; a tie goes to the active value, then to the value nearest it (then the lower)."""
        active = self.active_value
        return max(self.candidates, key=lambda c: (c.pnl, c.value == active, -abs(c.value - active), -c.value))

    @property
    def improvement(self) -> Decimal:
        return self.best.pnl - self.active.pnl


def candidate_table(
    decisions: Sequence[RecordedDecision],
    *,
    parameter: str,
    active_value: Any,
    candidates: Sequence[Any] | None = None,
    resamples: int = 1000,
    rng: Random | None = None,
) -> CandidateTable:
    """Replay the window at every candidate (the standard five when None; the active value is always
    added) and tabulate P&L, halves, changed decisions and the bootstrap win share (seeded `rng`)."""
    active = Decimal(str(active_value))
    values = sorted({Decimal(str(v)) for v in candidates or standard_candidates(parameter, active)} | {active})
    keys = [candidate_key(parameter, v) for v in values]
    tally = _Tally(len(values), values.index(active), keep_deltas=resamples > 0)
    newer_from = len(decisions) // 2
    for rank, decision in enumerate(sorted(decisions, key=attrgetter("evaluated_at", "evaluation_id"))):
        tally.add(decision, decision_runs(decision, parameter, keys), newer=rank >= newer_from)
    shares = _win_shares(tally, resamples, rng or Random(0))
    rows = tuple(tally.row(j, value, shares[j]) for j, value in enumerate(values))
    return CandidateTable(parameter, active, rows, len(decisions), tally.compared)


class _Tally:
    """Per-candidate sums, kept as difference arrays over the sorted candidates: a decision adds
    once per run of equal outcome, not once per candidate."""

    def __init__(self, size: int, active_index: int, *, keep_deltas: bool):
        self.size, self.active_index, self.compared, self.keep_deltas = size, active_index, 0, keep_deltas
        self.halves = ([Decimal(0)] * (size + 1), [Decimal(0)] * (size + 1))
        self.changed, self.unreplayable, self.unpriced = ([0] * (size + 1) for _ in range(3))
        self.deltas: list[list[tuple[int, Decimal]]] = [[] for _ in range(size)]  # per candidate: (decision, delta)

    def add(self, decision: RecordedDecision, runs: list[Run], *, newer: bool) -> None:
        reference, priced, comparable = reference_size(decision), [], True
        for run in runs:
            if not isinstance(run.outcome, Replayed):
                _add(self.unreplayable, run, 1)
                comparable = False
            elif (pnl := pnl_under(decision, run.outcome, reference)) is None:
                _add(self.unpriced, run, 1)
                comparable = False
            else:
                priced.append((run, pnl))
        if comparable:
            self._compare(priced, self.halves[newer])

    def _compare(self, priced: list[tuple[Run, Decimal]], half: list[Decimal]) -> None:
        active_run, active_pnl = next((r, p) for r, p in priced if r.start <= self.active_index < r.stop)
        for run, pnl in priced:
            _add(half, run, pnl)
            if run.outcome != active_run.outcome:
                _add(self.changed, run, 1)
                self._delta(run, pnl - active_pnl)
        self.compared += 1

    def _delta(self, run: Run, delta: Decimal) -> None:
        if delta and self.keep_deltas:
            for j in range(run.start, run.stop):
                self.deltas[j].append((self.compared, delta))

    def row(self, j: int, value: Decimal, share: Decimal | None) -> CandidateResult:
        def total(diffs: list[Any]) -> Any:
            return sum(diffs[: j + 1], type(diffs[0])(0))

        def money(diffs: list[Decimal]) -> Decimal:
            return total(diffs).quantize(CENT, ROUND_HALF_EVEN)

        return CandidateResult(
            value=value,
            pnl=(total(self.halves[0]) + total(self.halves[1])).quantize(CENT, ROUND_HALF_EVEN),
            pnl_older_half=money(self.halves[0]),
            pnl_newer_half=money(self.halves[1]),
            changed_decisions=total(self.changed),
            bootstrap_win_share=share,
            unreplayable=total(self.unreplayable),
            unpriced=total(self.unpriced),
        )


def _add(diffs: list[Any], run: Run, amount: Any) -> None:
    diffs[run.start] += amount
    diffs[run.stop] -= amount


def _win_shares(tally: _Tally, resamples: int, rng: Random) -> list[Decimal | None]:
    """Bootstrap (SPEC §5.4 evidence): resample the compared decisions with replacement; a
    candidate wins a resample when its P&L there is strictly above the active value's."""
    if not resamples or not tally.compared:
        return [None] * tally.size
    wins = [0] * tally.size
    population = range(tally.compared)
    for _ in range(resamples):
        drawn = Counter(rng.choices(population, k=tally.compared))
        for j, deltas in enumerate(tally.deltas):
            wins[j] += sum(delta * drawn[i] for i, delta in deltas) > 0
    return [Decimal(w) / resamples for w in wins]


@dataclass(frozen=True)
class ProposalDecision:
    propose: bool
    reason: str


def should_propose(
    table: CandidateTable, *, min_changed_decisions: int, min_improvement_usd: Decimal = MIN_IMPROVEMENT_USD
) -> ProposalDecision:
    """File a proposal only when the best candidate beats the active value by more than
    `min_improvement_usd` (SPEC §5.4: $50) and changes at least `min_changed_decisions` decisions."""
    best, active = table.best, table.active
    if best is active:
        return ProposalDecision(
            False, f"the active value {active.value} is the best of {len(table.candidates)} candidates"
        )
    gain = f"{best.value} would have made ${table.improvement:,} more than the active {active.value}"
    if table.improvement <= min_improvement_usd:
        return ProposalDecision(False, f"{gain}: not more than ${min_improvement_usd:,}")
    if best.changed_decisions < min_changed_decisions:
        return ProposalDecision(
            False, f"{gain}, but changes only {best.changed_decisions} decisions (minimum {min_changed_decisions})"
        )
    older, newer = best.pnl_older_half - active.pnl_older_half, best.pnl_newer_half - active.pnl_newer_half
    halves = f"older half ${older:,}, newer half ${newer:,}"
    return ProposalDecision(
        True,
        f"{gain} over {best.changed_decisions} changed decisions ({halves}; "
        f"beats it in {_percent(best.bootstrap_win_share)} of bootstrap resamples)",
    )


def _percent(share: Decimal | None) -> str:
    return "no" if share is None else f"{share * 100:.0f}%"
