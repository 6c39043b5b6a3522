"""Guard effectiveness (SPEC §5.3) on the real database: counted by aggregation, stored per guard."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guards.models import Evaluation, GuardEvent
from optimizer.effectiveness import guard_effectiveness, run_effectiveness
from optimizer.models import EffectivenessReport, EffectivenessRun

pytestmark = pytest.mark.django_db

TAKER, WHALE, FEAR_GREED = "TAKER_AGGRESSION", "WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count()


def signal(at: datetime, decisions: dict[str, str], shadow_pnl: str | None = None) -> Evaluation:
    """One evaluated signal and its guard events, in chain order: {guard: decision}."""
    blocked_by = next((g for g, d in decisions.items() if d == "block"), "")
    evaluation = Evaluation.objects.create(
        signal_id=f"sig-{next(_ids)}",
        symbol="BTCUSDT",
        direction="LONG",
        base_size=Decimal("1000"),
        allowed=not blocked_by,
        size_multiplier=Decimal("0") if blocked_by else Decimal("1"),
        final_size=Decimal("0") if blocked_by else Decimal("1000"),
        blocked_by=blocked_by,
        response={},
        shadow_pnl=None if shadow_pnl is None else Decimal(shadow_pnl),
        evaluated_at=at,
    )
    GuardEvent.objects.bulk_create(
        GuardEvent(
            event_type="GUARD_FAIL_OPEN" if decision == "fail_open" else guard,
            guard=guard,
            decision=decision,
            symbol="BTCUSDT",
            evaluation=evaluation,
            position=position,
            created_at=at,
        )
        for position, (guard, decision) in enumerate(decisions.items())
    )
    return evaluation


def whale_blocks(at: datetime, shadow_pnl: str | None) -> Evaluation:
    return signal(at, {TAKER: "allow", WHALE: "block", FEAR_GREED: "skipped"}, shadow_pnl)


def history() -> None:
    hour = timedelta(hours=1)
    whale_blocks(NOW - 1 * hour, "-100.50")
    whale_blocks(NOW - 2 * hour, "40.25")
    whale_blocks(NOW - 3 * hour, None)  # no outcome yet
    whale_blocks(NOW - 4 * hour, "0")  # known, and not a loss
    signal(NOW - 5 * hour, {TAKER: "allow", WHALE: "allow", FEAR_GREED: "resize"})
    signal(NOW - 6 * hour, {TAKER: "fail_open", WHALE: "allow", FEAR_GREED: "allow"})
    signal(NOW - 7 * hour, {TAKER: "block", WHALE: "skipped", FEAR_GREED: "skipped"}, "-10")
    whale_blocks(NOW - timedelta(days=7, seconds=1), "-1000")  # before the window
    whale_blocks(NOW, "-2000")  # at the window's end: the next run's


def rows(run: EffectivenessRun) -> dict[str, EffectivenessReport]:
    return {r.guard: r for r in run.reports.all()}


def test_each_guard_gets_its_exact_figures_from_the_blocked_signals_shadow_pnl():
    history()
    run = run_effectiveness(now=NOW, days=7)
    got = rows(run)
    assert (run.window_start, run.window_end, run.ran_at) == (NOW - timedelta(days=7), NOW, NOW)
    whale = got[WHALE]
    assert (whale.evaluations, whale.blocks, whale.resizes, whale.fail_opens) == (6, 4, 0, 0)
    assert (whale.blocks_with_outcome, whale.blocks_without_outcome) == (3, 1)
    assert (whale.losses_avoided, whale.gains_missed, whale.net_value) == (
        Decimal("100.50"),
        Decimal("40.25"),
        Decimal("60.25"),
    )
    assert whale.precision == Decimal("0.333333")  # 1 losing of 3 with an outcome; the $0 one is no loss
    taker = got[TAKER]
    assert (taker.evaluations, taker.blocks, taker.resizes, taker.fail_opens) == (7, 1, 0, 1)
    assert (taker.losses_avoided, taker.gains_missed, taker.net_value, taker.precision) == (
        Decimal("10"),
        Decimal("0"),
        Decimal("10"),
        Decimal("1"),
    )
    fear_greed = got[FEAR_GREED]
    assert (fear_greed.evaluations, fear_greed.blocks, fear_greed.resizes, fear_greed.fail_opens) == (2, 0, 1, 0)
    assert (fear_greed.net_value, fear_greed.precision) == (Decimal("0"), None)


def test_events_outside_the_window_are_ignored():
    whale_blocks(NOW - timedelta(days=2), "-5")
    whale_blocks(NOW - timedelta(days=3, seconds=1), "-70")  # just before a 3-day window
    whale_blocks(NOW + timedelta(seconds=1), "-900")  # after the run's now
    whale = rows(run_effectiveness(now=NOW, days=3))[WHALE]
    assert (whale.blocks, whale.losses_avoided, whale.precision) == (1, Decimal("5"), Decimal("1"))


def test_a_guard_without_events_still_gets_a_row_of_zeros():
    whale_blocks(NOW - timedelta(hours=1), "12")
    got = rows(run_effectiveness(now=NOW))
    assert list(got) == [TAKER, WHALE, FEAR_GREED]  # every guard, in the chain's default order
    assert got[WHALE].gains_missed == Decimal("12") and got[WHALE].net_value == Decimal("-12")
    EffectivenessRun.objects.all().delete()
    for report in rows(run_effectiveness(now=NOW + timedelta(days=30))).values():
        assert (report.evaluations, report.blocks, report.resizes, report.fail_opens) == (0, 0, 0, 0)
        assert (report.blocks_with_outcome, report.blocks_without_outcome, report.net_value) == (0, 0, Decimal(0))
        assert report.precision is None


def test_the_window_defaults_to_the_setting(settings):
    settings.EFFECTIVENESS_WINDOW_DAYS = 2
    whale_blocks(NOW - timedelta(days=1), "-1")
    whale_blocks(NOW - timedelta(days=3), "-1")
    run = run_effectiveness(now=NOW)
    assert run.window_start == NOW - timedelta(days=2) and rows(run)[WHALE].blocks == 1


def queries_for_one_run() -> int:
    with CaptureQueriesContext(connection) as ctx:
        run_effectiveness(now=NOW)
    return len(ctx.captured_queries)


def test_a_run_costs_the_same_few_queries_whatever_the_number_of_events():
    whale_blocks(NOW - timedelta(hours=1), "-1")
    few = queries_for_one_run()
    for hours in range(2, 60):
        whale_blocks(NOW - timedelta(hours=hours), str(hours - 30))
        signal(NOW - timedelta(minutes=hours), {TAKER: "fail_open", WHALE: "allow", FEAR_GREED: "resize"})
    assert queries_for_one_run() == few
    assert few <= 5  # the aggregate, the run, the report rows, and the transaction's savepoint pair


def test_the_aggregate_is_one_query():
    history()
    with CaptureQueriesContext(connection) as ctx:
        guard_effectiveness(window_start=NOW - timedelta(days=7), window_end=NOW)
    assert len(ctx.captured_queries) == 1


def test_command_prints_the_table_a_trader_reads():
    now = timezone.now()
    whale_blocks(now - timedelta(hours=1), "-1234.5")
    whale_blocks(now - timedelta(hours=2), "200")
    whale_blocks(now - timedelta(hours=3), None)
    out = StringIO()
    call_command("run_effectiveness", "--days", "3", stdout=out)
    text = out.getvalue()
    assert "(3 days)" in text and "SPEC" not in text
    header = next(line for line in text.splitlines() if line.startswith("Guard") and "Checked" in line)
    whale = next(line for line in text.splitlines() if line.startswith(WHALE))
    assert whale.split() == [WHALE, "3", "3", "0", "0", "1", "$1,234.50", "$200.00", "$1,034.50", "50.0%"]
    assert len(header) == len(whale)  # aligned columns
    taker = next(line for line in text.splitlines() if line.startswith(TAKER))
    assert taker.split()[-1] == "n/a"
    assert EffectivenessReport.objects.count() == 3


def test_command_help_speaks_the_traders_words():
    from optimizer.management.commands.run_effectiveness import Command

    assert "SPEC" not in Command().create_parser("manage.py", "run_effectiveness").format_help()


def test_the_task_stores_a_run_and_beat_runs_it_every_4_hours():
    from django_celery_beat.models import PeriodicTask

    from optimizer.tasks import run_effectiveness as run_effectiveness_task
    from tradingbot.celery import app

    run_id = run_effectiveness_task(days=1)
    assert EffectivenessRun.objects.get(pk=run_id).reports.count() == 3
    row = PeriodicTask.objects.select_related("interval").get(task="optimizer.run_effectiveness")
    assert row.enabled and row.interval.every == 4 * 3600 and row.interval.period == "seconds"
    assert json.loads(row.kwargs) == {}
    assert "optimizer.run_effectiveness" in app.tasks


def test_runs_are_read_only_in_the_admin(client):
    from django.contrib.auth import get_user_model

    whale_blocks(NOW - timedelta(hours=1), "-3")
    run = run_effectiveness(now=NOW)
    client.force_login(get_user_model().objects.create_superuser("op", "op@example.com", "pw-op-1"))
    for url in (
        "/admin/optimizer/effectivenessrun/",
        f"/admin/optimizer/effectivenessrun/{run.pk}/change/",
        "/admin/optimizer/effectivenessreport/",
    ):
        page = client.get(url)
        assert page.status_code == 200 and "SPEC" not in page.content.decode(), url
    assert WHALE in client.get(f"/admin/optimizer/effectivenessrun/{run.pk}/change/").content.decode()
    assert client.get("/admin/optimizer/effectivenessrun/add/").status_code == 403
