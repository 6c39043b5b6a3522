"""Replaying recorded decisions at other values, and what they make there (SPEC §5.2, §5.4)."""

import json
from decimal import Decimal

import pytest

from guards.domain.cvd import FlowDetail
from guards.domain.types import Direction
from optimizer.domain.fast_replay import pnl_under, reference_size, replay_fast, whale_flips
from optimizer.domain.replay import (
    FEAR_GREED_CUTOFF,
    TAKER_MIN_SHARE,
    WHALE_THRESHOLD,
    RecordedDecision,
    Replayed,
    Unreplayable,
    replay_chain,
)

from .builders import NOW, SWING, detail_of, params, record, record_fields


def both_paths(decision, parameter, value):
    fast, slow = replay_fast([decision], parameter, [value])[0][0], replay_chain(decision, parameter, value)
    assert fast == slow or (isinstance(fast, Unreplayable) and isinstance(slow, Unreplayable))
    return fast


def made(decision, parameter, value):
    outcome = both_paths(decision, parameter, value)
    return pnl_under(decision, outcome, reference_size(decision))


def test_a_higher_threshold_lets_a_blocked_long_through_at_its_shadow_pnl():
    blocked = record(direction="LONG", detail=SWING, pnl=Decimal("200"))
    assert (blocked.allowed, blocked.blocked_by) == (False, "WHALE_INTENT_FILTER")
    assert both_paths(blocked, WHALE_THRESHOLD, Decimal(130000)) == Replayed(True, Decimal(1))
    assert made(blocked, WHALE_THRESHOLD, Decimal(130000)) == Decimal("200")


def test_a_taken_trade_the_candidate_blocks_makes_nothing():
    taken = record(direction="SHORT", detail=SWING, pnl=Decimal("-75.50"))
    assert taken.allowed
    assert made(taken, WHALE_THRESHOLD, Decimal(100000)) == Decimal("-75.50")  # the real P&L, to the cent
    assert made(taken, WHALE_THRESHOLD, Decimal(130000)) == 0


def test_a_blocked_signal_is_credited_at_the_size_the_chain_would_have_given():
    """Blocked by the whale filter, Fear & Greed 85 (skipped, yet recorded): its shadow was sized 0.6."""
    blocked = record(direction="LONG", detail=SWING, fear_greed=Decimal(85), pnl=Decimal("30"))
    assert reference_size(blocked) == Decimal("600.0")
    assert both_paths(blocked, WHALE_THRESHOLD, Decimal(130000)) == Replayed(True, Decimal("0.6"))
    assert made(blocked, WHALE_THRESHOLD, Decimal(130000)) == Decimal("30")


def test_a_higher_fear_greed_cutoff_scales_the_real_pnl_to_the_full_size():
    resized = record(fear_greed=Decimal(85), pnl=Decimal("60"), detail=detail_of(150_000))
    assert (resized.allowed, resized.size_multiplier) == (True, Decimal("0.6"))
    assert made(resized, FEAR_GREED_CUTOFF, Decimal(90)) == Decimal("100")
    assert made(resized, FEAR_GREED_CUTOFF, Decimal(85)) == Decimal("100")  # 85 is not above 85: full size
    assert made(resized, FEAR_GREED_CUTOFF, Decimal("84.99")) == Decimal("60")


def test_the_taker_share_boundary_allows_as_the_guard_does():
    long = record(taker_share=Decimal("0.42"), detail=detail_of(150_000))
    assert both_paths(long, TAKER_MIN_SHARE, Decimal("0.42")) == Replayed(True, Decimal(1))
    assert both_paths(long, TAKER_MIN_SHARE, Decimal("0.4201")).allowed is False


def test_a_threshold_below_the_stored_detail_floor_is_not_guessed():
    decision = record(detail=SWING)  # floor $40,000: 40% of the $100k threshold
    outcome = both_paths(decision, WHALE_THRESHOLD, Decimal("39999.99"))
    assert isinstance(outcome, Unreplayable) and "below the detail floor" in outcome.reason
    assert both_paths(decision, WHALE_THRESHOLD, Decimal(40000)) == Replayed(False, Decimal(0))


def test_a_threshold_rounds_up_to_whole_cents_as_the_gate_does():
    decision = record(direction="SHORT", detail=detail_of(150_000, floor_usd=1000))
    assert both_paths(decision, WHALE_THRESHOLD, Decimal("150000.001")) == Replayed(True, Decimal(1))
    assert both_paths(decision, WHALE_THRESHOLD, Decimal("150000.00")).allowed is False


def test_a_flow_unusable_at_the_recorded_threshold_replays_only_there():
    below = record(detail=FlowDetail(0, 20_000_000, 12_000_000, (-15_000_000,)))  # floor $120k > $100k
    assert below.problems["WHALE_INTENT_FILTER"].endswith("below the detail floor 12000000 cents)")
    assert both_paths(below, WHALE_THRESHOLD, Decimal(100000)) == Replayed(True, Decimal(1))  # failed open
    assert isinstance(both_paths(below, WHALE_THRESHOLD, Decimal(130000)), Unreplayable)  # its age was never judged


def test_an_unusable_parameter_hides_the_input_unless_another_guard_blocks():
    hidden = params({"whale_cvd_threshold_usd": "PARAMETER_INVALID (whale_cvd_threshold_usd: damaged)"})
    decision = record(detail=SWING, gate=hidden)
    assert isinstance(both_paths(decision, WHALE_THRESHOLD, Decimal(130000)), Unreplayable)
    taker_blocks = record(detail=SWING, gate=hidden, taker_share=Decimal("0.1"))
    assert both_paths(taker_blocks, WHALE_THRESHOLD, Decimal(130000)) == Replayed(False, Decimal(0))


def test_another_unusable_parameter_of_the_guard_fails_it_open_at_every_candidate():
    window = params({"whale_window_minutes": "PARAMETER_INVALID (whale_window_minutes: damaged)"})
    decision = record(detail=SWING, gate=window)
    assert both_paths(decision, WHALE_THRESHOLD, Decimal(130000)) == Replayed(True, Decimal(1))
    assert both_paths(decision, WHALE_THRESHOLD, Decimal(1)) == Replayed(True, Decimal(1))  # even below the floor


def test_the_record_read_back_from_json_replays_the_same():
    fields = record_fields(detail=SWING, fear_greed=Decimal("80.01"), pnl=Decimal(5))
    stored = {**fields, **json.loads(json.dumps({k: fields[k] for k in ("replay", "flow_detail")}))}
    assert isinstance(stored["replay"]["values"]["fear_greed"], str)
    values = [Decimal(80000), Decimal(130000)]
    again, decision = RecordedDecision.from_record(**stored), RecordedDecision.from_record(**fields)
    assert again == decision
    assert replay_fast([again], WHALE_THRESHOLD, values) == [
        [Replayed(False, Decimal(0)), Replayed(True, Decimal("0.6"))]
    ]


@pytest.mark.parametrize("replay", [{}, {"guard_order": ["NO_SUCH_GUARD"]}, {"guard_order": [], "problems": None}])
def test_a_damaged_record_is_unreplayable_at_every_candidate(replay):
    decision = RecordedDecision.from_record(
        evaluation_id=1,
        direction="LONG",
        base_size=Decimal(1),
        allowed=True,
        blocked_by=None,
        size_multiplier=Decimal(1),
        evaluated_at=NOW,
        replay=replay,
    )
    assert decision.damage
    assert all(isinstance(o, Unreplayable) for o in replay_fast([decision], WHALE_THRESHOLD, [1, 2])[0])
    assert isinstance(replay_chain(decision, WHALE_THRESHOLD, 1), Unreplayable)


def test_whale_flips_mark_where_the_verdict_toggles():
    # LONG: blocked from $120k down (CVD -$90k), not above it (the $150k buy alone, or nothing).
    assert whale_flips(SWING, Direction.LONG) == (12_000_000,)
    # SHORT: blocked from $150k down to just above $120k (CVD +$150k, then +$30k), not from $120k down.
    assert whale_flips(SWING, Direction.SHORT) == (15_000_000, 12_000_000)
    # A buy and a sell of equal size enter together: any toggles between them cancel.
    assert len(whale_flips(detail_of(100_000, -100_000), Direction.LONG)) % 2 == 0


def test_only_stored_inputs_are_replayed():
    with pytest.raises(ValueError, match="taker_window"):
        replay_chain(record(), "taker_window", "4h")
    with pytest.raises(ValueError, match="whale_window_minutes"):
        replay_fast([record()], "whale_window_minutes", [30])
