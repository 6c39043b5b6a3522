"""Fear & Greed Regime Multiplier, SPEC §3.3: cut size in extreme greed; never blocks."""

from decimal import Decimal

from guards.domain import inputs
from guards.domain.types import GuardResult, Intel, Signal

NAME = "FEAR_GREED_MULTIPLIER"
NEEDS = (inputs.FEAR_GREED,)


def evaluate(signal: Signal, intel: Intel, *, cutoff: Decimal, multiplier: Decimal) -> GuardResult:
    """Index strictly above `cutoff` (80) multiplies size by `multiplier` (0.6); 80 itself keeps it."""
    index: Decimal = intel.get(inputs.FEAR_GREED)
    data = {"fear_greed_index": str(index), "cutoff": str(cutoff), "multiplier": str(multiplier)}
    if index > cutoff:
        return GuardResult.resize(NAME, f"Fear & Greed {index} > {cutoff}: size x{multiplier}", data, multiplier)
    return GuardResult.allow(NAME, f"Fear & Greed {index} <= {cutoff}: size kept", data)
