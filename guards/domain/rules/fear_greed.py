"""Fear & Greed Regime Multiplier, SPEC §3.3: cut size in extreme greed; never blocks."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from guards.domain import inputs
from guards.domain.spec import NUMBER, GuardContract, ParameterSpec
from guards.domain.types import GuardResult, Intel, Signal

if TYPE_CHECKING:
    from guards.domain.params import Params

NAME = "FEAR_GREED_MULTIPLIER"
NEEDS = (inputs.FEAR_GREED,)
CUTOFF = "fear_greed_cutoff"
MULTIPLIER = "fear_greed_multiplier"


def evaluate(signal: Signal, intel: Intel, params: Params) -> GuardResult:
    """Index strictly above the cut-off (80) multiplies size by the multiplier (0.6); 80 itself keeps it."""
    cutoff, multiplier = params.decimal(CUTOFF), params.decimal(MULTIPLIER)
    index: Decimal = intel.get(inputs.FEAR_GREED)
    data = {"fear_greed_index": str(index), "cutoff": str(cutoff), "multiplier": str(multiplier)}
    if index > cutoff:
        return GuardResult.resize(NAME, f"Fear & Greed {index} > {cutoff}: size x{multiplier}", data, multiplier)
    return GuardResult.allow(NAME, f"Fear & Greed {index} <= {cutoff}: size kept", data)


CONTRACT = GuardContract(
    name=NAME,
    log_tag="FEAR-GREED",
    needs=NEEDS,
    parameters=(
        ParameterSpec(
            CUTOFF,
            "Fear & Greed cut-off",
            80,
            NUMBER,
            "index points",
            Decimal(0),
            Decimal(100),
            places=2,
            help="Above this index value the size is cut by the multiplier.",
        ),
        ParameterSpec(
            MULTIPLIER,
            "Fear & Greed size multiplier",
            0.6,
            NUMBER,
            "× size",
            Decimal(0),
            Decimal(1),
            low_exclusive=True,  # a size of 0 is a block, and this guard never blocks
            places=4,
            help="The size is multiplied by this when the index is above the cut-off.",
        ),
    ),
    evaluate=evaluate,
    default_position=2,
)
