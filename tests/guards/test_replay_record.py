"""Each evaluation keeps what the chain read, skipped guards included, so the optimizer can replay
the decision exactly at other parameter values (SPEC §5.2, §5.4)."""

import pytest

from guards.domain import inputs
from guards.models import Evaluation
from tests.guards.test_evaluate_signal_api import store_whale_flow
from tests.intel import store_input as store

pytestmark = pytest.mark.django_db
URL = "/api/v1/signals/evaluate"


def test_a_blocked_signal_keeps_the_inputs_of_the_guards_it_skipped(bot):
    store(inputs.TAKER_FLOW, {"buy_share": "0.30", "range": "1h"})  # blocks a LONG first
    whale = store_whale_flow([150_000])
    store(inputs.FEAR_GREED, {"value": 85}, symbol=inputs.MARKET_WIDE_SYMBOL)
    body = bot(URL, {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 100, "signal_id": "r-1"}).json()
    assert body["blocked_by"] == "TAKER_AGGRESSION"
    assert [g["decision"] for g in body["guards"]] == ["block", "skipped", "skipped"]

    evaluation = Evaluation.objects.get(signal_id="r-1")
    replay = evaluation.replay
    assert replay["guard_order"] == ["TAKER_AGGRESSION", "WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER"]
    assert replay["problems"] == {"TAKER_AGGRESSION": None, "WHALE_INTENT_FILTER": None, "FEAR_GREED_MULTIPLIER": None}
    assert replay["values"] == {inputs.TAKER_FLOW: "0.30", inputs.FEAR_GREED: "85"}
    assert evaluation.whale_flow_snapshot_id == whale.id  # the whale flow's exact detail, for any threshold
    assert replay["parameters"]["whale_cvd_threshold_usd"] == {"value": 100000, "version": 1}
    assert replay["parameters"]["fear_greed_cutoff"] == {"value": 80, "version": 1}
    assert replay["parameters"]["taker_min_share"] == {"value": 0.4, "version": 1}


def test_why_a_guard_could_not_decide_is_kept_even_when_it_was_skipped(bot):
    store(inputs.TAKER_FLOW, {"buy_share": "0.30", "range": "1h"})
    bot(URL, {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 100, "signal_id": "r-2"})
    problems = Evaluation.objects.get(signal_id="r-2").replay["problems"]
    assert problems["TAKER_AGGRESSION"] is None
    assert problems["WHALE_INTENT_FILTER"] == "whale_flow: MISSING"
    assert problems["FEAR_GREED_MULTIPLIER"] == "fear_greed: MISSING"
