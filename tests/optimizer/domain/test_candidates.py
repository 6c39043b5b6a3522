"""The candidate table and the proposal decision (SPEC §5.4, issue 9 items 4-5)."""

from datetime import timedelta
from decimal import Decimal
from random import Random

from optimizer.domain.candidates import candidate_table, should_propose, spread_candidates, standard_candidates
from optimizer.domain.replay import FEAR_GREED_CUTOFF, TAKER_MIN_SHARE, WHALE_THRESHOLD

from .builders import NOW, SWING, detail_of, record

D = Decimal


def test_the_standard_five_are_the_active_value_plus_and_minus_ten_and_twenty_percent():
    assert standard_candidates(WHALE_THRESHOLD, 100000) == [D(80000), D(90000), D(100000), D(110000), D(120000)]
    assert standard_candidates(WHALE_THRESHOLD, "12345.67")[0] == D("9876.54")  # whole cents
    assert standard_candidates(FEAR_GREED_CUTOFF, 90) == [D(72), D(81), D(90), D(99)]  # 108 is out of range
    assert standard_candidates(TAKER_MIN_SHARE, "0.45") == [D("0.36"), D("0.405"), D("0.45"), D("0.495")]


def test_the_what_if_spread_has_one_percent_steps():
    values = spread_candidates(WHALE_THRESHOLD, 100000, count=41)
    assert len(values) == 41 and values[0] == D(80000) and values[20] == D(100000) and values[-1] == D(120000)
    assert values[1] - values[0] == D(1000)


def window(*rows):
    """(direction, pnl) rows an hour apart, whale flow swinging: at $100k LONGs are blocked, above
    $120k SHORTs are."""
    return [
        record(direction=d, detail=SWING, pnl=D(p), evaluation_id=i, evaluated_at=NOW + timedelta(hours=i))
        for i, (d, p) in enumerate(rows)
    ]


def test_the_table_for_a_clear_winner():
    # At $130k (+30%): the LONGs are taken (+40 +30 -10 = +60), the SHORT blocked (0): +60 against -25.
    decisions = window(("LONG", 40), ("LONG", 30), ("SHORT", -25), ("LONG", -10))
    values = [D(100000), D(130000)]
    table = candidate_table(decisions, parameter=WHALE_THRESHOLD, active_value=100000, candidates=values, rng=Random(1))
    active, best = table.candidates
    assert (active.pnl, best.pnl, table.improvement) == (D(-25), D(60), D(85))
    assert (best.pnl_older_half, best.pnl_newer_half) == (D(70), D(-10))  # older: the first two LONGs
    assert (active.pnl_older_half, active.pnl_newer_half) == (D(0), D(-25))
    assert (active.changed_decisions, best.changed_decisions) == (0, 4)
    assert active.bootstrap_win_share == 0 and D("0.8") < best.bootstrap_win_share <= 1
    assert should_propose(table, min_changed_decisions=4).propose
    refused = should_propose(table, min_changed_decisions=5)
    assert not refused.propose and "changes only 4 decisions (minimum 5)" in refused.reason


def test_no_proposal_without_more_than_fifty_dollars():
    decisions = window(("LONG", 50), ("LONG", 0))
    table = candidate_table(decisions, parameter=WHALE_THRESHOLD, active_value=100000, candidates=[D(130000)])
    assert table.improvement == D(50)
    verdict = should_propose(table, min_changed_decisions=1)
    assert not verdict.propose and "not more than $50" in verdict.reason


def test_when_the_active_value_is_best_nothing_is_proposed():
    decisions = window(("LONG", -50), ("SHORT", 20))
    table = candidate_table(decisions, parameter=WHALE_THRESHOLD, active_value=100000)
    assert table.best is table.active
    assert "is the best" in should_propose(table, min_changed_decisions=0).reason


def test_the_bootstrap_is_deterministic_for_a_seed():
    decisions = window(("LONG", 40), ("LONG", -30), ("LONG", 25), ("SHORT", 5))
    shares = [
        [
            row.bootstrap_win_share
            for row in candidate_table(
                decisions, parameter=WHALE_THRESHOLD, active_value=100000, candidates=[D(130000)], rng=Random(seed)
            ).candidates
        ]
        for seed in (3, 3, 4)
    ]
    assert shares[0] == shares[1] and shares[0][0] == 0
    assert 0 < shares[0][1] < 1


def test_decisions_some_candidate_cannot_replay_are_left_out_of_every_candidate_and_counted():
    decisions = window(("LONG", 40), ("SHORT", -25))
    unknown_shadow = record(direction="LONG", detail=SWING, pnl=None, evaluation_id=9)  # blocked, no shadow
    table = candidate_table(
        [*decisions, unknown_shadow],
        parameter=WHALE_THRESHOLD,
        active_value=100000,
        candidates=[D("39999.99"), D(130000)],
    )
    below, active, above = table.candidates
    assert (table.decisions, table.compared) == (3, 0)  # every decision is below the floor at $39,999.99
    assert (below.unreplayable, active.unreplayable, above.unreplayable) == (3, 0, 0)
    assert (below.unpriced, active.unpriced, above.unpriced) == (0, 0, 1)  # $130k takes the unknown shadow
    assert below.pnl == active.pnl == above.pnl == 0


def test_a_fear_greed_cutoff_run_changes_sizes_not_decisions():
    resized = [
        record(fear_greed=D(85), pnl=D(60), detail=detail_of(150_000), evaluation_id=1),
        record(fear_greed=D(95), pnl=D(-120), detail=detail_of(150_000), evaluation_id=2),
    ]
    table = candidate_table(resized, parameter=FEAR_GREED_CUTOFF, active_value=80, candidates=[D(90)])
    active, higher = table.candidates
    assert (active.pnl, higher.pnl) == (D(-60), D(-20))  # at 90 the first trade is full size: 100
    assert higher.changed_decisions == 1
