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


@pytest.mark.parametrize(
    "args, problem",
    [
        (["bad user!"], "may contain only letters"),
        (["bot", "--name", "x" * 101], "at most 100 characters"),
        (["   "], "1 to 150 characters"),
    ],
)
def test_create_api_token_refuses_bad_input_before_writing_anything(args, problem):
    with pytest.raises(CommandError, match=problem):
        call_command("create_api_token", *args, stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists() and not get_user_model().objects.filter(username="bot").exists()


def test_ensure_admin_creates_once_and_never_resets_or_misreports_a_password(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    first = StringIO()
    call_command("ensure_admin", stdout=first)
    password = first.getvalue().strip().removeprefix("admin / ")
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    again = StringIO()
    call_command("ensure_admin", stdout=again)
    assert again.getvalue() == first.getvalue()  # the same login, shown again
    admin.set_password("operator-chose-this-1")
    admin.save()
    changed = StringIO()
    call_command("ensure_admin", stdout=changed)
    assert password not in changed.getvalue() and "changepassword" in changed.getvalue()
    (tmp_path / "admin_password").unlink()  # a new machine on a shared database
    call_command("ensure_admin", stdout=StringIO())
    assert get_user_model().objects.get(username="admin").check_password("operator-chose-this-1")
