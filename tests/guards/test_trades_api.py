"""POST /api/v1/trades (SPEC §5.1): stored once, linked to its signal, repeat answered 200."""

from decimal import Decimal

import pytest

from guards.models import Evaluation, Position, Trade

pytestmark = pytest.mark.django_db
URL = "/api/v1/trades"


def trade_body(**overrides):
    body = {
        "trade_id": "t-1",
        "signal_id": "s-1",
        "symbol": "BTCUSDT",
        "direction": "LONG",
        "size": 1000.0,
        "entry_price": 97000.0,
        "exit_price": 97500.5,
        "opened_at": "2026-11-24T10:00:00Z",
        "closed_at": "2026-11-24T11:30:00Z",
        "pnl": 5.16,
    }
    return body | overrides


def test_trade_is_stored_and_linked_to_its_signal(bot):
    bot("/api/v1/signals/evaluate", {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1000, "signal_id": "s-1"})
    response = bot(URL, trade_body())
    assert response.status_code == 201
    assert response.json()["linked_to_signal"] is True
    trade = Trade.objects.get(trade_id="t-1")
    assert trade.pnl == Decimal("5.16") and trade.exit_price == Decimal("97500.5")
    assert trade.evaluation == Evaluation.objects.get(signal_id="s-1")
    assert trade.closed_at.isoformat() == "2026-11-24T11:30:00+00:00"


def test_repeat_trade_id_returns_stored_trade_without_duplicate(bot):
    first = bot(URL, trade_body()).json()
    again = bot(URL, trade_body(pnl=999.0))
    assert again.status_code == 200
    assert again.json() == first
    assert Trade.objects.count() == 1


@pytest.mark.parametrize(
    "overrides, stored",
    [
        ({"pnl": -1e15, "size": 1e15}, {"pnl": Decimal("-1000000000000000"), "size": Decimal("1000000000000000")}),
        ({"pnl": 0.1 + 0.2}, {"pnl": Decimal("0.30000000")}),  # float noise rounds to the stored 8 decimals
        ({"pnl": "-12.5", "size": "0.00000001"}, {"pnl": Decimal("-12.5"), "size": Decimal("0.00000001")}),
    ],
)
def test_amounts_at_the_edges_are_stored_and_answered_as_stored(bot, overrides, stored):
    response = bot(URL, trade_body(**overrides))
    assert response.status_code == 201
    trade = Trade.objects.get(trade_id="t-1")
    for field, value in stored.items():
        assert getattr(trade, field) == value
        assert Decimal(str(response.json()[field])) == value
    assert bot(URL, trade_body(**overrides)).json() == response.json()


def test_trade_closes_the_tracked_position_with_the_same_id(bot):
    from django.utils import timezone

    now = timezone.now()
    Position.objects.create(
        position_id="t-1",
        symbol="BTCUSDT",
        direction="LONG",
        entry_price=1,
        current_price=1,
        opened_at=now,
        updated_at=now,
    )
    bot(URL, trade_body())
    assert Position.objects.get(position_id="t-1").is_open is False


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"trade_id": ""}, "trade_id"),
        ({"direction": "FLAT"}, "direction"),
        ({"size": 0}, "size"),
        ({"exit_price": "abc"}, "exit_price"),
        ({"opened_at": "2026-11-24T10:00:00"}, "opened_at"),
        ({"closed_at": "2026-11-24T09:00:00Z"}, "closed_at"),
        ({"closed_at": "yesterday"}, "closed_at"),
        ({"pnl": None}, "pnl"),
        ({"trade_id": "t\u00001"}, "trade_id"),
        ({"pnl": -1e16}, "pnl"),
        ({"pnl": False}, "pnl"),
        ({"size": 1e30}, "size"),
        ({"size": 0.000000001}, "size"),
        ({"opened_at": "0001-01-01T00:00:00+05:00"}, "opened_at"),
        ({"closed_at": "9999-12-31T23:59:59Z"}, "closed_at"),
        ({"opened_at": "2000-01-01T00:00:00Z", "closed_at": "2000-01-01T00:00:00Z"}, "opened_at"),  # issue 7
        ({"closed_at": "2100-01-01T00:00:00Z"}, "closed_at"),
        ({"closed_at": "2026-11-24T11:30:00.000+0000"}, "closed_at"),  # offset without colon: not RFC 3339
        ({"trade_id": "t\u007f"}, "trade_id"),
        ({"signal_id": "s\t1"}, "signal_id"),
        ({"pnl": "1000000000000000.01"}, "pnl"),  # a decimal string past the bound its pattern states
        ({"size": "Infinity"}, "size"),
    ],
)
def test_invalid_trade_is_400_naming_the_field(bot, overrides, field):
    response = bot(URL, trade_body(**overrides))
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert Trade.objects.count() == 0
