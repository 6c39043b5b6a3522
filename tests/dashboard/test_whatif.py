"""The what-if panel (SPEC §5.4, §6): a candidate replayed with the optimizer's own window and
replay, its flips equal to what the optimizer stores; bad candidates answered 400 in the form;
filed as a person's proposal only by the proposer role."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from dashboard.whatif import what_if
from guards.models import ParameterChange, ParameterVersion
from optimizer.domain.replay import Replayed, replay_chain
from optimizer.models import OptimizerRun
from optimizer.runs import load_window, run_optimizer
from tests.guards.test_parameter_approval import staff
from tests.optimizer.test_runs import WHALE, evaluate, history, taken

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
TAKER = "taker_min_share"


@pytest.fixture
def auditor(client):
    user = staff("auditor", "auditor")
    client.force_login(user)
    return user


@pytest.fixture
def proposer(client):
    user = staff("alice", "proposer")
    client.force_login(user)
    return user


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    assert client.get("/what-if/")["Location"].startswith("/admin/login/?next=/what-if/")
    response = client.post("/what-if/propose/", {"parameter": WHALE, "value": "110000"})
    assert response.status_code == 302 and not ParameterVersion.objects.filter(version=2).exists()


def test_the_form_offers_each_replayable_parameter_with_its_active_value(client, auditor):
    text = client.get("/what-if/").content.decode()
    assert 'value="whale_cvd_threshold_usd"' in text and 'value="taker_min_share"' in text
    assert 'value="fear_greed_cutoff"' in text and "100,000 USD" in text
    assert "{#" not in text and "{%" not in text


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"parameter": WHALE, "value": "lots"}, "value", "is not a number"),
        ({"parameter": WHALE, "value": ""}, "value", "is not a number"),
        ({"parameter": WHALE, "value": "NaN"}, "value", "finite"),
        ({"parameter": WHALE, "value": "-5"}, "value", "-5 must be at least 1; the whale threshold may be at least 1"),
        ({"parameter": TAKER, "value": "1.5"}, "value", "at most"),
        ({"parameter": TAKER, "value": "0.123456"}, "value", "at most 4 decimals"),
        ({"parameter": WHALE, "value": "1e999999999"}, "value", "at most 1,000,000,000"),
        ({"parameter": WHALE, "value": "1e-999999999"}, "value", "1e-999999999"),
        ({"parameter": WHALE, "value": "sNaN"}, "value", "finite"),
        ({"parameter": WHALE, "value": "-Infinity"}, "value", "finite"),
        ({"parameter": "whale_window_minutes", "value": "30"}, "parameter", "choose one of"),
        ({"parameter": "", "value": "1"}, "parameter", "choose one of"),
    ],
)
def test_a_candidate_that_cannot_be_used_is_answered_400_in_the_form(client, auditor, query, field, words):
    fragment = client.get("/what-if/", query, headers=HTMX)
    assert fragment.status_code == 400
    text = fragment.content.decode()
    assert "<html" not in text and 'id="whatif-form"' in text
    error = re.search(r'id="whatif-error">([^<]*)<', text).group(1)
    assert error.startswith(f"{field}: ") and words in error.replace("&#x27;", "'")
    assert client.get("/what-if/", query).status_code == 400  # the whole page too


def test_an_empty_database_replays_nothing(client, auditor):
    response = client.get("/what-if/", {"parameter": WHALE, "value": "110000"}, headers=HTMX)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="flipped-count">0<' in text and "No decision of the window goes the other way" in text


def test_the_flips_are_the_optimizers_changed_decisions_and_its_pnl_difference(client, auditor, bot):
    history(bot, blocked_pnl="30")  # four signals blocked at $100k, let through at $110k: +$30 each
    [run] = run_optimizer(now=timezone.now(), parameters=[WHALE])
    row = next(c for c in run.candidates if c["value"] == "110000.00")
    active = next(c for c in run.candidates if c["value"] == "100000.00")

    result = what_if(WHALE, Decimal("110000"), now=timezone.now())

    assert len(result.flips) == row["changed_decisions"] == 4
    assert result.pnl_candidate == Decimal(row["pnl"]) and result.pnl_active == Decimal(active["pnl"])
    assert result.difference == Decimal("120") == sum(f.pnl_effect for f in result.flips)
    assert result.compared == run.compared and not result.not_replayed
    # The same flips as the real chain (the slow path) gives on the same recorded evaluations.
    flipped = {
        d.evaluation_id
        for d in load_window(now=timezone.now()).decisions
        if replay_chain(d, WHALE, 110000) != replay_chain(d, WHALE, 100000)
    }
    assert {f.decision.evaluation_id for f in result.flips} == flipped
    assert all(f.at_candidate == Replayed(True, Decimal(1)) and not f.at_active.allowed for f in result.flips)

    page = client.get("/what-if/", {"parameter": WHALE, "value": "110,000"}, headers=HTMX).content.decode()
    assert 'id="flipped-count">4<' in page and 'id="pnl-difference" class="dir-buying">+$120.00<' in page
    flips = page[page.index('id="flips-table"') : page.index("</table>", page.index('id="flips-table"'))]
    assert flips.count("blocked by WHALE_INTENT_FILTER") == 4 and flips.count("+$30.00") == 4


def test_decisions_that_cannot_be_replayed_at_the_candidate_are_counted_never_guessed(client, auditor, bot):
    history(bot, blocked_pnl="30")  # stored whale detail reaches down to $40k only

    result = what_if(WHALE, Decimal("30000"), now=timezone.now())

    assert len(result.not_replayed) == 7 and not result.flips and result.compared == 0
    assert all("below the detail floor" in n.reason for n in result.not_replayed)
    page = client.get("/what-if/", {"parameter": WHALE, "value": "30000"}, headers=HTMX).content.decode()
    assert 'id="unreplayable-count">7<' in page and "below the detail floor" in page


def test_a_proposer_files_the_candidate_as_a_proposal_with_the_evidence(client, proposer, bot):
    history(bot, blocked_pnl="30")

    response = client.post(
        "/what-if/propose/", {"parameter": WHALE, "value": "110000", "reason": "whales grew"}, headers=HTMX
    )

    assert response.status_code == 201
    version = ParameterVersion.objects.get(parameter=WHALE, version=2)
    assert version.status == ParameterVersion.Status.PROPOSED and version.value == 110000
    assert version.origin == ParameterVersion.Origin.PERSON and version.proposed_by == proposer
    assert version.reason.startswith("whales grew (What-if: 110000 would have made $120.00 more")
    assert version.evidence["source"] == "what-if" and version.evidence["flipped"] == 4
    assert version.evidence["difference"] == "120.00" and len(version.evidence["flips"]) == 4
    change = ParameterChange.objects.get(version=version)
    assert change.action == ParameterChange.Action.PROPOSED and change.actor == proposer
    assert change.old_value == 100000 and change.new_value == 110000
    text = response.content.decode()
    assert f"/admin/guards/parameterversion/{version.pk}/change/" in text and "v2" in text
    assert ParameterVersion.objects.get(parameter=WHALE, status="ACTIVE").version == 1  # awaits approval


def test_someone_without_the_proposer_role_is_refused_403(client, auditor):
    response = client.post("/what-if/propose/", {"parameter": WHALE, "value": "110000"}, headers=HTMX)
    assert response.status_code == 403
    assert "permission" in response.content.decode()
    assert not ParameterVersion.objects.filter(parameter=WHALE, version=2).exists()
    assert 'id="propose-form"' not in client.get("/what-if/", {"parameter": WHALE, "value": "110000"}).content.decode()


@pytest.mark.parametrize(("value", "words"), [("100000", "active value already"), ("0", "at least 1"), ("x", "number")])
def test_a_proposal_that_cannot_be_filed_is_answered_400(client, proposer, value, words):
    response = client.post("/what-if/propose/", {"parameter": WHALE, "value": value}, headers=HTMX)
    assert response.status_code == 400 and words in response.content.decode()
    assert not ParameterVersion.objects.filter(parameter=WHALE, version=2).exists()
    assert not OptimizerRun.objects.exists()


def test_the_taker_share_is_replayed_too(client, auditor, bot):
    history(bot, blocked_pnl="30")
    response = client.get("/what-if/", {"parameter": TAKER, "value": "0.5"}, headers=HTMX)
    assert response.status_code == 200 and 'id="whatif-result"' in response.content.decode()


def test_a_flip_whose_pnl_is_not_known_yet_is_listed_and_left_out_of_the_totals(client, auditor, bot):
    for n in range(3):
        taken(bot, n, pnl="10")
    for n in range(2):  # blocked, their shadow outcome still pending
        assert evaluate(bot, f"pending-{n}", [-105_000])["blocked_by"] == "WHALE_INTENT_FILTER"
    [run] = run_optimizer(now=timezone.now(), parameters=[WHALE])
    row = next(c for c in run.candidates if c["value"] == "110000.00")

    result = what_if(WHALE, Decimal("110000"), now=timezone.now())

    assert len(result.flips) == 2 and all(f.pnl_effect is None for f in result.flips)
    assert result.unpriced == 2 == row["unpriced"] and result.compared == 3 == run.compared
    assert result.difference == 0 and row["changed_decisions"] == 0  # the table compares priced decisions only
    page = client.get("/what-if/", {"parameter": WHALE, "value": "110000"}, headers=HTMX).content.decode()
    assert page.count("unknown P&amp;L") == 2 and "2 without a known P&amp;L" in page
