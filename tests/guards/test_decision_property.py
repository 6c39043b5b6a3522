"""Property: over 1,000 random situations the API decides exactly as the pure domain does."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from guards.domain import inputs
from guards.domain.chain import build_steps, run_chain
from guards.domain.cvd import FlowDetail, TakerOrder
from guards.domain.params import Params
from guards.domain.types import Direction, Intel, Reading, Signal
from guards.intel.snapshots import store_snapshot
from guards.models import MarketSnapshot

pytestmark = pytest.mark.django_db
SITUATIONS = 1000


def random_situation(rnd: random.Random) -> dict:
    whale_orders = [
        rnd.choice([-1, 1]) * rnd.choice([100_000, 150_000, 99_999, 250_000]) for _ in range(rnd.randint(0, 4))
    ]
    return {
        "direction": rnd.choice(["LONG", "SHORT"]),
        "base_size": rnd.choice(["1000", "0.5", "12345.678", "3"]),
        "whale_orders": whale_orders,
        "taker_share": rnd.choice(["0.40", "0.3999", "0.60", "0.6001", "0.5", "0.1", "0.95"]),
        "fear_greed": rnd.choice(["80", "80.01", "79", "95", "10"]),
        # per input: fresh, just inside 2x TTL, just past it, or missing
        "ages": {
            k: rnd.choice([5, "inside", "past", None])
            for k in (inputs.WHALE_FLOW, inputs.TAKER_FLOW, inputs.FEAR_GREED)
        },
    }


def age_seconds(kind, age):
    ttl = inputs.TTL_SECONDS[kind]
    return {"inside": 2 * ttl - 20, "past": 2 * ttl + 20}.get(age, age)


def store(situation, symbol, now):
    orders = [TakerOrder(0, abs(u) * 100, u > 0, 0, 0) for u in situation["whale_orders"]]
    derived = {
        inputs.WHALE_FLOW: ({}, {"detail": FlowDetail.from_orders(orders, 4_000_000).to_json()}),
        inputs.TAKER_FLOW: ({"buy_share": situation["taker_share"], "range": "1h"}, {}),
        inputs.FEAR_GREED: ({"value": situation["fear_greed"]}, {}),
    }
    for kind, age in situation["ages"].items():
        if age is None:
            continue
        key_symbol = inputs.MARKET_WIDE_SYMBOL if kind in inputs.MARKET_WIDE else symbol
        store_snapshot(
            symbol=key_symbol,
            kind=kind,
            ttl_seconds=inputs.TTL_SECONDS[kind],
            source="simulated",
            derived=derived[kind][0],
            raw=derived[kind][1],
            fetched_at=now - timedelta(seconds=age_seconds(kind, age)),
        )


def expected(situation, symbol, now):
    orders = [TakerOrder(0, abs(u) * 100, u > 0, 0, 0) for u in situation["whale_orders"]]
    values = {
        inputs.WHALE_FLOW: FlowDetail.from_orders(orders, 0).split(10_000_000),
        inputs.TAKER_FLOW: Decimal(situation["taker_share"]),
        inputs.FEAR_GREED: Decimal(situation["fear_greed"]),
    }
    readings = {
        kind: Reading(values[kind], now - timedelta(seconds=age_seconds(kind, age)), inputs.TTL_SECONDS[kind])
        for kind, age in situation["ages"].items()
        if age is not None
    }
    signal = Signal(symbol, Direction(situation["direction"]), Decimal(situation["base_size"]))
    return run_chain(build_steps(Params({})), signal, Intel(symbol, readings), now)


def test_api_decision_equals_domain_decision(bot):
    rnd = random.Random(20261124)
    for i in range(SITUATIONS):
        situation, symbol = random_situation(rnd), f"S{i}USDT"  # a fresh symbol: no earlier snapshot leaks in
        if situation["ages"][inputs.FEAR_GREED] is None:  # Fear & Greed is market-wide: clear the last one
            MarketSnapshot.objects.filter(kind=inputs.FEAR_GREED).delete()
            cache.clear()
        now = timezone.now()
        store(situation, symbol, now)
        body = bot(
            "/api/v1/signals/evaluate",
            {"symbol": symbol, "direction": situation["direction"], "base_size": float(situation["base_size"])},
        ).json()
        domain = expected(situation, symbol, now)
        assert body["allowed"] == domain.allowed, situation
        assert body["blocked_by"] == domain.blocked_by, situation
        assert Decimal(str(body["size_multiplier"])) == domain.size_multiplier, situation
        assert [g["decision"] for g in body["guards"]] == [str(r.decision) for r in domain.results], situation
