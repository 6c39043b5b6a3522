"""Whale Intent Filter, SPEC §3.2: don't trade against net whale taker flow."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from guards.domain import inputs
from guards.domain.cvd import FlowSplit, cents_to_usd
from guards.domain.spec import INTEGER, NUMBER, GuardContract, ParameterSpec
from guards.domain.types import Direction, GuardResult, Intel, Signal

if TYPE_CHECKING:
    from guards.domain.params import Params

NAME = "WHALE_INTENT_FILTER"
NEEDS = (inputs.WHALE_FLOW,)
WHALE_THRESHOLD = "whale_cvd_threshold_usd"
WINDOW = "whale_window_minutes"


def evaluate(signal: Signal, intel: Intel, params: Params) -> GuardResult:
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


CONTRACT = GuardContract(
    name=NAME,
    log_tag="WHALE-INTENT",
    needs=NEEDS,
    parameters=(
        ParameterSpec(
            WHALE_THRESHOLD,
            "Whale threshold",
            100000,
            NUMBER,
            "USD",
            Decimal(1),
            Decimal(1_000_000_000),
            places=2,
            help="A taker order at or above this notional counts as a whale's.",
        ),
        ParameterSpec(
            WINDOW,
            "Whale flow window",
            60,
            INTEGER,
            "minutes",
            Decimal(1),
            Decimal(1440),
            help="How far back whale and retail CVD are summed.",
        ),
    ),
    evaluate=evaluate,
    default_position=1,
)
