"""Shadow outcomes of blocked signals (SPEC §5.2): entry at the evaluation's price, exit one standard
hold later from stored 1-minute bars, at the size the chain would have given, after fees and slippage
(4 + 2 bps per side by default)."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from guards.domain import inputs
from guards.models import Evaluation, ParameterVersion, PriceBar
from optimizer import tasks
from optimizer.shadow import ShadowReport, _shadow_batch, compute_shadow_outcomes, hold_history
from tests.guards.test_evaluate_signal_api import store_whale_flow
from tests.intel import store_input as store

pytestmark = pytest.mark.django_db
URL = "/api/v1/signals/evaluate"
HOLD = timedelta(minutes=45)  # the seeded true_trend_hold_minutes
MINUTE = timedelta(minutes=1)


def bar(symbol, at, close):
    minute = at.replace(second=0, microsecond=0)
    price = Decimal(close)
    PriceBar.objects.update_or_create(
        symbol=symbol,
        open_time=minute,
        defaults={"open": price, "high": price, "low": price, "close": price, "source": "simulated"},
    )


def signal(bot, **body) -> Evaluation:
    response = bot(URL, {"symbol": "BTCUSDT", "base_size": 1000, **body})
    assert response.status_code == 200
    return Evaluation.objects.get(signal_id=body["signal_id"])


def blocked_long_resized(bot, signal_id="long-1", price=100000) -> Evaluation:
    """Blocked by Taker Aggression; Fear & Greed 85 (skipped) would have cut the size to 60%."""
    store(inputs.TAKER_FLOW, {"buy_share": "0.30", "range": "1h"})
    store_whale_flow([150_000])
    store(inputs.FEAR_GREED, {"value": 85}, symbol=inputs.MARKET_WIDE_SYMBOL)
    evaluation = signal(bot, direction="LONG", strategy="TRUE_TREND", price=price, signal_id=signal_id)
    assert evaluation.blocked_by == "TAKER_AGGRESSION"
    return evaluation


def blocked_short(bot, signal_id="short-1") -> Evaluation:
    """ETHUSDT SHORT without a price, no strategy; only Taker Aggression has data, and it blocks."""
    store(inputs.TAKER_FLOW, {"buy_share": "0.70", "range": "1h"}, symbol="ETHUSDT")
    evaluation = signal(bot, symbol="ETHUSDT", direction="SHORT", base_size=500, signal_id=signal_id)
    assert evaluation.blocked_by == "TAKER_AGGRESSION"
    return evaluation


def test_blocked_long_earns_the_rise_at_the_resized_size_less_fees_and_slippage(bot):
    evaluation = blocked_long_resized(bot)
    exit_at = evaluation.evaluated_at + HOLD
    bar("BTCUSDT", exit_at - MINUTE, 99000)  # the minute before the exit: not used
    bar("BTCUSDT", exit_at, 101000)
    bar("BTCUSDT", exit_at + MINUTE, 105000)  # the history has moved past the exit minute

    report = compute_shadow_outcomes(now=exit_at + MINUTE)

    assert report == ShadowReport(computed=1)
    evaluation.refresh_from_db()
    # 600 USD (1000 x 0.6) long from 100,000 to 101,000: exit notional 606, gross +6;
    # costs (4 + 2) bps on 600 + 606 = 0.7236; P&L 5.2764.
    assert evaluation.shadow_status == "computed"
    assert evaluation.shadow_size == Decimal("600")
    assert (evaluation.shadow_entry_price, evaluation.shadow_exit_price) == (Decimal("100000"), Decimal("101000"))
    assert evaluation.shadow_pnl == Decimal("5.27640000")
    assert evaluation.shadow_computed_at == exit_at + MINUTE


def test_blocked_short_earns_the_fall_from_the_bar_of_its_minute(bot):
    evaluation = blocked_short(bot)
    entry_at, exit_at = evaluation.evaluated_at, evaluation.evaluated_at + HOLD  # other strategies' 0 -> 45 min
    bar("ETHUSDT", entry_at - MINUTE, 1800)
    bar("ETHUSDT", entry_at, 2000)
    bar("ETHUSDT", exit_at, 1900)
    bar("ETHUSDT", exit_at + MINUTE, 1950)

    assert compute_shadow_outcomes(now=exit_at + 2 * MINUTE) == ShadowReport(computed=1)

    evaluation.refresh_from_db()
    # 500 USD short from 2,000 to 1,900: exit notional 475, gross +25; costs 6 bps on 975 = 0.585.
    assert evaluation.shadow_size == Decimal("500")
    assert evaluation.shadow_entry_price == Decimal("2000")
    assert evaluation.shadow_pnl == Decimal("24.41500000")


def test_a_short_loses_when_the_price_rises_and_costs_come_from_the_settings(bot, settings):
    settings.SHADOW_FEE_BPS, settings.SHADOW_SLIPPAGE_BPS = 5, 0
    evaluation = blocked_short(bot)
    exit_at = evaluation.evaluated_at + HOLD
    bar("ETHUSDT", evaluation.evaluated_at, 2000)
    bar("ETHUSDT", exit_at, 2100)
    bar("ETHUSDT", exit_at + MINUTE, 2100)

    compute_shadow_outcomes(now=exit_at + MINUTE)

    # exit notional 525, gross -25; costs 5 bps on 1,025 = 0.5125.
    assert Evaluation.objects.get(pk=evaluation.pk).shadow_pnl == Decimal("-25.51250000")


def test_a_resized_signal_is_shadowed_at_base_size_times_the_chains_multiplier(bot):
    evaluation = blocked_long_resized(bot, price=50000)
    exit_at = evaluation.evaluated_at + HOLD
    bar("BTCUSDT", exit_at, 50000)
    bar("BTCUSDT", exit_at + MINUTE, 50000)

    compute_shadow_outcomes(now=exit_at + MINUTE)

    evaluation.refresh_from_db()
    assert evaluation.shadow_size == evaluation.base_size * Decimal("0.6")
    assert evaluation.shadow_pnl == Decimal("-0.72000000")  # a flat price costs 6 bps twice on 600


def test_an_allowed_signal_gets_no_shadow(bot):
    evaluation = signal(bot, direction="LONG", price=100000, signal_id="allowed-1")  # no data: fails open
    assert evaluation.allowed
    exit_at = evaluation.evaluated_at + HOLD
    bar("BTCUSDT", exit_at, 101000)
    bar("BTCUSDT", exit_at + MINUTE, 101000)

    assert compute_shadow_outcomes(now=exit_at + MINUTE) == ShadowReport()
    evaluation.refresh_from_db()
    assert (evaluation.shadow_status, evaluation.shadow_pnl, evaluation.shadow_size) == ("", None, None)


def test_nothing_is_computed_before_the_standard_hold_has_passed(bot):
    evaluation = blocked_long_resized(bot)
    bar("BTCUSDT", evaluation.evaluated_at + HOLD - MINUTE, 101000)
    bar("BTCUSDT", evaluation.evaluated_at + HOLD, 101000)

    assert compute_shadow_outcomes(now=evaluation.evaluated_at + HOLD - timedelta(seconds=1)) == ShadowReport()
    assert Evaluation.objects.get(pk=evaluation.pk).shadow_status == ""


def test_the_hold_is_the_one_active_at_evaluation_not_a_later_one(bot):
    evaluation = blocked_long_resized(bot)
    ParameterVersion.objects.filter(parameter="true_trend_hold_minutes").update(status="SUPERSEDED")
    ParameterVersion.objects.create(
        parameter="true_trend_hold_minutes",
        version=2,
        value=10,
        status="ACTIVE",
        approved_at=evaluation.evaluated_at + MINUTE,
    )
    for minutes in (9, 10, 11, 12):
        bar("BTCUSDT", evaluation.evaluated_at + timedelta(minutes=minutes), 101000)

    assert compute_shadow_outcomes(now=evaluation.evaluated_at + timedelta(minutes=12)) == ShadowReport()

    later = blocked_long_resized(bot, signal_id="long-2")
    later_at = evaluation.evaluated_at + 2 * MINUTE  # under the 10-minute hold
    Evaluation.objects.filter(pk=later.pk).update(evaluated_at=later_at)
    bar("BTCUSDT", later_at + timedelta(minutes=11), 101000)
    assert compute_shadow_outcomes(now=later_at + timedelta(minutes=11)) == ShadowReport(computed=1)
    assert Evaluation.objects.get(pk=later.pk).shadow_exit_price == Decimal("101000")
    assert Evaluation.objects.get(pk=evaluation.pk).shadow_status == ""


def test_missing_price_history_is_marked_and_counted_never_invented(bot, settings):
    settings.SHADOW_PRICE_WAIT_MINUTES = 30
    waiting = blocked_long_resized(bot)
    gap = blocked_short(bot, signal_id="short-gap")
    exit_at = waiting.evaluated_at + HOLD
    bar("ETHUSDT", gap.evaluated_at, 2000)
    bar("ETHUSDT", gap.evaluated_at + HOLD + 5 * MINUTE, 1900)  # the exit minute and the one before are missing

    first = compute_shadow_outcomes(now=exit_at + 5 * MINUTE)
    # BTCUSDT has no bars yet: it may still arrive, so the signal waits; ETHUSDT's history has moved on.
    assert first == ShadowReport(no_price_history=1, pending=1)
    assert Evaluation.objects.get(pk=waiting.pk).shadow_status == ""

    later = compute_shadow_outcomes(now=exit_at + 31 * MINUTE)
    assert later == ShadowReport(no_price_history=1)
    for evaluation in (waiting, gap):
        evaluation.refresh_from_db()
        assert evaluation.shadow_status == "no_price_history"
        assert (evaluation.shadow_pnl, evaluation.shadow_size) == (None, None)


def test_running_twice_changes_nothing(bot):
    long, short = blocked_long_resized(bot), blocked_short(bot)
    for symbol, evaluation, close in (("BTCUSDT", long, 99000), ("ETHUSDT", short, 2000)):
        exit_at = evaluation.evaluated_at + HOLD
        for at in (evaluation.evaluated_at, exit_at, exit_at + MINUTE):
            bar(symbol, at, close)
    now = max(long.evaluated_at, short.evaluated_at) + HOLD + MINUTE
    assert compute_shadow_outcomes(now=now, batch_size=1) == ShadowReport(computed=2)
    fields = ["shadow_status", "shadow_size", "shadow_pnl", "shadow_computed_at"]
    before = list(Evaluation.objects.order_by("id").values(*fields))

    assert compute_shadow_outcomes(now=now + HOLD) == ShadowReport()
    assert list(Evaluation.objects.order_by("id").values(*fields)) == before
    # 600 long from 100,000 to 99,000: gross -6, costs 6 bps on 1,194. The 500 short is cut to 300 by
    # the market-wide Fear & Greed 85 stored for the long; at a flat 2,000 it pays 6 bps on 600.
    assert [row["shadow_pnl"] for row in before] == [Decimal("-6.71640000"), Decimal("-0.36000000")]


def test_the_task_runs_the_service_and_beat_runs_it_every_five_minutes(bot):
    from django_celery_beat.models import PeriodicTask

    blocked_long_resized(bot)  # its hold has not passed
    assert tasks.compute_shadow_outcomes() == {"computed": 0, "no_price_history": 0, "unsized": 0, "pending": 0}
    row = PeriodicTask.objects.get(name="compute shadow outcomes")
    assert row.task == "optimizer.compute_shadow_outcomes" and row.enabled
    assert row.interval.every == 300 and row.interval.period == "seconds"
    assert json.loads(row.kwargs) == {}


def test_a_row_another_worker_wrote_first_is_neither_overwritten_nor_counted(bot):
    evaluation = blocked_long_resized(bot)
    exit_at = evaluation.evaluated_at + HOLD
    bar("BTCUSDT", exit_at, 101000)
    bar("BTCUSDT", exit_at + MINUTE, 101000)
    read_by_this_worker = list(Evaluation.objects.filter(pk=evaluation.pk))
    assert compute_shadow_outcomes(now=exit_at + MINUTE).computed == 1  # the other worker

    report = ShadowReport()
    _shadow_batch(read_by_this_worker, history=hold_history(), now=exit_at + 2 * MINUTE, report=report)

    assert report == ShadowReport()
    assert Evaluation.objects.get(pk=evaluation.pk).shadow_computed_at == exit_at + MINUTE


def test_a_signal_whose_size_cannot_be_known_is_marked_unsized_without_pnl(bot):
    evaluation = blocked_long_resized(bot)
    Evaluation.objects.filter(pk=evaluation.pk).update(replay={})  # as recorded before migration 0008

    assert compute_shadow_outcomes(now=evaluation.evaluated_at + HOLD) == ShadowReport(unsized=1)
    evaluation.refresh_from_db()
    assert (evaluation.shadow_status, evaluation.shadow_size, evaluation.shadow_pnl) == ("unsized", None, None)
