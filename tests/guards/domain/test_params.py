"""SPEC §5.5 parameter values: what a proposal may set, normalised for storage."""

from decimal import Decimal

import pytest

from guards.domain.params import SPECS, below_detail_floor, below_replay_floor, validate_value


@pytest.mark.parametrize(
    "name, value, stored",
    [
        ("whale_cvd_threshold_usd", 120000, 120000),
        ("whale_cvd_threshold_usd", 150000.50, 150000.5),
        ("whale_cvd_threshold_usd", Decimal("150000.50"), 150000.5),  # the admin form's value
        ("whale_cvd_threshold_usd", 1e9, 1000000000),
        ("taker_min_share", 0.5, 0.5),  # the widest that keeps LONG and SHORT bands apart
        ("taker_min_share", 0, 0),
        ("fear_greed_multiplier", 0.01, 0.01),
        ("whale_window_minutes", 30.0, 30),
        ("fear_greed_multiplier", 1, 1),
        ("whale_window_minutes", 1440, 1440),
        ("taker_window", "4h", "4h"),
        ("guard_order", ["WHALE_INTENT_FILTER"], ["WHALE_INTENT_FILTER"]),
    ],
)
def test_accepted_values(name, value, stored):
    normalised = validate_value(name, value)
    assert normalised == stored and type(normalised) is type(stored)  # numbers stay numbers, never quoted


@pytest.mark.parametrize(
    "name, value, problem",
    [
        ("whale_cvd_threshold_usd", 0, "at least 1"),
        ("whale_cvd_threshold_usd", 100000.005, "at most 2 decimals"),  # whole cents
        ("whale_cvd_threshold_usd", True, "must be a number"),
        ("whale_cvd_threshold_usd", "120000", "must be a number"),  # a number in quotes is not a number
        ("whale_cvd_threshold_usd", 1e30, "at most 1,000,000,000"),  # was a 500 (quantize overflow)
        ("whale_cvd_threshold_usd", 10**32, "at most 1,000,000,000"),
        ("whale_cvd_threshold_usd", 1e20, "at most 1,000,000,000"),
        ("whale_cvd_threshold_usd", float("nan"), "finite"),
        ("whale_cvd_threshold_usd", None, "must be a number"),
        ("whale_cvd_threshold_usd", [1], "must be a number"),
        ("whale_cvd_threshold_usd", {"a": 1}, "must be a number"),
        ("taker_min_share", 0.1 + 0.2, "at most 4 decimals"),
        ("taker_min_share", 0.7, "at most 0.5"),  # 0.7 would block both directions between 0.3 and 0.7
        ("taker_min_share", 1, "at most 0.5"),
        ("fear_greed_multiplier", 0, "above 0"),  # a size of 0 is a block, and this guard never blocks
        ("fear_greed_multiplier", 1.5, "at most 1"),
        ("whale_window_minutes", 2.5, "whole number"),
        ("whale_window_minutes", 0, "at least 1"),
        ("taker_window", "2h", "one of"),
        ("taker_window", 4, "one of"),
        ("guard_order", "WHALE_INTENT_FILTER", "distinct"),
        ("guard_order", [["WHALE_INTENT_FILTER"]], "distinct"),
        ("guard_order", ["WHALE_INTENT_FILTER", "WHALE_INTENT_FILTER"], "distinct"),
        ("guard_order", [], "distinct"),
        ("no_such_parameter", 1, "unknown parameter"),
    ],
)
def test_refused_values_say_why(name, value, problem):
    with pytest.raises(ValueError, match=problem):
        validate_value(name, value)


@pytest.mark.parametrize(
    "new, active, below",
    [(40000, 100000, False), (39999.99, 100000, True), (10, 100000, True), (500000, 100000, False)],
)
def test_thresholds_below_the_stored_detail_floor(new, active, below):
    assert below_detail_floor(new, active) is below


@pytest.mark.parametrize(
    "new, active, below", [(50000, 100000, False), (49999.99, 100000, True), (45000, 100000, True)]
)
def test_thresholds_whose_lowest_candidate_cannot_be_replayed(new, active, below):
    assert below_replay_floor(new, active) is below


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_default_is_a_valid_value_shown_with_its_unit(name):
    spec = SPECS[name]
    assert validate_value(name, spec.default) == spec.default
    assert spec.display(spec.default) and spec.allowed()
