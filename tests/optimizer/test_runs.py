"""The 12-hour optimizer run (SPEC §5.4, issue 9 items 4-6): a window of closed trades and blocked
signals built through the API, replayed at the standard candidates, stored whole; a proposal only
when worth one, approved by someone else (or automatically), then used by the gate."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from guards.models import Evaluation, ParameterChange, ParameterVersion
from guards.parameters import approve_version
from optimizer import tasks
from optimizer.models import OptimizerRun
from optimizer.runs import load_window, run_optimizer
from tests.guards.test_evaluate_signal_api import store_whale_flow
from tests.guards.test_parameter_approval import staff

pytestmark = pytest.mark.django_db
EVALUATE = "/api/v1/signals/evaluate"
TRADES = "/api/v1/trades"
WHALE = "whale_cvd_threshold_usd"
EXPORT_KEYS = {
    "run_id",
    "ran_at",
    "parameter",
    "active_value",
    "active_version",
    "window",
    "candidates",
    "best_value",
    "improvement",
    "proposal",
    "reason",
}
CANDIDATE_KEYS = {"value", "pnl", "changed_decisions", "pnl_older_half", "pnl_newer_half", "bootstrap_win_share"}


def evaluate(bot, signal_id, whale_orders, direction="LONG"):
    store_whale_flow(whale_orders)
    body = {"symbol": "BTCUSDT", "direction": direction, "base_size": 1000, "signal_id": signal_id}
    response = bot(EVALUATE, body)
    assert response.status_code == 200
    return response.json()


def taken(bot, n, pnl):
    """A LONG allowed at every candidate (buying whale), then its closed trade."""
    signal_id = f"taken-{n}"
    assert evaluate(bot, signal_id, [150_000])["allowed"] is True
    closed = timezone.now() - timedelta(minutes=60 - n)
    trade = {
        "trade_id": f"t-{n}",
        "signal_id": signal_id,
        "symbol": "BTCUSDT",
        "direction": "LONG",
        "size": 1000,
        "entry_price": 100000,
        "exit_price": 100100,
        "opened_at": (closed - timedelta(minutes=30)).isoformat(),
        "closed_at": closed.isoformat(),
        "pnl": pnl,
    }
    assert bot(TRADES, trade).status_code == 201


def blocked(bot, n, shadow_pnl):
    """A LONG blocked at $100k by a $105k selling whale (allowed from $110k up), with its shadow outcome."""
    signal_id = f"blocked-{n}"
    assert evaluate(bot, signal_id, [-105_000])["blocked_by"] == "WHALE_INTENT_FILTER"
    Evaluation.objects.filter(signal_id=signal_id).update(
        shadow_status="computed", shadow_pnl=Decimal(shadow_pnl), shadow_size=Decimal(1000)
    )


def history(bot, *, blocked_pnl, blocked_count=4):
    for n in range(3):
        taken(bot, n, pnl="10")
    for n in range(blocked_count):
        blocked(bot, n, shadow_pnl=blocked_pnl)


def whale_run():
    return OptimizerRun.objects.get(parameter=WHALE)


def test_a_better_higher_threshold_is_proposed_approved_by_another_and_used_by_the_gate(bot):
    history(bot, blocked_pnl="30")  # at $110k: four more trades, +$120 against the active $100k

    out = StringIO()
    call_command("run_optimizer", "--parameter", WHALE, stdout=out)

    run = whale_run()
    assert run.window["trades"] == 3 and run.window["blocked_signals"] == 4
    assert run.best_value == "110000.00" and run.improvement == Decimal("120")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    assert run.proposal == proposal and run.proposal_version == 2
    assert proposal.status == ParameterVersion.Status.PROPOSED
    assert proposal.origin == ParameterVersion.Origin.OPTIMIZER and proposal.proposed_by is None
    assert proposal.value == 110000
    assert proposal.evidence["candidates"] == run.candidates and len(run.candidates) == 5
    assert proposal.reason.startswith("110000.00 would have made $120.00 more")
    assert ParameterVersion.objects.get(parameter=WHALE, status="ACTIVE").version == 1
    text = out.getvalue()
    assert "value" in text and "bootstrap win %" in text and "proposed as v2, awaiting approval" in text

    approve_version(version=proposal, approver=staff("approver", "approver"), now=timezone.now())

    body = evaluate(bot, "after", [-105_000])
    assert body["thresholds"][WHALE] == {"value": 110000, "version": 2}
    assert body["allowed"] is True  # the $105k seller is no whale at $110k


def test_no_candidate_gaining_more_than_fifty_dollars_files_no_proposal(bot):
    history(bot, blocked_pnl="10")  # at $110k: +$40 only

    [run] = run_optimizer(now=timezone.now(), parameters=[WHALE])

    assert run.proposal is None and run.proposal_version is None
    assert run.improvement == Decimal("40")
    assert "not more than $50" in run.reason
    assert OptimizerRun.objects.get(pk=run.pk).reason == run.reason
    assert not ParameterVersion.objects.filter(parameter=WHALE, version=2).exists()


def test_too_few_changed_decisions_file_no_proposal(bot, settings):
    settings.OPTIMIZER_MIN_CHANGED_DECISIONS = 5
    history(bot, blocked_pnl="30")

    [run] = run_optimizer(now=timezone.now(), parameters=[WHALE])

    assert run.proposal is None and "changes only 4 decisions (minimum 5)" in run.reason


def test_auto_approve_activates_the_proposal_recorded_as_auto(bot, settings):
    settings.AUTO_APPROVE_OPTIMIZER = True
    history(bot, blocked_pnl="30")

    [run] = run_optimizer(now=timezone.now(), parameters=[WHALE])

    version = run.proposal
    version.refresh_from_db()
    assert version.status == ParameterVersion.Status.ACTIVE and version.auto_approved is True
    assert ParameterChange.objects.filter(version=version, action=ParameterChange.Action.AUTO_APPROVED).exists()
    assert "auto-approved" in run.reason
    assert evaluate(bot, "after", [-105_000])["thresholds"][WHALE]["version"] == version.version


def test_the_active_value_changes_no_recorded_decision(bot):
    history(bot, blocked_pnl="30")

    [run] = run_optimizer(now=timezone.now(), parameters=[WHALE])

    active = next(c for c in run.candidates if Decimal(c["value"]) == Decimal(100000))
    assert active["changed_decisions"] == 0
    assert Decimal(active["pnl"]) == Decimal("30")  # the three real trades; the blocked make 0


def test_window_is_the_last_trades_and_the_blocked_signals_since_the_earliest(bot):
    blocked(bot, 99, shadow_pnl="500")  # before the window's first trade: left out
    history(bot, blocked_pnl="30")

    window = load_window(now=timezone.now(), trades=2)

    assert window.trades == 2 and window.blocked_signals == 4  # taken-0's trade is the oldest
    assert len(window.decisions) == 6


def test_every_parameter_gets_its_own_run_and_the_task_runs_them(bot):
    history(bot, blocked_pnl="10")

    ids = tasks.run_optimizer()

    assert {r.parameter for r in OptimizerRun.objects.all()} == {
        WHALE,
        "taker_min_share",
        "fear_greed_cutoff",
    }
    assert sorted(ids) == sorted(str(r.run_id) for r in OptimizerRun.objects.all())


def test_export_writes_one_json_line_per_run(bot):
    history(bot, blocked_pnl="30")
    [first] = run_optimizer(now=timezone.now(), parameters=[WHALE])
    OptimizerRun.objects.filter(pk=first.pk).update(ran_at=first.ran_at - timedelta(days=2))
    [second] = run_optimizer(now=timezone.now(), parameters=[WHALE])
    assert "already proposed as v2" in second.reason  # the same value is not filed twice

    out = StringIO()
    call_command("export_optimizer_runs", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]

    assert len(lines) == 2
    for line in lines:
        assert EXPORT_KEYS <= set(line)
        assert {"from", "to", "trades", "blocked_signals"} <= set(line["window"])
        assert all(CANDIDATE_KEYS <= set(c) for c in line["candidates"])
    assert lines[0]["proposal"] == 2 and lines[1]["proposal"] is None

    since = StringIO()
    call_command("export_optimizer_runs", "--since", (timezone.now() - timedelta(days=1)).isoformat(), stdout=since)
    assert len(since.getvalue().splitlines()) == 1


@pytest.mark.parametrize("since", ["yesterday", "2026-13-45T00:00:00"])
def test_a_bad_since_is_a_clear_error(since):
    with pytest.raises(CommandError, match="not an ISO 8601 time"):
        call_command("export_optimizer_runs", "--since", since, stdout=StringIO())


def test_the_window_loads_in_two_queries_and_counts_trades_without_their_signal(bot, django_assert_num_queries):
    history(bot, blocked_pnl="30")
    unlinked = {"trade_id": "t-x", "signal_id": "unknown", "symbol": "BTCUSDT", "direction": "LONG", "size": 1}
    closed = timezone.now().isoformat()
    bot(TRADES, unlinked | {"entry_price": 1, "exit_price": 1, "opened_at": closed, "closed_at": closed, "pnl": 0})

    with django_assert_num_queries(2):
        window = load_window(now=timezone.now())

    assert (window.trades, window.unlinked_trades, window.blocked_signals) == (4, 1, 4)


def test_a_blocked_signal_without_its_shadow_outcome_is_counted_unpriced(bot):
    history(bot, blocked_pnl="30")
    assert evaluate(bot, "pending", [-105_000])["allowed"] is False  # no shadow outcome yet

    [run] = run_optimizer(now=timezone.now(), parameters=[WHALE])

    assert run.unpriced == 1 and run.compared == 7 and run.decisions == 8


def test_runs_are_read_only_in_the_admin(client, bot):
    history(bot, blocked_pnl="30")
    [run] = run_optimizer(now=timezone.now(), parameters=[WHALE])
    client.force_login(get_user_model().objects.create_superuser("op", "op@example.com", "pw-op-1"))

    assert client.get("/admin/optimizer/optimizerrun/").status_code == 200
    page = client.get(f"/admin/optimizer/optimizerrun/{run.pk}/change/")
    assert page.status_code == 200 and "110000.00" in page.content.decode()
    assert client.get("/admin/optimizer/optimizerrun/add/").status_code == 403
