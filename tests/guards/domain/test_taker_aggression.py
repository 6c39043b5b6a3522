"""SPEC §3.1 Taker Aggression Guard: LONG blocked below the minimum buy share, SHORT above 1 - it."""

from decimal import Decimal

import pytest

from guards.domain.params import Params, ParamValue
from guards.domain.rules import taker_aggression
from guards.domain.types import Decision

from .builders import intel, signal

PARAMS = Params({"taker_min_share": ParamValue(0.4, 1)})


@pytest.mark.parametrize(
    "direction, share, decision",
    [
        ("LONG", "0.39", Decision.BLOCK),
        ("LONG", "0.39999996", Decision.BLOCK),  # rounds to 0.400000 but is below
        ("LONG", "0.40", Decision.ALLOW),  # the boundary allows
        ("LONG", "0.90", Decision.ALLOW),
        ("SHORT", "0.61", Decision.BLOCK),
        ("SHORT", "0.60000004", Decision.BLOCK),
        ("SHORT", "0.60", Decision.ALLOW),
        ("SHORT", "0.10", Decision.ALLOW),
    ],
)
def test_taker_aggression_table(direction, share, decision):
    result = taker_aggression.evaluate(signal(direction), intel(taker_flow=Decimal(share)), PARAMS)
    assert result.decision is decision
    assert result.data["taker_buy_share"] == share


@pytest.mark.parametrize(
    "share, shown",
    [
        ("0.5096928302963855606468139163", "0.509693"),  # six decimals for reading
        ("0.39999996", "0.39999996"),  # exact when six decimals would read as the boundary
    ],
)
def test_reason_shows_a_readable_share_that_never_contradicts_the_decision(share, shown):
    result = taker_aggression.evaluate(signal("LONG"), intel(taker_flow=Decimal(share)), PARAMS)
    assert f"taker buy share {shown} " in result.reason
