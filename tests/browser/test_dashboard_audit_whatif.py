"""The audit trail and the what-if panel in a real browser: an operator filters the guard
decisions, pages back, opens one decision (no page reload: HTMX swaps the panel and pushes the
URL), sees a bad filter named; a proposer replays a candidate whale threshold, reads the flips
and files it as a proposal, then finds it waiting in the admin. Each page leaves a screenshot."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from guards.models import GuardEvent, ParameterChange, ParameterVersion
from tests.browser.conftest import ARTIFACTS
from tests.optimizer.test_runs import WHALE, history

PASSWORD = "a-long-Passw0rd"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard_{name}.png"), full_page=True)


@pytest.fixture
def proposer(page, live_server, admin_login):
    user = get_user_model().objects.create_user("alice", password=PASSWORD, is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=["proposer"]))
    admin_login(page, live_server, "alice", PASSWORD)
    return user


def _no_reload_marker(page) -> None:
    page.evaluate("() => { window.sameDocument = true; }")


def _same_document(page) -> bool:
    return page.evaluate("() => window.sameDocument === true")


def test_audit_trail_filters_pages_and_opens_a_decision(page, live_server, proposer, bot):
    history(bot, blocked_pnl="30")  # three taken, four blocked by the whale filter
    start = timezone.now() - timedelta(days=2)
    GuardEvent.objects.bulk_create(
        GuardEvent(event_type="TAKER_AGGRESSION", guard="TAKER_AGGRESSION", decision="allow", symbol="ETHUSDT",
                   created_at=start + timedelta(minutes=n))
        for n in range(60)
    )  # fmt: skip

    page.goto(f"{live_server.url}/audit/")
    expect(page).to_have_title("Audit trail | Guard control plane")
    expect(page.locator("#events-table tbody tr")).to_have_count(50)
    expect(page.locator("#versions-table")).to_contain_text(WHALE)
    shot(page, "audit_trail")
    _no_reload_marker(page)

    page.click("#events-older")  # the next page, by keyset
    expect(page).to_have_url(re.compile(r"/audit/events/\?before=\d+\.\d+$"))
    expect(page.locator("#events-table tbody tr")).to_have_count(GuardEvent.objects.count() - 50)

    page.select_option("#filter-guard", "WHALE_INTENT_FILTER")
    page.select_option("#filter-decision", "block")
    page.click("#events-filter button[type=submit]")
    expect(page.locator("#events-table tbody tr")).to_have_count(4)
    assert "guard=WHALE_INTENT_FILTER" in page.url and "decision=block" in page.url
    shot(page, "audit_filtered")

    page.locator("#events-table a.open-decision").first.click()
    expect(page.locator("#decision-answer")).to_have_text("blocked by WHALE_INTENT_FILTER")
    expect(page.locator("#used-versions")).to_contain_text("100,000 USD")
    expect(page.locator("#shadow-pnl")).to_have_text("+$30.00")
    assert "/audit/decisions/" in page.url
    assert _same_document(page), "the page was reloaded"
    shot(page, "audit_decision")

    page.fill("#filter-symbol", "BTC/USDT")
    page.click("#events-filter button[type=submit]")
    expect(page.locator("#events-error")).to_contain_text("symbol: 'BTC/USDT' is not an exchange pair name")
    assert _same_document(page)
    shot(page, "audit_bad_filter")


def test_what_if_replays_a_candidate_and_files_it_as_a_proposal(page, live_server, proposer, bot):
    history(bot, blocked_pnl="30")

    page.goto(f"{live_server.url}/what-if/")
    expect(page).to_have_title("What-if | Guard control plane")
    _no_reload_marker(page)
    page.select_option("#whatif-parameter", WHALE)
    page.fill("#whatif-value", "lots")
    page.click("#whatif-run")
    expect(page.locator("#whatif-error")).to_have_text("value: 'lots' is not a number")
    shot(page, "whatif_bad_value")

    page.fill("#whatif-value", "110000")
    page.click("#whatif-run")
    expect(page.locator("#flipped-count")).to_have_text("4")
    expect(page.locator("#pnl-difference")).to_have_text("+$120.00")
    expect(page.locator("#flips-table tbody tr")).to_have_count(4)
    assert "value=110000" in page.url and _same_document(page)
    shot(page, "whatif_result")

    page.fill("#propose-reason", "whales trade bigger lately")
    page.click("#propose-button")
    expect(page.locator("#proposal-filed")).to_contain_text("Proposed whale_cvd_threshold_usd v2 = 110,000 USD")
    shot(page, "whatif_proposal_filed")
    version = ParameterVersion.objects.get(parameter=WHALE, version=2)
    assert version.status == "PROPOSED" and version.origin == "PERSON" and version.proposed_by == proposer
    assert ParameterChange.objects.filter(version=version, action="PROPOSED", actor=proposer).exists()

    page.click("#proposal-link")
    expect(page.locator("#content")).to_contain_text("whales trade bigger lately")
    shot(page, "whatif_proposal_in_admin")


def test_the_newest_page_of_guard_decisions_refreshes_itself(page, live_server, proposer, settings):
    settings.DASHBOARD_REFRESH_SECONDS = 1  # the live server reads it per request
    page.goto(f"{live_server.url}/audit/")
    expect(page.locator("#events-empty")).to_be_visible()
    _no_reload_marker(page)

    GuardEvent.objects.create(
        event_type="GUARD_FAIL_OPEN", guard="WHALE_INTENT_FILTER", decision="fail_open", symbol="BTCUSDT",
        reason="whale_flow: STALE", created_at=timezone.now(),
    )  # fmt: skip

    expect(page.locator("#events-table")).to_contain_text("whale_flow: STALE")
    assert _same_document(page), "the page was reloaded"
