"""Admin: tokens created there are shown once and stored hashed; audit records are read-only."""

import re

import pytest
from django.contrib.auth import get_user_model

from guards.models import ApiToken, Evaluation, GuardEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_superuser("operator", "op@example.com", "pw-operator-1")
    client.force_login(user)
    return user


def test_token_created_in_admin_is_shown_once_and_stored_hashed(client, operator):
    response = client.post("/admin/guards/apitoken/add/", {"user": operator.pk, "name": "bot-1"}, follow=True)
    shown = re.search(r"New token \(shown once, copy it now\): (tb_[\w-]+)", response.content.decode())
    assert shown, "the new token must be shown to the operator"
    token = shown.group(1)
    row = ApiToken.objects.get(name="bot-1")
    assert row.token_hash == ApiToken.hash(token) and token not in row.token_hash
    listing = client.get("/admin/guards/apitoken/").content.decode()
    assert token not in listing
    api = client.post(  # a guarded endpoint: /health answers without a token
        "/api/v1/signals/evaluate",
        {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 200


def test_revoked_token_is_refused(client, operator):
    from guards.tokens import issue_token

    token, row = issue_token(user=operator, name="old")
    client.post("/admin/guards/apitoken/", {"action": "revoke", "_selected_action": [row.pk]})
    response = client.post(
        "/api/v1/signals/evaluate",
        {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401


def test_revoking_needs_the_change_permission_and_is_logged(client, operator):
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Permission

    from guards.tokens import issue_token

    _, row = issue_token(user=operator, name="bot")
    viewer = get_user_model().objects.create_user("viewer", password="pw-viewer-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_apitoken"))
    client.force_login(viewer)
    client.post("/admin/guards/apitoken/", {"action": "revoke", "_selected_action": [row.pk]})
    assert ApiToken.objects.get(pk=row.pk).revoked_at is None  # a viewer cannot lock the bot out
    client.force_login(operator)
    client.post("/admin/guards/apitoken/", {"action": "revoke", "_selected_action": [row.pk]})
    assert ApiToken.objects.get(pk=row.pk).revoked_at is not None
    entry = LogEntry.objects.get(object_id=str(row.pk))
    assert (entry.user, entry.change_message) == (operator, "Revoked")


def test_an_issued_token_cannot_be_reassigned_or_unrevoked(client, operator):
    from guards.tokens import issue_token

    other = get_user_model().objects.create_user("other", password="pw-other-1")
    _, row = issue_token(user=operator, name="bot")
    ApiToken.objects.filter(pk=row.pk).update(revoked_at="2026-11-24T00:00:00Z")
    client.post(
        f"/admin/guards/apitoken/{row.pk}/change/",
        {"user": other.pk, "name": "renamed", "revoked_at_0": "", "revoked_at_1": ""},
    )
    row.refresh_from_db()
    assert (row.user, row.name) == (operator, "renamed") and row.revoked_at is not None


def test_evaluations_and_events_are_read_only_in_admin(client, operator, bot):
    bot("/api/v1/signals/evaluate", {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1, "signal_id": "ro"})
    evaluation = Evaluation.objects.get(signal_id="ro")
    event = GuardEvent.objects.filter(evaluation=evaluation).first()
    assert client.get(f"/admin/guards/evaluation/{evaluation.pk}/change/").status_code == 200
    assert client.get(f"/admin/guards/guardevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/guards/guardevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/guards/guardevent/add/").status_code == 403
    assert GuardEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "page",
    [
        "marketsnapshot",
        "datahealthevent",
        "evaluation",
        "guardevent",
        "trade",
        "position",
        "parameterversion",
        "parameterchange",
        "apitoken",
        "inputavailability",
    ],
)
def test_admin_lists_open(client, operator, page):
    assert client.get(f"/admin/guards/{page}/").status_code == 200


@pytest.mark.parametrize("mode, label", [("simulated", "simulated market data"), ("live", "live market data")])
def test_every_admin_page_says_where_market_data_comes_from(client, operator, settings, mode, label):
    settings.MARKET_DATA = mode
    for page in ("/admin/", "/admin/guards/marketsnapshot/", "/admin/guards/guardevent/"):
        html = client.get(page).content.decode()
        banner = re.search(r'<span id="market-data-mode"[^>]*>([^<]+)</span>', html)
        assert banner and banner.group(1) == label, page
        assert "Guard control plane" in html


def test_browsers_asking_for_a_favicon_get_one(client):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
    assert "<svg" in open(finders.find("favicon.svg")).read()
