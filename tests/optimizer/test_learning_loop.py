"""The learning loop end to end (issue 9): simulated history → effectiveness → optimizer → a
proposal with its evidence → approved in the admin by a second person → the gate decides with it."""

from datetime import datetime
from datetime import timezone as dt_timezone
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from guards.domain.types import Direction
from guards.intel import ingest
from guards.models import Evaluation, GuardEvent, ParameterVersion
from optimizer.decisions import recorded_decision
from optimizer.domain.replay import replay_chain
from optimizer.models import EffectivenessReport, OptimizerRun
from optimizer.runs import load_window
from optimizer.simulation import simulate
from tests.guards.test_parameter_approval import staff

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
WHALE = "whale_cvd_threshold_usd"
HOURS = 12
HOLD = 45


def foresight(symbol, minute, rng, price_at):
    """A bot that knows where the price is one standard hold later: every signal it sends would
    win, so each one a whale threshold blocks is a gain missed, and the threshold that blocks the
    fewest of them is truly better than the rest."""
    return Direction.LONG if price_at(symbol, minute + HOLD + 1) >= price_at(symbol, minute) else Direction.SHORT


# A fixed end makes the history the same on every run (the market is seeded by the minute): the
# test is deterministic; the jobs after it run at the real present, over windows that reach it.
UNTIL = datetime(2026, 11, 30, 12, 0, tzinfo=dt_timezone.utc)


@pytest.fixture(autouse=True)
def history_kept(settings):
    settings.RETENTION_DAYS = 36_500


def days_back() -> str:
    return str((datetime.now(dt_timezone.utc) - UNTIL).days + 2)


def changed_at(value: Decimal) -> int:
    """Decisions of the optimizer's window the real chain decides otherwise at `value` (slow path)."""
    window = load_window(now=datetime.now(dt_timezone.utc))
    changed = 0
    for decision in window.decisions:
        evaluation = Evaluation.objects.select_related("whale_flow_snapshot").get(pk=decision.evaluation_id)
        raw = evaluation.whale_flow_snapshot.raw if evaluation.whale_flow_snapshot else None
        outcome = replay_chain(recorded_decision(evaluation, snapshot_raw=raw), WHALE, value)
        changed += getattr(outcome, "allowed", evaluation.allowed) != evaluation.allowed
    return changed


def test_a_truly_better_threshold_is_proposed_approved_in_the_admin_and_then_decides(client, bot):
    simulate(hours=HOURS, seed=11, until=UNTIL, symbols=["BTCUSDT", "ETHUSDT"], rule=foresight, base_sizes=(200_000,))
    blocked_winners = Evaluation.objects.filter(blocked_by="WHALE_INTENT_FILTER", shadow_pnl__gt=0).count()
    assert blocked_winners >= 3  # the history is what the test says it is

    out = StringIO()
    call_command("run_effectiveness", "--days", days_back(), stdout=out)
    whale = EffectivenessReport.objects.get(guard="WHALE_INTENT_FILTER")
    assert whale.blocks >= blocked_winners and whale.gains_missed > 0
    assert "WHALE_INTENT_FILTER" in out.getvalue()

    out = StringIO()
    call_command("run_optimizer", "--parameter", WHALE, stdout=out)
    run = OptimizerRun.objects.get(parameter=WHALE)
    assert run.proposal is not None, run.reason
    best = Decimal(run.best_value)
    assert best != Decimal(100_000) and run.improvement > 50
    row = next(c for c in run.candidates if Decimal(c["value"]) == best)
    assert row["changed_decisions"] == changed_at(best) >= 3  # the table agrees with the real chain
    proposal = run.proposal
    assert proposal.status == ParameterVersion.Status.PROPOSED and proposal.origin == ParameterVersion.Origin.OPTIMIZER
    assert proposal.evidence["candidates"] == run.candidates
    assert f"proposed as v{proposal.version}" in out.getvalue()

    client.force_login(staff("second-person", "approver"))
    url = reverse("admin:guards_parameterversion_approve", args=[proposal.pk])
    assert client.post(url, {"reason": "optimizer evidence reviewed"}).status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == ParameterVersion.Status.ACTIVE

    ingest.fetch_intel(symbols=["BTCUSDT"], now=timezone.now())  # the present's data, as the beat keeps it
    body = {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1000, "signal_id": "after-approval"}
    answer = bot("/api/v1/signals/evaluate", body).json()
    assert answer["thresholds"][WHALE] == {"value": int(best), "version": proposal.version}
    event = GuardEvent.objects.get(evaluation__signal_id="after-approval", guard="WHALE_INTENT_FILTER")
    assert event.parameters[WHALE] == {"value": int(best), "version": proposal.version}
    assert event.decision in ("allow", "block")  # decided on fresh data at the new threshold


def test_a_history_where_no_threshold_gains_fifty_dollars_files_no_proposal():
    simulate(hours=HOURS, seed=11, until=UNTIL, symbols=["BTCUSDT", "ETHUSDT"], rule=foresight, base_sizes=(100,))

    call_command("run_optimizer", "--parameter", WHALE, stdout=StringIO())

    run = OptimizerRun.objects.get(parameter=WHALE)
    assert run.proposal is None and run.improvement <= 50
    assert not ParameterVersion.objects.filter(parameter=WHALE, status=ParameterVersion.Status.PROPOSED).exists()
