"""Taker Aggression Guard, SPEC §3.1: don't buy into sellers' dominance, nor sell into buyers'."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from guards.domain import inputs
from guards.domain.spec import CHOICE, NUMBER, GuardContract, ParameterSpec
from guards.domain.types import Direction, GuardResult, Intel, Signal

if TYPE_CHECKING:
    from guards.domain.params import Params

NAME = "TAKER_AGGRESSION"
NEEDS = (inputs.TAKER_FLOW,)
SHOWN = Decimal("0.000001")
TAKER_WINDOWS = ("5m", "15m", "30m", "1h", "4h", "12h", "24h")  # CoinGlass's ranges
MIN_SHARE = "taker_min_share"
WINDOW = "taker_window"


def evaluate(signal: Signal, intel: Intel, params: Params) -> GuardResult:
    """LONG blocked when buy share < min_share; SHORT blocked when buy share > 1 - min_share.

    `intel[taker_flow]` is the exact taker buy share over the window, a Decimal in 0..1.
    The boundaries themselves allow (strict comparisons).
    """
    min_share = params.decimal(MIN_SHARE)
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


CONTRACT = GuardContract(
    name=NAME,
    log_tag="TAKER-AGGRESSION",
    needs=NEEDS,
    parameters=(
        ParameterSpec(
            MIN_SHARE,
            "Taker minimum buy share",
            0.4,
            NUMBER,
            "",
            Decimal(0),
            Decimal("0.5"),  # above 0.5 the LONG band (< share) and the SHORT band (> 1 - share) overlap
            places=4,
            help="A LONG is blocked when the taker buy share is below this, a SHORT when it is above 1 minus this.",
        ),
        ParameterSpec(
            WINDOW,
            "Taker flow window",
            "1h",
            CHOICE,
            choices=TAKER_WINDOWS,
            help="The range over which the taker buy share is measured.",
        ),
    ),
    evaluate=evaluate,
    default_position=0,
)
