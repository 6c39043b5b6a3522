"""Taker Aggression Guard, SPEC §3.1: don't buy into sellers' dominance, nor sell into buyers'."""

from decimal import Decimal

from guards.domain import inputs
from guards.domain.types import Direction, GuardResult, Intel, Signal

NAME = "TAKER_AGGRESSION"
NEEDS = (inputs.TAKER_FLOW,)
SHOWN = Decimal("0.000001")


def evaluate(signal: Signal, intel: Intel, *, min_share: Decimal) -> GuardResult:
    """LONG blocked when buy share < min_share; SHORT blocked when buy share > 1 - min_share.

    `intel[taker_flow]` is the exact taker buy share over the window, a Decimal in 0..1.
    The boundaries themselves allow (strict comparisons).
    """
    share: Decimal = intel.get(inputs.TAKER_FLOW)
    data = {"taker_buy_share": str(share), "min_share": str(min_share)}
    if signal.direction is Direction.LONG and share < min_share:
        return GuardResult.block(NAME, f"taker buy share {_shown(share, min_share)} is below {min_share}", data)
    if signal.direction is Direction.SHORT and share > 1 - min_share:
        return GuardResult.block(NAME, f"taker buy share {_shown(share, 1 - min_share)} is above {1 - min_share}", data)
    bound = min_share if signal.direction is Direction.LONG else 1 - min_share
    return GuardResult.allow(NAME, f"taker buy share {_shown(share, bound)} does not oppose {signal.direction}", data)


def _shown(share: Decimal, bound: Decimal) -> str:
    """Six decimals for reading, unless rounding would blur the comparison with `bound`."""
    short = share.quantize(SHOWN)
    same_side = (short > bound) == (share > bound) and (short < bound) == (share < bound)
    return str(short) if same_side else str(share)
