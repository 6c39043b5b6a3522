"""Versioned parameters in the admin (SPEC §5.5): propose, approve by someone else, one active."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from guards.models import ParameterChange, ParameterVersion
from guards.parameters import ApprovalError, approve_version, propose_version

pytestmark = pytest.mark.django_db
ADMIN_URL = "/admin/guards/parameterversion/"
WHALE = "whale_cvd_threshold_usd"


def staff(username, *roles):
    """A staff user holding the roles the migration ships as groups (proposer, approver, auditor)."""
    user = get_user_model().objects.create_user(username, password="pw-" + username + "-1", is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=roles))
    assert user.groups.count() == len(roles)
    return user


@pytest.fixture
def proposer():
    return staff("proposer", "proposer", "approver")  # holds both roles: four eyes must still hold


@pytest.fixture
def approver():
    return staff("approver", "approver")


@pytest.fixture
def viewer():
    return staff("viewer", "auditor")


def propose_in_admin(client, user, value, parameter=WHALE, reason="test"):
    client.force_login(user)
    return client.post(f"{ADMIN_URL}add/?parameter={parameter}", {"value": value, "reason": reason}, follow=True)


def act(client, user, action, version, reason="reviewed the evidence"):
    """A row's button in its two steps: the confirmation page, then the decision with its why."""
    client.force_login(user)
    url = f"{ADMIN_URL}{version.pk}/{action.replace('_', '-')}/"
    client.get(url)
    return client.post(url, {"reason": reason}, follow=True)


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
        (WHALE, "-5", "Whale threshold must be at least 1."),
        (WHALE, "1e30", "Whale threshold must be at most 1,000,000,000."),
        (WHALE, "1" * 32, "Whale threshold must be at most 1,000,000,000."),
        (WHALE, "100000.005", "must have at most 2 decimals"),
        (WHALE, "NaN", "Enter a number."),
        ("taker_window", "2h", "Select a valid choice"),
        ("guard_order", "NOPE", "must be a list of distinct guards"),
        ("fear_greed_cutoff", "not a number", "Enter a number."),
        ("whale_window_minutes", "2.5", "must be a whole number"),
    ],
)
def test_invalid_values_are_refused_on_the_form(client, proposer, parameter, value, message):
    response = propose_in_admin(client, proposer, value, parameter)
    assert response.status_code == 200 and message in response.content.decode()
    assert not ParameterVersion.objects.filter(parameter=parameter, version=2).exists()


def test_a_proposal_needs_a_reason(client, proposer):
    response = propose_in_admin(client, proposer, "120000", reason="")
    assert "This field is required" in response.content.decode()
    assert not ParameterVersion.objects.filter(parameter=WHALE, version=2).exists()


@pytest.mark.parametrize(
    "parameter, typed, stored",
    [
        (WHALE, "120000", 120000),
        (WHALE, "150000.50", 150000.5),
        ("taker_min_share", "0.35", 0.35),
        ("fear_greed_multiplier", "0.5", 0.5),
        ("whale_window_minutes", "30", 30),
        ("taker_window", "4h", "4h"),
        ("guard_order", "WHALE_INTENT_FILTER, TAKER_AGGRESSION", ["WHALE_INTENT_FILTER", "TAKER_AGGRESSION"]),
    ],
)
def test_values_are_stored_as_numbers_or_lists_never_quoted(client, proposer, parameter, typed, stored):
    propose_in_admin(client, proposer, typed, parameter)
    value = ParameterVersion.objects.get(parameter=parameter, version=2).value
    assert value == stored and type(value) is type(stored)
    change = ParameterChange.objects.get(parameter=parameter, action="PROPOSED")
    assert change.new_value == stored and type(change.new_value) is type(stored)


def test_the_form_shows_unit_range_and_active_value(client, proposer):
    client.force_login(proposer)
    html = client.get(f"{ADMIN_URL}add/?parameter={WHALE}").content.decode()
    assert "New value (USD)" in html
    assert "at least 1 and at most 1,000,000,000 USD" in html
    assert "Active now: 100,000 USD (v1)" in html
    picker = client.get(f"{ADMIN_URL}add/").content.decode()
    assert "Whale threshold" in picker and f"?parameter={WHALE}" in picker and "100,000 USD" in picker


def test_no_page_says_spec(client, proposer):
    client.force_login(proposer)
    for url in (ADMIN_URL, f"{ADMIN_URL}add/", f"{ADMIN_URL}add/?parameter={WHALE}", "/admin/guards/parameterchange/"):
        html = client.get(url).content.decode()
        assert "SPEC" not in html.replace("SPECS", ""), url


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
    url = f"{ADMIN_URL}{proposal.pk}/approve/"
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "100,000 USD" in html and "120,000 USD" in html and 'name="reason"' in html
    assert ParameterVersion.objects.get(pk=proposal.pk).status == "PROPOSED"  # nothing decided yet
    assert "This field is required" in client.post(url, {"reason": ""}).content.decode()
    assert ParameterVersion.objects.get(pk=proposal.pk).status == "PROPOSED"
    done = act(client, approver, "approve", proposal, reason="backtest over 50 trades beats v1 by $212")
    assert "Approved: whale_cvd_threshold_usd is now 120,000 USD (v2); v1 (100,000 USD) is superseded." in (
        done.content.decode()
    )
    change = ParameterChange.objects.get(parameter=WHALE, action="APPROVED")
    assert change.reason == "backtest over 50 trades beats v1 by $212"


def test_rejection_records_why(client, proposer, approver):
    propose_in_admin(client, proposer, "120000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    act(client, approver, "reject", proposal, reason="too few trades behind it")
    change = ParameterChange.objects.get(parameter=WHALE, action="REJECTED")
    assert (change.actor, change.reason) == (approver, "too few trades behind it")


def test_approver_is_warned_when_a_threshold_falls_below_the_stored_detail(client, proposer, approver):
    propose_in_admin(client, proposer, "30000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    client.force_login(approver)
    page = client.get(f"{ADMIN_URL}{proposal.pk}/approve/").content.decode()
    assert "Below 40% of the active threshold" in page


def test_a_longer_ttl_reschedules_the_fetch_and_keeps_older_data_usable(
    client, proposer, approver, bot, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django_celery_beat.models import PeriodicTask

    from guards.domain import inputs
    from guards.intel.snapshots import store_snapshot

    store_snapshot(  # 30 minutes old: past 2 x 600 s, inside 2 x 1200 s
        symbol=inputs.MARKET_WIDE_SYMBOL,
        kind=inputs.FEAR_GREED,
        ttl_seconds=inputs.TTL_SECONDS[inputs.FEAR_GREED],
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
    page = client.get(f"{ADMIN_URL}{proposal.pk}/approve/").content.decode()
    assert "Below 50% of the active threshold" in page and "Below 40%" not in page


def test_a_rollback_is_one_action_then_the_normal_approval(client, proposer, approver):
    propose_in_admin(client, proposer, "120000")
    act(client, approver, "approve", ParameterVersion.objects.get(parameter=WHALE, version=2))
    first = ParameterVersion.objects.get(parameter=WHALE, version=1)
    assert first.status == "SUPERSEDED"
    page = act(client, proposer, "propose_again", first, reason="v2 blocked too many winners").content.decode()
    again = ParameterVersion.objects.get(parameter=WHALE, version=3)
    assert (again.status, again.value, again.proposed_by) == ("PROPOSED", 100000, proposer)
    assert "Proposed whale_cvd_threshold_usd v3 = 100,000 USD (active now: 120,000 USD)" in page
    act(client, approver, "approve", again)
    assert ParameterVersion.objects.get(parameter=WHALE, status="ACTIVE").version == 3
    proposed = ParameterChange.objects.get(parameter=WHALE, version=again, action="PROPOSED")
    assert (proposed.old_value, proposed.new_value, proposed.reason) == (120000, 100000, "v2 blocked too many winners")


def test_only_an_earlier_value_can_be_proposed_again(client, proposer):
    active = ParameterVersion.objects.get(parameter=WHALE, status="ACTIVE")
    page = act(client, proposer, "propose_again", active).content.decode()
    assert "only an earlier value can be proposed again" in page
    assert ParameterVersion.objects.filter(parameter=WHALE).count() == 1


def test_refused_attempts_are_recorded_with_why(client, proposer, viewer):
    propose_in_admin(client, proposer, "90000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    act(client, proposer, "approve", proposal)
    act(client, viewer, "reject", proposal)
    refused = {
        (c.action, c.actor.username, c.reason, c.old_value, c.new_value)
        for c in ParameterChange.objects.filter(version=proposal).exclude(action="PROPOSED")
    }
    assert refused == {
        (
            "APPROVAL_REFUSED",
            "proposer",
            "a proposal must be approved or rejected by someone other than its proposer",
            100000,
            90000,
        ),
        (
            "REJECTION_REFUSED",
            "viewer",
            "you lack the permission to approve or reject parameter versions",
            100000,
            90000,
        ),
    }
    assert ParameterVersion.objects.get(pk=proposal.pk).status == "PROPOSED"


def test_proposals_and_rejections_record_the_old_value(client, proposer, approver):
    propose_in_admin(client, proposer, "150000")
    act(client, approver, "reject", ParameterVersion.objects.get(parameter=WHALE, version=2))
    rows = {
        c.action: (c.old_value, c.new_value, c.version.version)
        for c in ParameterChange.objects.filter(parameter=WHALE).exclude(action="SEEDED")
    }
    assert rows == {"PROPOSED": (100000, 150000, 2), "REJECTED": (100000, 150000, 2)}


def test_buttons_appear_only_where_they_can_succeed(client, proposer, approver, viewer):
    propose_in_admin(client, proposer, "90000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    approve_link = f"{ADMIN_URL}{proposal.pk}/approve/"
    listing = {}
    for user in (proposer, approver, viewer):
        client.force_login(user)
        listing[user.username] = client.get(f"{ADMIN_URL}?parameter={WHALE}").content.decode()
    assert approve_link in listing["approver"]
    assert approve_link not in listing["proposer"]  # their own proposal
    assert approve_link not in listing["viewer"]  # no approver role
    active = ParameterVersion.objects.get(parameter=WHALE, status="ACTIVE")
    assert f"{ADMIN_URL}{active.pk}/approve/" not in listing["approver"]  # already active


def test_the_audit_row_says_what_happened_and_when(client, proposer, approver):
    propose_in_admin(client, proposer, "120000")
    act(client, approver, "approve", ParameterVersion.objects.get(parameter=WHALE, version=2))
    change = ParameterChange.objects.get(parameter=WHALE, action="APPROVED")
    client.force_login(approver)  # approvers read the audit trail
    html = client.get(f"/admin/guards/parameterchange/{change.pk}/change/").content.decode()
    assert f"{change.created_at:%Y-%m-%d %H:%M:%S} UTC: whale_cvd_threshold_usd v2 approved by approver" in html
    assert "ParameterChange object" not in html and "120,000 USD" in html and "100,000 USD" in html


def test_a_proposals_page_offers_the_same_decisions_as_its_row(client, proposer, approver):
    propose_in_admin(client, proposer, "90000")
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    client.force_login(approver)
    page = client.get(f"{ADMIN_URL}{proposal.pk}/change/").content.decode()
    assert f"{ADMIN_URL}{proposal.pk}/approve/" in page and f"{ADMIN_URL}{proposal.pk}/reject/" in page
    client.force_login(proposer)
    own = client.get(f"{ADMIN_URL}{proposal.pk}/change/").content.decode()
    assert f"{ADMIN_URL}{proposal.pk}/approve/" not in own and "90,000 USD" in own
