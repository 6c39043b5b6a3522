"""Beat schedule computed from the rate limit and the watched symbols (issue 3, SPEC §2)."""

import json

import pytest

from guards.intel.schedule import FETCH_COST, HEADROOM, budget_per_minute, install_schedule, plan_fetches


def calls_per_minute(plan, source):
    return sum(FETCH_COST[p.kind][1] * 60 / p.every_seconds for p in plan if FETCH_COST[p.kind][0] == source)


@pytest.fixture(autouse=True)
def spec_budgets(settings):
    settings.COINGLASS_MIN_INTERVAL_SECONDS = 2.5
    settings.COINGLASS_CALLS_PER_MINUTE = 30
    settings.BINANCE_WEIGHT_PER_MINUTE = 1200


@pytest.mark.parametrize("symbol_count", [1, 2, 10, 60])
def test_schedule_fits_inside_half_the_budget(settings, symbol_count):
    symbols = [f"C{i}USDT" for i in range(symbol_count)]
    plan = plan_fetches(symbols)
    for source in ("coinglass", "binance"):
        assert calls_per_minute(plan, source) <= budget_per_minute(source) * HEADROOM + 1e-9
    assert len({p.name for p in plan}) == len(plan)


def test_two_symbols_refresh_at_their_ttl_and_are_staggered(settings):
    plan = plan_fetches(["BTCUSDT", "ETHUSDT"])
    coinglass = [p for p in plan if FETCH_COST[p.kind][0] == "coinglass"]
    assert len(coinglass) == 7  # heatmap, taker, max pain per symbol + one market-wide Fear & Greed
    assert {p.every_seconds for p in coinglass if p.kind != "fear_greed"} == {300}
    offsets = sorted(p.offset_seconds for p in coinglass)
    assert min(b - a for a, b in zip(offsets, offsets[1:], strict=False)) >= 300 / 7 - 0.1


def test_many_symbols_stretch_the_cycle_instead_of_breaking_the_limit(settings):
    plan = plan_fetches([f"C{i}USDT" for i in range(60)])
    assert min(p.every_seconds for p in plan if p.kind == "liquidation_heatmap") > 300


def test_a_lower_plan_limit_stretches_the_schedule(settings):
    settings.COINGLASS_CALLS_PER_MINUTE = 2
    plan = plan_fetches(["BTCUSDT", "ETHUSDT"])
    assert calls_per_minute(plan, "coinglass") <= 1.0 + 1e-9


@pytest.mark.django_db
def test_beat_rows_exist_after_migrate_and_keep_operator_edits():
    from django_celery_beat.models import PeriodicTask

    row = PeriodicTask.objects.get(name="fetch whale_flow BTCUSDT")
    assert row.task == "guards.fetch_input"
    assert json.loads(row.kwargs) == {"kind": "whale_flow", "symbol": "BTCUSDT"}
    row.enabled = False
    row.save()
    assert install_schedule() == []
    assert PeriodicTask.objects.get(name="fetch whale_flow BTCUSDT").enabled is False


def fetch_rows():
    from django_celery_beat.models import PeriodicTask

    return {r.name: r for r in PeriodicTask.objects.filter(task="guards.fetch_input").select_related("interval")}


@pytest.mark.django_db
def test_schedule_follows_the_watched_symbols(settings):
    settings.WATCHED_SYMBOLS = ["BTCUSDT", "SOLUSDT"]
    changed = install_schedule()
    rows = fetch_rows()
    assert "fetch whale_flow SOLUSDT" in changed and rows["fetch whale_flow SOLUSDT"].enabled
    assert rows["fetch whale_flow ETHUSDT"].enabled is False  # no longer watched: stops spending budget
    assert rows["fetch whale_flow BTCUSDT"].enabled and rows["fetch fear_greed *"].enabled
    settings.WATCHED_SYMBOLS = ["BTCUSDT", "ETHUSDT"]
    install_schedule()
    assert fetch_rows()["fetch whale_flow ETHUSDT"].enabled  # watched again


@pytest.mark.django_db
def test_more_symbols_stretch_planned_rows_but_keep_an_operators_interval(settings):
    from django_celery_beat.models import IntervalSchedule

    edited = fetch_rows()["fetch taker_flow ETHUSDT"]
    edited.interval = IntervalSchedule.objects.create(every=900, period=IntervalSchedule.SECONDS)
    edited.save()
    settings.WATCHED_SYMBOLS = ["BTCUSDT", "ETHUSDT"] + [f"C{i}USDT" for i in range(58)]
    install_schedule()
    rows = fetch_rows()
    assert rows["fetch liquidation_heatmap BTCUSDT"].interval.every > 300  # followed the new plan
    assert rows["fetch taker_flow ETHUSDT"].interval.every == 900  # the operator's edit stands
    install_schedule(replace=True)
    assert fetch_rows()["fetch taker_flow ETHUSDT"].interval.every > 300


@pytest.mark.django_db
def test_install_schedule_command_reports_what_changed(settings):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("install_schedule", stdout=out)
    assert out.getvalue().strip() == "schedule already up to date"
    settings.WATCHED_SYMBOLS = ["BTCUSDT"]
    call_command("install_schedule", stdout=out)
    assert "fetch whale_flow ETHUSDT" in out.getvalue()
