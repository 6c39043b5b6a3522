"""The fast replay is the slow one, and replaying at the recorded values is the recorded decision.

Records are made as the gate makes them (builders.record: the real chain, then replay_record) from
generated inputs: any guard order, parameters at their boundaries or unusable, inputs missing,
stale, out of plan or unparseable, whale flow with ties and orders a cent either side of the
candidates, detail floors above the threshold. The slow path (replay_chain) runs the real chain
on the rebuilt record; the fast path restates the rules per parameter. Deterministic: derandomized,
no example database, no deadline (as tests/guards/domain/test_properties.py).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from guards.domain import inputs
from guards.domain.cvd import FlowDetail, detail_floor_cents, threshold_to_cents
from guards.domain.params import GUARD_NAMES, validate_value
from guards.domain.types import Reading
from optimizer.domain.candidates import candidate_table
from optimizer.domain.fast_replay import pnl_under, reference_size, replay_fast
from optimizer.domain.replay import (
    REPLAYABLE,
    TAKER_MIN_SHARE,
    WHALE_THRESHOLD,
    Replayed,
    Unreplayable,
    chain_result,
    replay_chain,
)

from .builders import NOW, params, record

PROPERTY = settings(max_examples=400, deadline=None, derandomize=True, database=None)


def places(low: str, high: str, n: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(Decimal(low), Decimal(high), places=n).map(lambda d: d.normalize() if d else Decimal(0))


def heavy_cents(low: int, high_exponent: int = 10) -> st.SearchStrategy[int]:
    """Whole cents from `low` up, about as many near `low` as far above it (a log-uniform tail)."""
    return st.integers(0, high_exponent).flatmap(lambda e: st.integers(low, max(low, low + 10**e)))


@st.composite
def gates(draw):
    values = {
        "taker_min_share": validate_value("taker_min_share", draw(places("0", "0.5", 4))),
        "whale_cvd_threshold_usd": validate_value("whale_cvd_threshold_usd", draw(places("1", "2000000", 2))),
        "fear_greed_cutoff": validate_value("fear_greed_cutoff", draw(places("0", "100", 2))),
        "fear_greed_multiplier": validate_value("fear_greed_multiplier", draw(places("0.0001", "1", 4))),
        "guard_order": list(
            draw(st.permutations(GUARD_NAMES).flatmap(lambda p: st.sampled_from([p, p, p[:2], p[1:]])))
        ),
    }
    unusable = ["taker_min_share", "whale_cvd_threshold_usd", "fear_greed_cutoff", "fear_greed_multiplier"]
    unusable += ["taker_window", "whale_window_minutes", "fear_greed_ttl_seconds", "guard_order"]
    broken = draw(st.lists(st.sampled_from(unusable), max_size=2, unique=True))
    if draw(st.integers(0, 3)):  # mostly usable: the interesting replays are exact ones
        broken = broken[:0]
    return params({name: f"PARAMETER_INVALID ({name}: damaged)" for name in broken}, **values)


@st.composite
def flow_details(draw, threshold_cents: int) -> FlowDetail | None:
    """Large orders with a heavy tail, ties, and orders exactly at or a cent around the threshold."""
    if not draw(st.integers(0, 9)):
        return None
    floor = detail_floor_cents(threshold_cents)
    floor = draw(st.sampled_from([floor, floor, floor, 0, threshold_cents, threshold_cents + 1]))
    near = st.sampled_from([threshold_cents - 1, threshold_cents, threshold_cents + 1, floor, floor + 1])
    notional = st.one_of(heavy_cents(floor), near.map(lambda c: max(c, floor)))
    orders = draw(st.lists(st.tuples(notional, st.booleans()), max_size=12))
    orders += draw(st.sampled_from([[], orders[:1], orders[:2]]))  # exact ties, same side
    signed = tuple(n if buy else -n for n, buy in orders)
    buy = sum(o for o in signed if o > 0) + draw(heavy_cents(0, 8))
    sell = -sum(o for o in signed if o < 0) + draw(heavy_cents(0, 8))
    return FlowDetail(buy, sell, floor, signed)


@st.composite
def decisions(draw, evaluation_id: int = 1):
    gate = draw(gates())
    cutoff, min_share = gate.decimal("fear_greed_cutoff"), gate.decimal("taker_min_share")
    share = draw(st.one_of(places("0", "1", 6), st.sampled_from([min_share, 1 - min_share])))
    index = draw(st.one_of(places("0", "100", 2), st.just(cutoff)))
    detail = draw(flow_details(threshold_to_cents(gate.decimal("whale_cvd_threshold_usd"))))
    readings = {}
    for kind in draw(st.lists(st.sampled_from([inputs.TAKER_FLOW, inputs.WHALE_FLOW, inputs.FEAR_GREED]), max_size=2)):
        problem = draw(st.sampled_from(["NOT_IN_PLAN (needs HOBBYIST)", None]))
        readings[kind] = Reading(None, None, 300, problem=problem)  # out of plan, or missing
    if draw(st.integers(0, 9)) == 0:
        readings[inputs.TAKER_FLOW] = Reading(share, NOW.replace(hour=10), 300)  # stale: 2 hours old
    return record(
        direction=draw(st.sampled_from(["LONG", "SHORT"])),
        base_size=str(draw(places("1", "100000", 2))),
        gate=gate,
        taker_share=share,
        fear_greed=index,
        detail=detail,
        readings=readings,
        lose_detail=draw(st.integers(0, 19)) == 0,  # no problem recorded, yet no detail: unknown
        pnl=draw(st.one_of(st.none(), places("-5000", "5000", 2))),
        evaluation_id=evaluation_id,
    )


@st.composite
def candidates(draw, decision, parameter: str) -> list[Decimal]:
    """Values around every boundary the record holds, and some anywhere."""
    recorded = decision.recorded_value(parameter)
    near: list[Decimal] = [recorded] if recorded is not None else []
    if parameter == WHALE_THRESHOLD:
        detail = decision.flow_detail
        marks = [abs(o) for o in detail.large_orders] + [detail.floor_cents] if detail else []
        near += [Decimal(c + d) / 100 for c in marks for d in (-1, 0, 1) if c + d > 0]
        near += [Decimal(c) / 100 - Decimal("0.005") for c in marks if c > 1]  # rounds up onto the order
        anywhere = places("1", "3000000", 3)
    elif parameter == TAKER_MIN_SHARE:
        share = decision.values.get(inputs.TAKER_FLOW, Decimal("0.4"))
        near += [share, 1 - share, share + Decimal("0.0001"), 1 - share - Decimal("0.0001")]
        anywhere = places("0", "0.5", 4)
    else:
        index = decision.values.get(inputs.FEAR_GREED, Decimal(80))
        near += [index, index - Decimal("0.01"), index + Decimal("0.01")]
        anywhere = places("0", "100", 2)
    picks = draw(st.lists(st.sampled_from(near), max_size=4)) if near else []
    return picks + draw(st.lists(anywhere, min_size=1, max_size=4))


def verdicts(outcomes) -> list:
    """Replayed outcomes exactly; an Unreplayable one as such (its reason is for people, worded per path)."""
    return [o if isinstance(o, Replayed) else "unreplayable" for o in outcomes]


def recorded_outcome(decision) -> Replayed:
    return Replayed(decision.allowed, decision.size_multiplier)


@PROPERTY
@given(decisions())
def test_the_slow_replay_at_the_recorded_values_is_the_recorded_decision(decision):
    chain, unknown = chain_result(decision)
    event("allowed" if decision.allowed else f"blocked by {decision.blocked_by}")
    if unknown:  # only a record that lost its flow detail: exact when another guard blocks, else said so
        event("lost detail")
        assert "no stored flow detail" in unknown
        expected = recorded_outcome(decision) if not chain.allowed else Unreplayable(unknown)
        assert replay_chain(decision) == expected
        return
    assert (chain.allowed, chain.blocked_by, chain.size_multiplier) == (
        decision.allowed,
        decision.blocked_by,
        decision.size_multiplier,
    )
    assert replay_chain(decision) == recorded_outcome(decision)


@PROPERTY
@given(st.data())
def test_the_fast_replay_is_the_slow_replay_at_every_candidate(data):
    decision = data.draw(decisions())
    for parameter in REPLAYABLE:
        values = data.draw(candidates(decision, parameter), label=parameter)
        fast = replay_fast([decision], parameter, values)[0]
        slow = [replay_chain(decision, parameter, v) for v in values]
        assert verdicts(fast) == verdicts(slow), parameter
        assert all(o.reason for o in fast if isinstance(o, Unreplayable))
        changed = {o for o in fast if o != recorded_outcome(decision)}
        event(f"{parameter}: " + ("a candidate changes the decision" if changed else "no change"))
        event(
            f"{parameter}: "
            + ("some candidate unreplayable" if any(isinstance(o, Unreplayable) for o in fast) else "all exact")
        )


@PROPERTY
@given(decisions())
def test_the_fast_replay_at_the_recorded_value_is_the_recorded_decision(decision):
    """The 0% candidate changes no decision; only a record that lost its flow detail cannot say."""
    for parameter in REPLAYABLE:
        recorded = decision.recorded_value(parameter)
        if recorded is None:
            continue
        (outcome,) = replay_fast([decision], parameter, [recorded])[0]
        lost = isinstance(outcome, Unreplayable) and "no stored flow detail" in outcome.reason
        event("exact" if not lost else "lost detail")
        assert outcome == recorded_outcome(decision) or lost, parameter


@PROPERTY
@given(
    st.lists(st.integers(1, 10**6), min_size=1, max_size=6, unique=True).flatmap(
        lambda ids: st.tuples(*(decisions(evaluation_id=i) for i in ids))
    ),
    st.sampled_from(sorted(REPLAYABLE)),
)
def test_the_table_sums_what_each_decision_makes_at_each_candidate(window, parameter):
    """The difference arrays add up to the plain per-decision, per-candidate sums."""
    window = list(window)
    active = next((d.recorded_value(parameter) for d in window if d.recorded_value(parameter) is not None), Decimal(1))
    values = sorted({active, active * Decimal("0.9"), active * Decimal("1.1")})
    table = candidate_table(window, parameter=parameter, active_value=active, candidates=values, resamples=0)
    outcomes = replay_fast(window, parameter, [row.value for row in table.candidates])
    pnls = [
        [pnl_under(d, o, reference_size(d)) if isinstance(o, Replayed) else None for o in row]
        for d, row in zip(window, outcomes, strict=True)
    ]
    compared = [p for p in pnls if None not in p]
    assert table.compared == len(compared)
    for j, row in enumerate(table.candidates):
        assert row.pnl == sum((p[j] for p in compared), Decimal(0)).quantize(Decimal("0.01"))
        assert row.unreplayable == sum(isinstance(o[j], Unreplayable) for o in outcomes)
    assert table.active.changed_decisions == 0
