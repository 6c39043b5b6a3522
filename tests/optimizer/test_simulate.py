"""`simulate` (SPEC §8, issue 9 item 1): a paper bot on the simulated market, in simulated time
ending at the present, through the same services as the API and the beat."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max, Min
from django.utils import timezone

from guards.intel import ingest
from guards.models import (
    DataHealthEvent,
    Evaluation,
    GuardEvent,
    MarketSnapshot,
    Position,
    PriceBar,
    Trade,
    TradeCursor,
    WhaleFlowBucket,
)
from optimizer.decisions import recorded_decision
from optimizer.domain.replay import Replayed, replay_chain
from optimizer.shadow import compute_shadow_outcomes
from optimizer.simulation import simulate

pytestmark = pytest.mark.django_db
UNTIL = datetime(2026, 11, 30, 12, 0, tzinfo=dt_timezone.utc)
SYMBOLS = ["BTCUSDT", "ETHUSDT"]


def history() -> list[tuple]:
    """What the bot did, in terms that do not depend on row ids."""
    decisions = Evaluation.objects.order_by("signal_id").values_list(
        "signal_id", "direction", "base_size", "allowed", "blocked_by", "final_size", "evaluated_at", "shadow_pnl"
    )
    trades = Trade.objects.order_by("trade_id").values_list("trade_id", "size", "entry_price", "exit_price", "pnl")
    events = GuardEvent.objects.order_by("evaluation__signal_id", "position_id", "created_at", "position").values_list(
        "evaluation__signal_id", "position_id", "guard", "decision", "reason", "created_at"
    )
    return [*decisions, *trades, *events]


def forget_everything() -> None:
    for model in (GuardEvent, Trade, Position, Evaluation, MarketSnapshot, DataHealthEvent):
        model.objects.all().delete()
    for model in (WhaleFlowBucket, PriceBar, TradeCursor):
        model.objects.all().delete()


def test_the_bot_trades_through_the_services_in_simulated_time_ending_at_until():
    report = simulate(hours=2, seed=3, until=UNTIL, symbols=SYMBOLS)

    start = UNTIL - timedelta(hours=2)
    assert report.signals == Evaluation.objects.count() > 0
    assert report.blocked == Evaluation.objects.filter(allowed=False).count()
    assert report.trades == Trade.objects.count() > 0
    assert report.open_positions == Position.objects.filter(is_open=True).count()
    span = Evaluation.objects.aggregate(first=Min("evaluated_at"), last=Max("evaluated_at"))
    assert start < span["first"] and span["last"] <= UNTIL
    fetched = MarketSnapshot.objects.aggregate(first=Min("fetched_at"), last=Max("fetched_at"))
    assert fetched["first"] == start and UNTIL - timedelta(minutes=5) <= fetched["last"] <= UNTIL
    # Fetched on the beat's plan, every input fresh: no guard ever had to fail open.
    assert not GuardEvent.objects.filter(decision="fail_open").exists()
    assert not DataHealthEvent.objects.exclude(outcome="ok").exists()
    for trade in Trade.objects.select_related("evaluation"):
        assert trade.evaluation.allowed and trade.size == trade.evaluation.final_size
        assert trade.closed_at - trade.opened_at >= timedelta(minutes=45)


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_signals():
    simulate(hours=2, seed=5, until=UNTIL, symbols=SYMBOLS)
    first = history()
    forget_everything()

    simulate(hours=2, seed=5, until=UNTIL, symbols=SYMBOLS)
    assert history() == first
    forget_everything()

    simulate(hours=2, seed=6, until=UNTIL, symbols=SYMBOLS)
    assert history() != first


def test_replaying_simulated_decisions_at_the_recorded_values_gives_the_recorded_decisions():
    simulate(hours=3, seed=1, until=UNTIL, symbols=SYMBOLS)

    evaluations = Evaluation.objects.select_related("whale_flow_snapshot")
    assert evaluations.filter(allowed=False).exists() and evaluations.filter(allowed=True).exists()
    for evaluation in evaluations:
        raw = evaluation.whale_flow_snapshot.raw if evaluation.whale_flow_snapshot else None
        replayed = replay_chain(recorded_decision(evaluation, snapshot_raw=raw))
        assert replayed == Replayed(
            evaluation.allowed, evaluation.size_multiplier if evaluation.allowed else Decimal(0)
        )


def test_a_reading_stored_after_the_simulated_moment_is_not_taken_for_a_fresh_one():
    """Beside a running product: the present's fetches exist before the simulated past is written."""
    ingest.fetch_intel(symbols=["BTCUSDT"], now=UNTIL)

    simulate(hours=1, seed=2, until=UNTIL - timedelta(minutes=10), symbols=["BTCUSDT"])

    assert Evaluation.objects.exists()
    assert not GuardEvent.objects.filter(decision="fail_open").exists()
    whale = MarketSnapshot.objects.filter(kind="whale_flow", fetched_at__lt=UNTIL - timedelta(minutes=10))
    assert all(s.derived["minutes_covered"] >= 55 for s in whale)  # the window read whole each time


def test_a_beat_judging_blocked_signals_before_their_prices_are_written_is_taken_back():
    """Beside a running product the beat's shadow task (at the present) meets simulated signals
    whose exit prices the simulation has not written yet, and marks them no_price_history."""
    ingest.fetch_intel(symbols=["BTCUSDT"], now=UNTIL)  # the present's prices (its last 6 hours)
    judged = []

    def beat_runs_meanwhile(moment):
        if not judged and moment >= UNTIL - timedelta(hours=8):
            judged.append(compute_shadow_outcomes(now=UNTIL).no_price_history)

    simulate(hours=12, seed=2, until=UNTIL - timedelta(minutes=5), symbols=["BTCUSDT"], progress=beat_runs_meanwhile)

    assert judged[0] > 0  # the beat did judge some too early
    blocked = Evaluation.objects.filter(allowed=False)
    assert not blocked.filter(shadow_status="no_price_history").exists()
    assert blocked.filter(shadow_status="computed").count() >= blocked.count() - 2  # the last ones still wait


def test_the_command_prints_what_it_did_and_a_progress_bar():
    out, err = StringIO(), StringIO()
    call_command("simulate", "--hours", "1", "--seed", "4", "--symbol", "btcusdt", stdout=out, stderr=err)

    assert "signals:" in out.getvalue() and "BTCUSDT" in out.getvalue()
    assert "100%" in err.getvalue() and "simulated up to" in err.getvalue()
    last = Evaluation.objects.aggregate(last=Max("evaluated_at"))["last"]
    assert timezone.now() - last < timedelta(minutes=40)  # the history ends at the present


@pytest.mark.parametrize(
    "args, message",
    [
        (["--hours", "0"], "--hours must be between 1"),
        (["--hours", "1", "--until", "yesterday"], "--until must be an ISO date"),
        (["--hours", "1", "--until", "2026-11-30T12:00:00"], "--until must be an ISO date"),
        (["--hours", "1", "--until", "2999-01-01T00:00:00+00:00"], "cannot be in the future"),
        (["--hours", "1", "--symbol", "BTC/USDT!"], "--symbol"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate", *args, stdout=StringIO(), stderr=StringIO())
    assert not Evaluation.objects.exists()


def test_the_live_market_is_refused(settings):
    settings.MARKET_DATA = "live"
    with pytest.raises(CommandError, match="simulated market only"):
        call_command("simulate", "--hours", "1", stdout=StringIO(), stderr=StringIO())
