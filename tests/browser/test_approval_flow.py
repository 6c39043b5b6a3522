"""The approval flow in a real browser, as the three roles meet it (SPEC §5.5).

A proposer proposes (a bad value is refused with a message), cannot approve their own
proposal, an approver approves on the confirmation page and reads the audit row, a viewer
sees everything and can change nothing, and a rollback is one action ("Propose again")
followed by the normal approval. Each step leaves a screenshot in test-artifacts/.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from guards.models import ParameterChange, ParameterVersion
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
WHALE = "whale_cvd_threshold_usd"
VERSIONS = "/admin/guards/parameterversion/"


def person(username: str, *roles: str):
    user = get_user_model().objects.create_user(username, password=f"pw-{username}-1", is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


def shot(page, step: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"approval_flow_{step}.png"), full_page=True)


def log_in_as(page, live_server, admin_login, username: str) -> None:
    page.context.clear_cookies()  # the previous person leaves
    admin_login(page, live_server, username, f"pw-{username}-1")


def row(page, version: int):
    cell = page.locator("td.field-version_number", has_text=re.compile(rf"^v{version}$"))
    return page.locator("#result_list tbody tr", has=cell)


def decide(page, live_server, version: int, action: str, reason: str) -> None:
    """A row's button, then the confirmation page with the reason."""
    page.goto(f"{live_server.url}{VERSIONS}")
    row(page, version).locator(f"a.decide-{action}").click()
    page.fill("#id_reason", reason)
    page.click("#confirm-decision")


def test_propose_refuse_own_approve_audit_and_roll_back(page, live_server, admin_login):
    person("alice", "proposer", "approver")  # a lead holding both roles: still never their own approver
    person("bob", "approver")
    person("carol", "auditor")

    # The proposer picks the parameter, sees unit, range and active value; a bad value is refused.
    log_in_as(page, live_server, admin_login, "alice")
    page.goto(f"{live_server.url}{VERSIONS}add/")
    expect(page.locator("#parameter-picker")).to_contain_text("100,000 USD")
    page.click(f"#propose-{WHALE}")
    expect(page.locator(".form-row.field-value")).to_contain_text("Active now: 100,000 USD (v1)")
    page.fill("#id_value", "1e30")
    page.fill("#id_reason", "whales got bigger")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("Whale threshold must be at most 1,000,000,000.")
    shot(page, "1_bad_value_refused")
    assert not ParameterVersion.objects.filter(parameter=WHALE, version=2).exists()
    page.fill("#id_value", "120000")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("Proposed whale_cvd_threshold_usd v2 = 120,000 USD")
    shot(page, "2_proposed")

    # No approve button on one's own proposal, and the address typed by hand is refused.
    expect(row(page, 2).locator("a.decide-approve")).to_have_count(0)
    proposal = ParameterVersion.objects.get(parameter=WHALE, version=2)
    page.goto(f"{live_server.url}{VERSIONS}{proposal.pk}/approve/")
    expect(page.locator(".messagelist")).to_contain_text("someone other than its proposer")
    shot(page, "3_own_approval_refused")
    assert ParameterVersion.objects.get(pk=proposal.pk).status == "PROPOSED"

    # The approver decides on the confirmation page, which asks why.
    log_in_as(page, live_server, admin_login, "bob")
    page.goto(f"{live_server.url}{VERSIONS}")
    row(page, 2).locator("a.decide-approve").click()
    expect(page.locator("#decision-version")).to_contain_text("100,000 USD")
    expect(page.locator("#decision-version")).to_contain_text("120,000 USD")
    shot(page, "4_confirmation")
    page.click("#confirm-decision")
    expect(page.locator(".errorlist")).to_contain_text("This field is required")
    page.fill("#id_reason", "fewer false blocks over the last 50 trades")
    page.click("#confirm-decision")
    expect(page.locator(".messagelist")).to_contain_text(
        "Approved: whale_cvd_threshold_usd is now 120,000 USD (v2); v1 (100,000 USD) is superseded."
    )
    shot(page, "5_approved")

    # The approver reads the audit trail.
    page.goto(f"{live_server.url}/admin/guards/parameterchange/")
    approved = page.locator("#result_list tbody tr", has_text="fewer false blocks over the last 50 trades")
    expect(approved).to_contain_text("Approved")
    expect(approved).to_contain_text("bob")
    expect(approved).to_contain_text("100,000 USD")
    shot(page, "6_audit_trail")

    # The viewer sees the versions and the trail, and is offered nothing to change.
    log_in_as(page, live_server, admin_login, "carol")
    page.goto(f"{live_server.url}{VERSIONS}")
    expect(page.locator("#result_list")).to_contain_text("120,000 USD")
    expect(page.locator("a.decide-approve, a.decide-reject, a.decide-propose_again")).to_have_count(0)
    expect(page.locator("a.addlink")).to_have_count(0)
    shot(page, "7_viewer")

    # A rollback: "Propose again" on v1, then the normal approval by someone else.
    log_in_as(page, live_server, admin_login, "alice")
    decide(page, live_server, 1, "propose_again", "v2 missed two good trends")
    expect(page.locator(".messagelist")).to_contain_text("Proposed whale_cvd_threshold_usd v3 = 100,000 USD")
    shot(page, "8_proposed_again")
    log_in_as(page, live_server, admin_login, "bob")
    decide(page, live_server, 3, "approve", "agreed, roll back")
    expect(page.locator(".messagelist")).to_contain_text("is now 100,000 USD (v3)")
    shot(page, "9_rolled_back")

    active = ParameterVersion.objects.get(parameter=WHALE, status="ACTIVE")
    assert (active.version, active.value, active.proposed_by.username, active.approved_by.username) == (
        3,
        100000,
        "alice",
        "bob",
    )
    assert list(
        ParameterChange.objects.filter(parameter=WHALE).order_by("id").values_list("action", "actor__username")
    ) == [
        ("SEEDED", None),
        ("PROPOSED", "alice"),
        ("APPROVED", "bob"),
        ("PROPOSED", "alice"),
        ("APPROVED", "bob"),
    ]
