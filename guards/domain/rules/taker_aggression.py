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
    long = signal.direction is Direction.LONG
    bound = min_share if long else 1 - min_share
    shown = _shown(share, bound)
    opposed = share < bound if long else share > bound
    if opposed:
        return GuardResult.block(NAME, f"taker buy share {shown} is {'below' if long else 'above'} {bound}", data)
    return GuardResult.allow(NAME, f"taker buy share {shown} does not oppose {signal.direction}", data)


def _shown(share: Decimal, bound: Decimal) -> str:
    """Six decimals for reading, unless rounding would blur the comparison with `bound`."""
    short = share.quantize(SHOWN)
    return str(short) if (short > bound, short < bound) == (share > bound, share < bound) else str(share)
