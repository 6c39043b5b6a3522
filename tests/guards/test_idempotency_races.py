"""The same signal_id or trade_id sent concurrently: one row, one answer (SPEC §3, §5.1)."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from guards.models import Evaluation, GuardEvent, Trade
from tests.guards.test_trades_api import trade_body

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("require_postgres")]


def post_many(path, body, token, count=8):
    def post(_):
        try:
            response = Client().post(
                path, json.dumps(body), content_type="application/json", headers={"Authorization": f"Bearer {token}"}
            )
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(post, range(count)))


def test_concurrent_repeats_of_a_signal_record_one_decision(bot_token):
    body = {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 10, "signal_id": "race-1"}
    answers = post_many("/api/v1/signals/evaluate", body, bot_token)
    assert {status for status, _ in answers} == {200}
    assert all(answer == answers[0][1] for _, answer in answers)
    assert Evaluation.objects.filter(signal_id="race-1").count() == 1
    assert GuardEvent.objects.filter(evaluation__signal_id="race-1").count() == 3


def test_concurrent_repeats_of_a_trade_store_one_row(bot_token):
    body = {
        "trade_id": "race-t",
        "symbol": "BTCUSDT",
        "direction": "SHORT",
        "size": 1,
        "entry_price": 100,
        "exit_price": 99,
        "opened_at": "2026-11-24T10:00:00Z",
        "closed_at": "2026-11-24T11:00:00Z",
        "pnl": 1,
    }
    answers = post_many("/api/v1/trades", body, bot_token)
    assert sorted(status for status, _ in answers).count(201) == 1
    assert {status for status, _ in answers} <= {200, 201}
    assert Trade.objects.filter(trade_id="race-t").count() == 1


def test_a_trade_racing_a_min_hold_answer_always_leaves_its_position_closed(bot_token):
    from threading import Barrier

    from guards.models import Position

    def send(path, body, barrier):
        try:
            barrier.wait()
            Client().post(
                path,
                json.dumps(body),
                content_type="application/json",
                headers={"Authorization": f"Bearer {bot_token}"},
            )
        finally:
            connection.close()

    ids = [f"race-p{i}" for i in range(30)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for position_id in ids:
            barrier = Barrier(2)
            hold = {
                "symbol": "BTCUSDT",
                "direction": "LONG",
                "strategy": "TRUE_TREND",
                "entry_price": 100,
                "current_price": 101,
                "opened_at": "2026-11-24T10:00:00Z",
                "position_id": position_id,
            }
            trade = trade_body(trade_id=position_id, signal_id=None, size=1, entry_price=100, exit_price=101)
            list(
                pool.map(
                    lambda a: send(*a),
                    [("/api/v1/positions/min-hold", hold, barrier), ("/api/v1/trades", trade, barrier)],
                )
            )
    assert Trade.objects.filter(trade_id__in=ids).count() == 30
    assert not Position.objects.filter(position_id__in=ids, is_open=True).exists()
