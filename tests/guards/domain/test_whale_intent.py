"""SPEC §3.2 Whale Intent Filter: LONG blocked on negative whale CVD, SHORT on positive; 0 allows."""

import pytest

from guards.domain.params import Params
from guards.domain.rules import whale_intent
from guards.domain.types import Decision

from .builders import intel, signal, whale_split


@pytest.mark.parametrize(
    "direction, whale_cvd_usd, decision",
    [
        ("LONG", -250_000, Decision.BLOCK),
        ("LONG", "-0.01", Decision.BLOCK),
        ("LONG", 0, Decision.ALLOW),
        ("LONG", 250_000, Decision.ALLOW),
        ("SHORT", 250_000, Decision.BLOCK),
        ("SHORT", "0.01", Decision.BLOCK),
        ("SHORT", 0, Decision.ALLOW),
        ("SHORT", -250_000, Decision.ALLOW),
    ],
)
def test_whale_intent_table(direction, whale_cvd_usd, decision):
    result = whale_intent.evaluate(signal(direction), intel(whale_flow=whale_split(whale_cvd_usd)), Params({}))
    assert result.decision is decision
    assert result.guard == "WHALE_INTENT_FILTER"


def test_whale_intent_reports_the_values_it_used():
    result = whale_intent.evaluate(signal("LONG"), intel(whale_flow=whale_split(-250_000)), Params({}))
    assert result.data["whale_cvd_usd"] == "-250000.00"
    assert result.data["threshold_usd"] == "100000.00"
    assert "opposes LONG" in result.reason
