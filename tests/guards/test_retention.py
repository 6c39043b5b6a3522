"""History older than RETENTION_DAYS is pruned in short batches, children first (docs/operations.md):
what goes, what stays forever, the newest snapshot of each input, a dry run, bad settings."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guards import retention
from guards.domain import inputs
from guards.domain.retention import cutoff, retention_problem
from guards.models import (
    ApiToken,
    DataHealthEvent,
    Evaluation,
    GuardEvent,
    MarketSnapshot,
    ParameterChange,
    ParameterVersion,
    PriceBar,
    Trade,
    WhaleFlowBucket,
)
from guards.tasks import prune_history as prune_history_task
from optimizer.runs import load_window
from tests.guards.test_evaluate_signal_api import store_whale_flow
from tests.intel import store_input

pytestmark = pytest.mark.django_db
EVALUATE = "/api/v1/signals/evaluate"
OLD = timedelta(days=100)  # past the default 90 days


def decide(bot, signal_id, *, age=timedelta(0), whale=150_000):
    """One decision through the API (its events and whale snapshot), then aged by `age`."""
    snapshot = store_whale_flow([whale])
    body = {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1000, "signal_id": signal_id}
    assert bot(EVALUATE, body).status_code == 200
    when = timezone.now() - age
    Evaluation.objects.filter(signal_id=signal_id).update(evaluated_at=when)
    GuardEvent.objects.filter(evaluation__signal_id=signal_id).update(created_at=when)
    MarketSnapshot.objects.filter(pk=snapshot.pk).update(fetched_at=when - timedelta(seconds=30))
    return Evaluation.objects.get(signal_id=signal_id)


def trade_of(evaluation, closed_at):
    return Trade.objects.create(
        trade_id=f"t-{evaluation.signal_id}",
        signal_id=evaluation.signal_id,
        evaluation=evaluation,
        symbol="BTCUSDT",
        direction="LONG",
        size=Decimal(1000),
        entry_price=Decimal(100000),
        exit_price=Decimal(100100),
        opened_at=closed_at - timedelta(minutes=30),
        closed_at=closed_at,
        pnl=Decimal("1"),
        received_at=closed_at,
    )


def market_rows(at):
    DataHealthEvent.objects.create(
        symbol="BTCUSDT", kind=inputs.PRICE_BARS, source="simulated", outcome="ok", created_at=at
    )
    WhaleFlowBucket.objects.create(symbol="BTCUSDT", minute_start=at, source="simulated", floor_cents=4_000_000)
    PriceBar.objects.create(symbol="BTCUSDT", open_time=at, open=1, high=1, low=1, close=1, source="simulated")


def kept_forever():
    return (
        ParameterVersion.objects.count(),
        ParameterChange.objects.count(),
        Trade.objects.count(),
        ApiToken.objects.count(),
    )


def test_the_cut_off_and_the_windows_that_must_fit_in_it():
    now = timezone.now()
    assert cutoff(now, 90) == now - timedelta(days=90)
    assert retention_problem(90, 7) is None and retention_problem(7, 7) is None
    assert "RETENTION_DAYS must be" in retention_problem(0, 7)
    assert "EFFECTIVENESS_WINDOW_DAYS (30) must not exceed RETENTION_DAYS (7)" in retention_problem(7, 30)
    assert "EFFECTIVENESS_WINDOW_DAYS must be at least 1" in retention_problem(90, 0)


def test_old_history_goes_children_first_and_what_is_kept_forever_stays(bot):
    old = [decide(bot, f"old-{n}", age=OLD) for n in range(3)]
    recent = decide(bot, "recent", age=timedelta(days=1))
    old_trade = trade_of(old[0], closed_at=timezone.now() - OLD)
    market_rows(timezone.now() - OLD)
    market_rows(timezone.now() - timedelta(days=1))
    forever = kept_forever()

    report = retention.prune_history(now=timezone.now())

    assert set(Evaluation.objects.values_list("signal_id", flat=True)) == {"recent"}
    assert set(GuardEvent.objects.values_list("evaluation_id", flat=True)) == {recent.pk}
    assert report.rows[retention.EVALUATIONS] == 3
    assert report.rows[retention.GUARD_EVENTS] == 3 * recent.events.count()
    old_trade.refresh_from_db()
    assert old_trade.evaluation is None and old_trade.signal_id == "old-0"  # kept, unlinked
    assert report.rows[retention.TRADES_UNLINKED] == 1
    assert kept_forever() == forever
    for model, field in ((DataHealthEvent, "created_at"), (WhaleFlowBucket, "minute_start"), (PriceBar, "open_time")):
        assert model.objects.count() == 1
        assert getattr(model.objects.get(), field) > timezone.now() - timedelta(days=2)
    assert report.rows[retention.DATA_HEALTH] == report.rows[retention.WHALE_FLOW] == report.rows[retention.PRICE_BARS]
    assert report.rows[retention.PRICE_BARS] == 1


def test_the_newest_snapshot_of_each_input_is_kept_however_old(bot):
    stale = [store_input(inputs.FEAR_GREED, {"value": v}, age_seconds=int(OLD.total_seconds()) + v) for v in (1, 2, 3)]
    newest_whale = decide(bot, "old", age=OLD).whale_flow_snapshot  # its decision is pruned with the others

    report = retention.prune_history(now=timezone.now())

    assert list(MarketSnapshot.objects.filter(kind=inputs.FEAR_GREED)) == [stale[0]]  # the newest, 100 days old
    assert list(MarketSnapshot.objects.filter(kind=inputs.WHALE_FLOW)) == [newest_whale]
    assert report.rows[retention.SNAPSHOTS] == 2


def test_an_old_snapshot_a_kept_decision_points_to_is_kept(bot):
    used = decide(bot, "recent", age=timedelta(days=1)).whale_flow_snapshot
    MarketSnapshot.objects.filter(pk=used.pk).update(fetched_at=timezone.now() - OLD)  # fetched long before
    store_whale_flow([1])  # a newer one: `used` is no longer the newest

    retention.prune_history(now=timezone.now())

    assert MarketSnapshot.objects.filter(pk=used.pk).exists()
    assert Evaluation.objects.get(signal_id="recent").whale_flow_snapshot_id == used.pk


def test_rows_go_in_batches_each_one_delete_over_a_key_range(bot):
    for n in range(5):
        decide(bot, f"old-{n}", age=OLD)
    for n in range(5):
        market_rows(timezone.now() - OLD - timedelta(minutes=n))

    with CaptureQueriesContext(connection) as queries:
        report = retention.prune_history(now=timezone.now(), batch=2)

    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert sum('"guards_evaluation"' in d.split("WHERE")[0] for d in deletes) == 3  # 2 + 2 + 1
    assert sum('"guards_pricebar"' in d.split("WHERE")[0] for d in deletes) == 3
    assert all("BETWEEN" in d for d in deletes if '"guards_pricebar"' in d.split("WHERE")[0])
    assert not Evaluation.objects.exists() and not PriceBar.objects.exists()
    assert report.rows[retention.EVALUATIONS] == report.rows[retention.PRICE_BARS] == 5


def test_a_dry_run_deletes_nothing_and_counts_what_the_real_run_deletes(bot):
    for n in range(3):
        trade_of(decide(bot, f"old-{n}", age=OLD), closed_at=timezone.now() - OLD)
    decide(bot, "recent", age=timedelta(days=1))
    market_rows(timezone.now() - OLD)
    before = (Evaluation.objects.count(), GuardEvent.objects.count(), MarketSnapshot.objects.count())

    dry = retention.prune_history(now=timezone.now(), dry_run=True, batch=2)
    assert (Evaluation.objects.count(), GuardEvent.objects.count(), MarketSnapshot.objects.count()) == before
    assert Trade.objects.filter(evaluation__isnull=False).count() == 3

    real = retention.prune_history(now=timezone.now(), batch=2)
    assert dry.rows == real.rows
    assert real.rows[retention.EVALUATIONS] == 3 and real.rows[retention.SNAPSHOTS] == 3


def test_the_command_prints_each_table_and_beat_runs_the_task_daily(bot):
    decide(bot, "old", age=OLD)
    dry = StringIO()
    call_command("prune_history", "--dry-run", stdout=dry)
    assert "History older than 90 days" in dry.getvalue() and "would delete" in dry.getvalue()
    assert "  evaluations " in dry.getvalue() and Evaluation.objects.exists()

    out = StringIO()
    call_command("prune_history", stdout=out)
    lines = {line.split("  ")[1].strip(): line.split()[-1] for line in out.getvalue().splitlines()[1:-1]}
    assert lines["evaluations"] == "1" and lines["price bars"] == "0"
    assert not Evaluation.objects.exists()
    assert prune_history_task.apply().get()["evaluations"] == 0

    from django_celery_beat.models import PeriodicTask

    row = PeriodicTask.objects.get(name="prune history")
    assert row.task == "guards.prune_history" and row.interval.every == 24 * 3600 and row.enabled


def test_retention_setting_is_honoured(bot, settings):
    settings.RETENTION_DAYS = 7
    decide(bot, "ten-days", age=timedelta(days=10))
    decide(bot, "five-days", age=timedelta(days=5))
    retention.prune_history(now=timezone.now())
    assert set(Evaluation.objects.values_list("signal_id", flat=True)) == {"five-days"}


def test_the_optimizer_window_starts_no_earlier_than_the_retention(bot, settings):
    settings.RETENTION_DAYS = 30

    def days(n):
        return timezone.now() - timedelta(days=n)

    trade_of(decide(bot, "closed-long-ago", age=timedelta(days=40)), closed_at=days(40))
    trade_of(decide(bot, "held-long", age=timedelta(days=35)), closed_at=days(1))
    assert not decide(bot, "blocked-long-ago", age=timedelta(days=32), whale=-150_000).allowed
    assert not decide(bot, "blocked-lately", age=timedelta(days=3), whale=-150_000).allowed

    window = load_window(now=timezone.now())

    assert window.trades == 1 and window.unlinked_trades == 0
    assert window.blocked_signals == 1  # not the one blocked before the cut-off
    assert abs(window.start - days(30)) < timedelta(minutes=1)


def test_an_effectiveness_window_past_the_retention_is_refused(settings):
    settings.RETENTION_DAYS = 7
    with pytest.raises(CommandError, match=r"--days \(\d+\) must not exceed RETENTION_DAYS \(7\)"):
        call_command("run_effectiveness", "--days", "8")
