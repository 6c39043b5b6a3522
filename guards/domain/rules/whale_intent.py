"""Whale Intent Filter, SPEC §3.2: don't trade against net whale taker flow."""

from guards.domain import inputs
from guards.domain.cvd import FlowSplit, cents_to_usd
from guards.domain.types import Direction, GuardResult, Intel, Signal

NAME = "WHALE_INTENT_FILTER"
NEEDS = (inputs.WHALE_FLOW,)


def evaluate(signal: Signal, intel: Intel) -> GuardResult:
    """Block a LONG on negative whale CVD and a SHORT on positive; exactly 0 never blocks.

    The split comes from the selector already cut at the active whale threshold.
    """
    flow: FlowSplit = intel.get(inputs.WHALE_FLOW)
    data = flow.as_usd()
    cvd = flow.whale_cvd_cents
    opposed = cvd < 0 if signal.direction is Direction.LONG else cvd > 0
    if opposed:
        return GuardResult.block(NAME, f"whale CVD {cents_to_usd(cvd):+,} USD opposes {signal.direction}", data)
    return GuardResult.allow(NAME, f"whale CVD {cents_to_usd(cvd):+,} USD does not oppose {signal.direction}", data)
