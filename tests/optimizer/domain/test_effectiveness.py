"""Guard effectiveness figures from per-guard aggregates (SPEC §5.3)."""

from decimal import Decimal

from optimizer.domain.effectiveness import GuardEffectiveness, ShadowSums

D = Decimal


def report(shadow_pnls) -> GuardEffectiveness:
    return GuardEffectiveness("WHALE_INTENT_FILTER", 100, len(shadow_pnls), 3, 2, ShadowSums.of(shadow_pnls))


def test_losses_avoided_gains_missed_and_net_value():
    row = report([D(-120), D("-30.5"), D(80), D(0), None])
    assert (row.losses_avoided, row.gains_missed, row.net_value) == (D("150.5"), D(80), D("70.5"))


def test_precision_is_the_share_of_known_outcomes_that_would_have_lost():
    row = report([D(-120), D(-30), D(80), D(0), None])  # 2 losing of 4 known; the unknown one is left out
    assert row.precision == D("0.5")


def test_precision_is_none_without_a_known_outcome():
    assert report([]).precision is None
    assert report([None, None]).precision is None
    assert report([None]).net_value == 0


def test_a_guard_that_blocked_only_winners_has_negative_net_value():
    row = report([D(10), D(15)])
    assert (row.net_value, row.precision) == (D(-25), D(0))


def test_sums_from_the_database_give_the_same_figures_as_the_list():
    from_sql = ShadowSums(losses_avoided=D("150.5"), gains_missed=D(80), blocks_with_outcome=4, losing_blocks=2)
    assert from_sql == ShadowSums.of([D(-120), D("-30.5"), D(80), D(0), None])
