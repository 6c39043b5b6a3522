"""Structured decision logs (SPEC §7): one JSON line per guard decision, tagged."""

import json
import logging

import pytest

from tradingbot.logging import JsonFormatter

pytestmark = pytest.mark.django_db


def test_each_guard_decision_is_one_tagged_json_line(bot, caplog):
    caplog.set_level(logging.INFO, logger="guards.decisions")
    bot("/api/v1/signals/evaluate", {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 5, "signal_id": "log-1"})
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "guards.decisions"]
    assert [line["tag"] for line in lines] == ["TAKER-AGGRESSION", "WHALE-INTENT", "FEAR-GREED"]
    assert all(line["signal_id"] == "log-1" and line["symbol"] == "BTCUSDT" for line in lines)
    assert {line["decision"] for line in lines} <= {"allow", "block", "resize", "fail_open", "skipped"}


def test_min_hold_decision_is_tagged_liq_magnet(bot, caplog):
    caplog.set_level(logging.INFO, logger="guards.decisions")
    bot(
        "/api/v1/positions/min-hold",
        {
            "symbol": "BTCUSDT",
            "direction": "LONG",
            "strategy": "TRUE_TREND",
            "entry_price": 97000,
            "current_price": 97100,
            "opened_at": "2026-11-24T10:00:00Z",
        },
    )
    [line] = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "guards.decisions"]
    assert line["tag"] == "LIQ-MAGNET" and line["reason"] == "TRUE_TREND"
