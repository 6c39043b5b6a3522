"""Management commands (SPEC §8): clear output, clear errors, no tracebacks."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from guards.models import ApiToken, MarketSnapshot

pytestmark = pytest.mark.django_db


def test_create_api_token_prints_a_working_token_and_creates_the_user(client):
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "trading-bot", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert token.startswith("tb_") and "created user" in err.getvalue()
    assert ApiToken.objects.get(user__username="trading-bot").token_hash == ApiToken.hash(token)
    assert not get_user_model().objects.get(username="trading-bot").has_usable_password()
    response = client.post(
        "/api/v1/signals/evaluate",
        {"symbol": "BTCUSDT", "direction": "SHORT", "base_size": 1},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200


def test_create_api_token_refuses_an_inactive_user():
    get_user_model().objects.create_user("gone", is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        call_command("create_api_token", "gone", stdout=StringIO())


def test_fetch_intel_on_the_simulator_stores_every_input():
    out = StringIO()
    call_command("fetch_intel", "--symbol", "BTCUSDT", stdout=out)
    kinds = set(MarketSnapshot.objects.values_list("kind", flat=True))
    assert kinds == {"whale_flow", "price_bars", "liquidation_heatmap", "taker_flow", "max_pain", "fear_greed"}
    assert set(MarketSnapshot.objects.values_list("source", flat=True)) == {"simulated"}
    assert "whale_flow" in out.getvalue() and " ok" in out.getvalue()


def test_fetch_intel_rejects_a_bad_symbol():
    with pytest.raises(CommandError, match="exchange pair"):
        call_command("fetch_intel", "--symbol", "BTC-USDT")
