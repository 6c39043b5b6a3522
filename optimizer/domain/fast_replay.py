"""The fast replay: many candidate values of one parameter over many recorded decisions (SPEC §5.4).

Why it can be fast and still exact: each guard reads only its own inputs and parameters, so
under a candidate value of parameter P only the guard reading P can change its verdict; the
signal is allowed iff no guard in the order blocks, and its size multiplier is the product of the
resizes. Per decision the other guards are judged once, at their recorded values, and the guard
reading P is judged as a step function of the candidate: one boundary for the taker share and
the Fear & Greed cut-off, the whale CVD's sign changes for the whale threshold. A decision's
verdicts over the sorted candidates are then a few runs of equal outcome (`Run`).

The guards' maths is restated here from guards/domain/rules; tests/optimizer/domain prove it
equal to the slow path (replay.replay_chain, the real chain) on generated records.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate, chain, compress
from operator import ne
from typing import Any, NamedTuple

from guards.domain import inputs
from guards.domain.chain import GUARDS
from guards.domain.cvd import FlowDetail, threshold_to_cents
from guards.domain.params import DEFAULTS
from guards.domain.rules import fear_greed, taker_aggression, whale_intent
from guards.domain.types import Direction
from optimizer.domain.replay import (
    BELOW_FLOOR,
    REPLAYABLE,
    WHALE_THRESHOLD,
    Outcome,
    RecordedDecision,
    Replayed,
    Unreplayable,
)

ONE, ZERO = Decimal(1), Decimal(0)  # a guard's verdict: its size multiplier, 0 for a block ...
Verdict = Decimal | str  # ... or, as text, why the record cannot give it
BLOCKED = Replayed(False, ZERO)
HIDDEN = "its input was not judged (a parameter was unusable)"
PARAMETER_NAMES = {name: contract.parameter_names for name, contract in GUARDS.items()}


class Run(NamedTuple):
    """Candidates `start` to `stop` (exclusive, in sorted order) all give this decision `outcome`."""

    start: int
    stop: int
    outcome: Outcome


def candidate_key(parameter: str, value: Any) -> Decimal | int:
    """What the guard compares a candidate as: whole cents (rounded up) for the whale threshold."""
    number = Decimal(str(value))
    return threshold_to_cents(number) if parameter == WHALE_THRESHOLD else number


def replay_fast(
    decisions: Sequence[RecordedDecision], parameter: str, candidates: Sequence[Any]
) -> list[list[Outcome]]:
    """Each decision's outcome at each candidate, in the candidates' order (what the slow path gives)."""
    keys = [candidate_key(parameter, c) for c in candidates]
    ordered = sorted(set(keys))
    position = [ordered.index(k) for k in keys]
    out = []
    for decision in decisions:
        by_key: list[Outcome] = [BLOCKED] * len(ordered)
        for start, stop, outcome in decision_runs(decision, parameter, ordered):
            by_key[start:stop] = [outcome] * (stop - start)
        out.append([by_key[p] for p in position])
    return out


def decision_runs(decision: RecordedDecision, parameter: str, keys: Sequence[Any]) -> list[Run]:
    """The decision's outcome over `keys` (sorted candidate keys, see `candidate_key`) as runs."""
    n = len(keys)
    if parameter not in REPLAYABLE:
        raise ValueError(f"{parameter} cannot be replayed from stored inputs")
    if decision.damage:
        return [Run(0, n, Unreplayable(decision.damage))]
    guard = REPLAYABLE[parameter]
    before: list[Decimal] = []
    after: list[Decimal] = []
    unknown: list[str] = []
    for other in decision.guard_order:
        if other == guard:
            before, after = after, before  # the chain's order: what ran before the guard, what after
            continue
        verdict = recorded_verdict(decision, other)
        if isinstance(verdict, str):
            unknown.append(verdict)
        elif not verdict:
            return [Run(0, n, BLOCKED)]  # another guard blocks whatever this one says
        else:
            after.append(verdict)
    if guard not in decision.guard_order:
        return [Run(0, n, _combine(ONE, [], after, unknown))]
    runs = _parameter_runs(decision, parameter, keys)
    return [Run(lo, hi, _combine(verdict, before, after, unknown)) for lo, hi, verdict in runs]


def _combine(verdict: Verdict, before: list[Decimal], after: list[Decimal], unknown: list[str]) -> Outcome:
    if isinstance(verdict, str) or (unknown and verdict):
        return Unreplayable("; ".join([verdict] if isinstance(verdict, str) else unknown))
    if not verdict:
        return BLOCKED
    multiplier = Decimal("1")  # folded in the chain's order, as run_chain does
    for v in (*before, verdict, *after):
        multiplier *= v
    return Replayed(True, multiplier)


def recorded_verdict(decision: RecordedDecision, guard: str) -> Verdict:
    """A guard's verdict at the recorded values: a problem fails it open (1), else its rule."""
    if _parameter_problem(decision, guard) or decision.problems.get(guard):
        return ONE
    if guard == taker_aggression.NAME:
        return _taker_verdict(decision, _number(decision, taker_aggression.MIN_SHARE))
    if guard == whale_intent.NAME:
        return _whale_verdict(decision, threshold_to_cents(_number(decision, WHALE_THRESHOLD)))
    if guard == fear_greed.NAME:
        return _fear_greed_verdict(decision, _number(decision, fear_greed.CUTOFF))
    return f"{guard}: no replay for this guard"


def _parameter_problem(decision: RecordedDecision, guard: str, but: str = "") -> bool:
    problems = decision.parameter_problems
    return bool(problems) and any(n in problems for n in PARAMETER_NAMES[guard] if n != but)


def _number(decision: RecordedDecision, name: str) -> Decimal:
    found = decision.parameters.get(name)
    return _decimal(found.value if found is not None else DEFAULTS[name])


@lru_cache(maxsize=1024)
def _decimal(value: Any) -> Decimal:
    """A recorded JSON number as the gate reads it (Params.decimal); the same few values recur."""
    return Decimal(str(value))


def _taker_verdict(decision: RecordedDecision, min_share: Decimal) -> Verdict:
    share = decision.values.get(inputs.TAKER_FLOW)
    if share is None:
        return f"{taker_aggression.NAME}: no stored {inputs.TAKER_FLOW}"
    return ZERO if _taker_blocks(decision.direction, share, min_share) else ONE


def _taker_blocks(direction: Direction, share: Decimal, min_share: Decimal) -> bool:
    return share < min_share if direction is Direction.LONG else share > 1 - min_share


def _whale_verdict(decision: RecordedDecision, cents: int) -> Verdict:
    detail = decision.flow_detail
    if detail is None or cents < detail.floor_cents:
        return f"{whale_intent.NAME}: no stored flow detail at {cents} cents"
    cvd = detail.split(cents).whale_cvd_cents
    return ZERO if (cvd < 0 if decision.direction is Direction.LONG else cvd > 0) else ONE


def _fear_greed_verdict(decision: RecordedDecision, cutoff: Decimal) -> Verdict:
    index = decision.values.get(inputs.FEAR_GREED)
    if index is None:
        return f"{fear_greed.NAME}: no stored {inputs.FEAR_GREED}"
    return _number(decision, fear_greed.MULTIPLIER) if index > cutoff else ONE


def _parameter_runs(decision: RecordedDecision, parameter: str, keys: Sequence[Any]) -> list[tuple[int, int, Verdict]]:
    """The verdict of the guard reading `parameter` over the sorted candidate keys."""
    guard, n = REPLAYABLE[parameter], len(keys)
    if _parameter_problem(decision, guard, but=parameter):
        return [(0, n, ONE)]  # another of its parameters stays unusable: it fails open at every candidate
    if parameter in decision.parameter_problems:
        return [(0, n, f"{guard}: {HIDDEN}")]
    if problem := decision.problems.get(guard):
        return _problem_runs(decision, parameter, keys, problem)
    if parameter == WHALE_THRESHOLD:
        return _whale_runs(decision, keys)
    if parameter == taker_aggression.MIN_SHARE:
        if (share := decision.values.get(inputs.TAKER_FLOW)) is None:
            return [(0, n, _taker_verdict(decision, ZERO))]
        return _boundary_runs(keys, lambda m: _taker_blocks(decision.direction, share, m), ONE, ZERO)
    index = decision.values.get(inputs.FEAR_GREED)
    if index is None:
        return [(0, n, _fear_greed_verdict(decision, ZERO))]
    return _boundary_runs(keys, lambda cutoff: not index > cutoff, _number(decision, fear_greed.MULTIPLIER), ONE)


def _problem_runs(
    decision: RecordedDecision, parameter: str, keys: Sequence[Any], problem: str
) -> list[tuple[int, int, Verdict]]:
    """A recorded input problem fails the guard open at every candidate, except a whale threshold
    below the stored detail floor: only the recorded threshold itself is known to do that."""
    if parameter != WHALE_THRESHOLD or BELOW_FLOOR not in problem:
        return [(0, len(keys), ONE)]
    cents = threshold_to_cents(_number(decision, WHALE_THRESHOLD))
    lo, hi = bisect_left(keys, cents), bisect_right(keys, cents)
    unknown = f"{whale_intent.NAME}: the recorded flow was unusable at the recorded threshold"
    return [r for r in ((0, lo, unknown), (lo, hi, ONE), (hi, len(keys), unknown)) if r[0] < r[1]]


def _boundary_runs(keys: Sequence[Any], past: Any, below: Verdict, above: Verdict) -> list[tuple[int, int, Verdict]]:
    """One boundary: `past(key)` is False then True along the sorted keys."""
    b = bisect_left(keys, True, key=past)
    return [r for r in ((0, b, below), (b, len(keys), above)) if r[0] < r[1]]


def whale_flips(detail: FlowDetail, direction: Direction, down_to: int = 0) -> tuple[int, ...]:
    """The whale CVD's verdict on a signal as a step function of the threshold, in cents.

    Whale CVD at threshold t is the sum of the large orders with notional >= t: going down the
    orders sorted by notional, each prefix sum is the CVD on a threshold interval. The returned
    notionals (highest first) are where the verdict toggles: at t the filter blocks iff an odd
    number of them are >= t (ties toggle twice and cancel, as equal orders enter together).
    Only thresholds >= `down_to` are asked about, so smaller orders are not looked at.
    """
    asked = [o for o in detail.large_orders if o >= down_to or o <= -down_to]
    ordered = sorted(asked, key=abs, reverse=True)
    opposed = (0).__gt__ if direction is Direction.LONG else (0).__lt__  # LONG blocks on CVD < 0
    blocked = list(map(opposed, accumulate(ordered)))
    if True not in blocked:
        return ()
    return tuple(compress(map(abs, ordered), map(ne, blocked, chain((False,), blocked))))


def _whale_runs(decision: RecordedDecision, keys: Sequence[int]) -> list[tuple[int, int, Verdict]]:
    detail, n = decision.flow_detail, len(keys)
    if detail is None:
        return [(0, n, f"{whale_intent.NAME}: no stored flow detail")]
    floor = bisect_left(keys, detail.floor_cents)  # candidates below it cannot be split
    runs: list[tuple[int, int, Verdict]] = []
    hi, blocked = n, False
    for flip in whale_flips(detail, decision.direction, down_to=keys[0] if keys else 0):
        lo = max(bisect_right(keys, flip), floor)
        if lo < hi:
            runs.append((lo, hi, ZERO if blocked else ONE))
            hi = lo
        blocked = not blocked
        if hi == floor:
            break
    if floor < hi:
        runs.append((floor, hi, ZERO if blocked else ONE))
    if floor:
        runs.append((0, floor, f"{whale_intent.NAME}: threshold {BELOW_FLOOR} {detail.floor_cents} cents"))
    return runs[::-1]


def unblocked_multiplier(decision: RecordedDecision) -> Decimal | None:
    """The product of every resize at the recorded values, blocks read as 1: what the chain would
    have sized a blocked signal at (its shadow's size, SPEC §5.2); None when a verdict is unknown."""
    multiplier = Decimal("1")
    for guard in decision.guard_order:
        verdict = recorded_verdict(decision, guard)
        if isinstance(verdict, str):
            return None
        multiplier *= verdict or ONE
    return multiplier


def reference_size(decision: RecordedDecision) -> Decimal | None:
    """The size the recorded P&L was made at: `pnl_size`, else the chain's (see RecordedDecision)."""
    if decision.pnl_size is not None:
        return decision.pnl_size
    if decision.allowed:
        return decision.base_size * decision.size_multiplier
    multiplier = unblocked_multiplier(decision)
    return None if multiplier is None else decision.base_size * multiplier


def pnl_under(decision: RecordedDecision, outcome: Replayed, reference: Decimal | None) -> Decimal | None:
    """What the signal makes under a replayed outcome, in USD; None when that is unknown.

    Blocked: 0 (nothing traded). Allowed: the recorded P&L (real or shadow) scaled from its
    reference size to this outcome's size, so a trade taken at the recorded size keeps its real
    P&L to the cent."""
    if not outcome.allowed:
        return ZERO
    if decision.pnl is None or not reference:
        return None
    size = decision.base_size * outcome.size_multiplier
    return decision.pnl if size == reference else decision.pnl * size / reference
