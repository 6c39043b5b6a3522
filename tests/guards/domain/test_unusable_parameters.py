"""An unusable parameter (missing or malformed) fails open what needs it, in plain Python (issue 7)."""

from datetime import datetime, timezone
from decimal import Decimal

from guards.domain.chain import build_steps, run_chain
from guards.domain.hold import HeldPosition, HoldParams, min_hold
from guards.domain.params import DEFAULTS, Params, ParamValue
from guards.domain.types import Decision, Direction

from .builders import NOW, intel, reading, signal, whale_split

PROBLEM = "PARAMETER_INVALID (fear_greed_cutoff: must be a number)"


def test_a_rule_with_an_unusable_parameter_fails_open_with_it_and_the_rest_decide():
    params = Params({"fear_greed_cutoff": ParamValue("abc", 3)}, {"fear_greed_cutoff": PROBLEM})
    market = intel(
        taker_flow=reading(Decimal("0.55")), whale_flow=reading(whale_split(100)), fear_greed=reading(Decimal(90))
    )
    result = run_chain(build_steps(params), signal("LONG"), market, NOW)
    assert [(r.guard, r.decision, r.reason) for r in result.results][2] == (
        "FEAR_GREED_MULTIPLIER",
        Decision.FAIL_OPEN,
        PROBLEM,
    )
    assert {r.decision for r in result.results[:2]} == {Decision.ALLOW}
    assert result.size_multiplier == 1


def test_an_unusable_value_reads_as_its_default_and_is_stamped_as_none():
    params = Params({"fear_greed_cutoff": ParamValue("abc", 3)}, {"fear_greed_cutoff": PROBLEM})
    assert params.raw("fear_greed_cutoff") == DEFAULTS["fear_greed_cutoff"]
    assert params.stamp("fear_greed_cutoff") == {"fear_greed_cutoff": {"value": None, "version": 3, "problem": PROBLEM}}


def test_an_unusable_guard_order_runs_the_default_order():
    params = Params({"guard_order": ParamValue(["NO_SUCH"], 2)}, {"guard_order": "PARAMETER_INVALID (guard_order: x)"})
    assert [s.name for s in build_steps(params)] == DEFAULTS["guard_order"]
    assert all(s.problem is None for s in build_steps(params))


TREND = HeldPosition(
    "BTCUSDT", Direction.LONG, "TRUE_TREND", Decimal(100), Decimal(100), datetime(2026, 11, 24, tzinfo=timezone.utc)
)


def test_hold_rules_with_an_unusable_parameter_are_passed_over():
    class Near:
        price, intensity, distance_pct, side = Decimal(102), Decimal(1), Decimal(2), "SHORT"

    assert min_hold(TREND, [Near()], Decimal(110), HoldParams(liq_magnet_minutes=None)).reason == "MAX_PAIN_FAR"
    assert min_hold(TREND, None, Decimal(110), HoldParams(max_pain_far_pct=None)).reason == "TRUE_TREND"
    assert min_hold(TREND, None, None, HoldParams(true_trend_minutes=None, default_minutes=7)).minutes == 7
    assert min_hold(TREND, None, None, HoldParams(true_trend_minutes=None, default_minutes=None)).minutes == 0
