"""Versioned parameters in the admin (SPEC §5.5): propose, approve by someone else, one active."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from guards.models import ParameterChange, ParameterVersion
from guards.parameters import ApprovalError, approve_version, propose_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]
ADMIN_URL = "/admin/guards/parameterversion/"
WHALE = "whale_cvd_threshold_usd"


def staff(username, *codenames):
    user = get_user_model().objects.create_user(username, password="pw-" + username + "-1", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="guards", codename__in=codenames))
    return user


@pytest.fixture
def proposer():
    return staff("proposer", "add_parameterversion", "view_parameterversion", "approve_parameterversion")


@pytest.fixture
def approver():
    return staff("approver", "view_parameterversion", "change_parameterversion", "approve_parameterversion")


@pytest.fixture
def viewer():
    return staff("viewer", "view_parameterversion", "change_parameterversion")


def propose_in_admin(client, user, value, parameter=WHALE):
    client.force_login(user)
    return client.post(f"{ADMIN_URL}add/", {"parameter": parameter, "value": value, "reason": "test"}, follow=True)


def act(client, user, action, *versions, reason="reviewed the evidence"):
    """The admin action in its two steps: the confirmation page, then the decision with its why."""
    client.force_login(user)
    chosen = {"action": action, "_selected_action": [v.pk for v in versions]}
    client.post(ADMIN_URL, chosen)
    return client.post(ADMIN_URL, chosen | {"confirm": "yes", "reason": reason}, follow=True)


def test_a_person_proposes_and_another_approves(client, proposer, approver, bot):
    propose_in_admin(client, proposer, "120000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    assert (proposal.status, proposal.value, proposal.proposed_by) == ("PROPOSED", 120000, proposer)
    act(client, approver, "approve", proposal)
    assert list(ParameterVersion.objects.filter(parameter=WHALE).values_list("version", "status")) == [
        (2, "ACTIVE"),
        (1, "SUPERSEDED"),
    ]
    change = ParameterChange.objects.filter(parameter=WHALE, action="APPROVED").get()
    assert (change.old_value, change.new_value, change.actor) == (100000, 120000, approver)
    body = bot("/api/v1/signals/evaluate", {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1}).json()
    assert body["thresholds"][WHALE] == {"value": 120000, "version": 2}


def test_proposer_may_not_approve_their_own_proposal(client, proposer):
    propose_in_admin(client, proposer, "90000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    response = act(client, proposer, "approve", proposal)
    assert "someone other than its proposer" in response.content.decode()
    assert ParameterVersion.objects.get(pk=proposal.pk).status == "PROPOSED"


def test_without_the_approve_permission_there_is_no_approval(client, proposer, viewer):
    propose_in_admin(client, proposer, "90000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    act(client, viewer, "approve", proposal)
    assert ParameterVersion.objects.get(pk=proposal.pk).status == "PROPOSED"
    with pytest.raises(ApprovalError, match="permission"):
        approve_version(version=proposal, approver=viewer, now=timezone.now())


@pytest.mark.parametrize(
    "parameter, value, message",
    [
        (WHALE, "-5", "above 0"),
        ("taker_window", '"2h"', "one of"),
        ("guard_order", '["NOPE"]', "distinct guards"),
        ("fear_greed_cutoff", "not json", "Enter a valid JSON"),
    ],
)
def test_invalid_values_are_refused_on_the_form(client, proposer, parameter, value, message):
    response = propose_in_admin(client, proposer, value, parameter)
    assert message in response.content.decode()
    assert not ParameterVersion.objects.filter(parameter=parameter, version=2).exists()


def test_reject_keeps_the_active_version(client, proposer, approver):
    propose_in_admin(client, proposer, "150000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    act(client, approver, "reject", proposal)
    assert ParameterVersion.objects.get(pk=proposal.pk).status == "REJECTED"
    assert ParameterVersion.objects.get(parameter=WHALE, status="ACTIVE").version == 1


def test_exactly_one_active_version_after_many_approvals(proposer, approver):
    for value in (110000, 95000, 130000):
        approve_version(
            version=propose_version(parameter=WHALE, value=value, proposer=proposer),
            approver=approver,
            now=timezone.now(),
        )
    assert ParameterVersion.objects.filter(parameter=WHALE, status="ACTIVE").count() == 1
    assert ParameterVersion.objects.get(parameter=WHALE, status="ACTIVE").value == 130000


def test_an_approved_proposal_cannot_be_approved_again(proposer, approver):
    version = propose_version(parameter=WHALE, value=110000, proposer=proposer)
    approve_version(version=version, approver=approver, now=timezone.now())
    with pytest.raises(ApprovalError, match="not proposed"):
        approve_version(version=version, approver=approver, now=timezone.now())


def test_guard_order_change_reorders_the_chain(proposer, approver, bot):
    order = ["WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER"]
    approve_version(
        version=propose_version(parameter="guard_order", value=order, proposer=proposer),
        approver=approver,
        now=timezone.now(),
    )
    body = bot("/api/v1/signals/evaluate", {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1}).json()
    assert [g["guard"] for g in body["guards"]] == order


def test_a_new_whale_threshold_resplits_the_stored_flow_exactly(proposer, approver, bot):
    from tests.guards.test_evaluate_signal_api import store_whale_flow

    store_whale_flow([120_000, -200_000])  # at $100k: whale CVD -80k, a LONG is blocked
    long = {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1}
    assert bot("/api/v1/signals/evaluate", long).json()["blocked_by"] == "WHALE_INTENT_FILTER"
    approve_version(
        version=propose_version(parameter=WHALE, value=250000, proposer=proposer), approver=approver, now=timezone.now()
    )
    body = bot("/api/v1/signals/evaluate", long).json()  # at $250k no order is a whale: CVD 0 allows
    assert body["allowed"] is True and body["thresholds"][WHALE] == {"value": 250000, "version": 2}
    assert body["guards"][1]["data"]["whale_cvd_usd"] == "0.00"


def test_threshold_below_the_stored_detail_fails_open_with_the_reason(proposer, approver, bot):
    from tests.guards.test_evaluate_signal_api import store_whale_flow

    store_whale_flow([-300_000])  # detail kept from $40k up
    approve_version(
        version=propose_version(parameter=WHALE, value=30000, proposer=proposer), approver=approver, now=timezone.now()
    )
    whale = bot("/api/v1/signals/evaluate", {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1}).json()
    assert whale["guards"][1]["decision"] == "fail_open" and "below the detail floor" in whale["guards"][1]["reason"]


def test_approval_shows_old_and_new_value_and_asks_why_before_acting(client, proposer, approver):
    propose_in_admin(client, proposer, "120000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    client.force_login(approver)
    page = client.post(ADMIN_URL, {"action": "approve", "_selected_action": [proposal.pk]})
    html = page.content.decode()
    assert page.status_code == 200 and "100000" in html and "120000" in html and 'name="reason"' in html
    assert ParameterVersion.objects.get(pk=proposal.pk).status == "PROPOSED"  # nothing decided yet
    no_reason = {"action": "approve", "_selected_action": [proposal.pk], "confirm": "yes", "reason": ""}
    assert "This field is required" in client.post(ADMIN_URL, no_reason).content.decode()
    assert ParameterVersion.objects.get(pk=proposal.pk).status == "PROPOSED"
    act(client, approver, "approve", proposal, reason="backtest over 50 trades beats v1 by $212")
    change = ParameterChange.objects.get(parameter=WHALE, action="APPROVED")
    assert change.reason == "backtest over 50 trades beats v1 by $212"


def test_rejection_records_why(client, proposer, approver):
    propose_in_admin(client, proposer, "120000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    act(client, approver, "reject", proposal, reason="too few trades behind it")
    change = ParameterChange.objects.get(parameter=WHALE, action="REJECTED")
    assert (change.actor, change.reason) == (approver, "too few trades behind it")


def test_two_versions_of_one_parameter_cannot_be_approved_together(client, proposer, approver):
    propose_in_admin(client, proposer, "120000")
    propose_in_admin(client, proposer, "90000")
    both = ParameterVersion.objects.filter(parameter=WHALE, status="PROPOSED")
    response = act(client, approver, "approve", *both)
    assert "Select one version of whale_cvd_threshold_usd to approve" in response.content.decode()
    assert ParameterVersion.objects.get(parameter=WHALE, status="ACTIVE").version == 1


def test_approver_is_warned_when_a_threshold_falls_below_the_stored_detail(client, proposer, approver):
    propose_in_admin(client, proposer, "30000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    client.force_login(approver)
    page = client.post(ADMIN_URL, {"action": "approve", "_selected_action": [proposal.pk]}).content.decode()
    assert "Below 40% of the active threshold" in page


def test_a_longer_ttl_reschedules_the_fetch_and_keeps_older_data_usable(
    client, proposer, approver, bot, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django_celery_beat.models import PeriodicTask

    from guards.domain import inputs
    from guards.ingest import store_snapshot

    store_snapshot(  # 30 minutes old: past 2 x 600 s, inside 2 x 1200 s
        symbol=inputs.MARKET_WIDE_SYMBOL,
        kind=inputs.FEAR_GREED,
        source="simulated",
        fetched_at=timezone.now() - timedelta(minutes=30),
        derived={"value": "90"},
        raw={},
    )
    ask = {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 100}
    fear_greed = bot("/api/v1/signals/evaluate", ask).json()["guards"][2]
    assert fear_greed["decision"] == "fail_open" and "STALE" in fear_greed["reason"]
    propose_in_admin(client, proposer, "1200", parameter="fear_greed_ttl_seconds")
    with django_capture_on_commit_callbacks(execute=True):  # the schedule is redone once the approval commits
        act(client, approver, "approve", ParameterVersion.objects.get(parameter="fear_greed_ttl_seconds", version=2))
    assert PeriodicTask.objects.get(name="fetch fear_greed *").interval.every == 1200
    body = bot("/api/v1/signals/evaluate", ask).json()
    assert body["guards"][2]["decision"] == "resize" and body["final_size"] == 60.0
    from guards.models import GuardEvent

    event = GuardEvent.objects.filter(guard="FEAR_GREED_MULTIPLIER").latest("id")
    assert event.parameters["fear_greed_ttl_seconds"] == {"value": 1200, "version": 2}


def test_approver_is_warned_when_the_lowest_candidate_could_not_be_replayed(client, proposer, approver):
    propose_in_admin(client, proposer, "45000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    client.force_login(approver)
    page = client.post(ADMIN_URL, {"action": "approve", "_selected_action": [proposal.pk]}).content.decode()
    assert "Below 50% of the active threshold" in page and "Below 40%" not in page
