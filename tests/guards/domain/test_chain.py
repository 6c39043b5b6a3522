"""SPEC §3 chain: fixed order, first block ends it (later guards skipped), unusable data fails open."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from guards.domain import inputs
from guards.domain.chain import build_steps, run_chain
from guards.domain.params import Params, ParamValue
from guards.domain.types import Decision, Reading

from .builders import NOW, intel, reading, signal, whale_split

STEPS = build_steps(Params({}))


def decisions(result):
    return [(r.guard, r.decision) for r in result.results]


def lagging(value, *, fetched_s: float, data_s: float) -> Reading:
    """A whale-flow reading fetched `fetched_s` ago whose data reaches only `data_s` back."""
    return replace(reading(value, age_seconds=fetched_s), data_time=NOW - timedelta(seconds=data_s))


def test_default_order_is_taker_whale_fear_greed():
    assert [s.name for s in STEPS] == ["TAKER_AGGRESSION", "WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER"]


def test_order_comes_from_the_parameter():
    params = Params({"guard_order": ParamValue(["FEAR_GREED_MULTIPLIER", "WHALE_INTENT_FILTER"], 2)})
    assert [s.name for s in build_steps(params)] == ["FEAR_GREED_MULTIPLIER", "WHALE_INTENT_FILTER"]


def test_block_ends_chain_and_later_guards_are_skipped():
    data = intel(taker_flow=Decimal("0.5"), whale_flow=whale_split(-1), fear_greed=Decimal("90"))
    result = run_chain(STEPS, signal("LONG"), data, NOW)
    assert decisions(result) == [
        ("TAKER_AGGRESSION", Decision.ALLOW),
        ("WHALE_INTENT_FILTER", Decision.BLOCK),
        ("FEAR_GREED_MULTIPLIER", Decision.SKIPPED),
    ]
    assert (result.allowed, result.blocked_by, result.final_size(Decimal(1000))) == (False, "WHALE_INTENT_FILTER", 0)


def test_allowed_signal_is_resized_by_fear_greed():
    data = intel(taker_flow=Decimal("0.5"), whale_flow=whale_split(10), fear_greed=Decimal("80.01"))
    result = run_chain(STEPS, signal("LONG"), data, NOW)
    assert result.allowed and result.size_multiplier == Decimal("0.6")
    assert result.final_size(Decimal("1000")) == Decimal("600.0")


@pytest.mark.parametrize(
    "whale_reading, decision",
    [
        (None, Decision.FAIL_OPEN),  # missing
        (reading(whale_split(-5), age_seconds=600), Decision.BLOCK),  # exactly 2x TTL: still used
        (reading(whale_split(-5), age_seconds=600.001), Decision.FAIL_OPEN),  # just past 2x TTL
        (reading(None, problem="UNPARSEABLE (KeyError)"), Decision.FAIL_OPEN),
        (reading(None, problem="NOT_IN_PLAN"), Decision.FAIL_OPEN),
        (lagging(whale_split(-5), fetched_s=10, data_s=600), Decision.BLOCK),  # backlog, data 2x TTL old
        (lagging(whale_split(-5), fetched_s=10, data_s=601), Decision.FAIL_OPEN),  # fresh fetch, old data
        (lagging(whale_split(-5), fetched_s=601, data_s=5), Decision.FAIL_OPEN),  # data time never makes it younger
        (reading(whale_split(-5), age_seconds=-60), Decision.BLOCK),  # a minute of clock skew is tolerated
        (reading(whale_split(-5), age_seconds=-61), Decision.FAIL_OPEN),  # a damaged time never looks fresh
        (reading(whale_split(-5), age_seconds=-86400 * 365), Decision.FAIL_OPEN),
    ],
)
def test_unusable_whale_data_fails_open(whale_reading, decision):
    readings = {"taker_flow": Decimal("0.5"), "fear_greed": Decimal("50")}
    if whale_reading is not None:
        readings[inputs.WHALE_FLOW] = whale_reading
    result = run_chain(STEPS, signal("LONG"), intel(**readings), NOW)
    whale = result.results[1]
    assert whale.decision is decision
    if decision is Decision.FAIL_OPEN:
        assert result.allowed and whale.reason.startswith("whale_flow: ")
