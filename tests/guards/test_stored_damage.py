"""Nothing stored can make the gate fail (issue 7): each stored thing damaged in turn.

A snapshot gone, a payload that does not parse, a parameter row missing or malformed: the
guard (or hold rule) that needs it fails open with a reason code, the others decide as
usual, the decision is recorded and the answer is 200.
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection, models
from django.utils import timezone

from guards.domain import inputs
from guards.domain.chain import GUARDS
from guards.domain.cvd import FlowDetail, TakerOrder
from guards.domain.params import DEFAULTS, ttl_parameter
from guards.holds import HOLD_PARAMS
from guards.intel import snapshots
from guards.models import Evaluation, GuardEvent, MarketSnapshot, ParameterVersion
from tests.intel import store_input as store

EVALUATE, MIN_HOLD = "/api/v1/signals/evaluate", "/api/v1/positions/min-hold"
TAKER, WHALE, FEAR_GREED = "TAKER_AGGRESSION", "WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER"
GUARD_OF = {kind: name for name, rule in GUARDS.items() for kind in rule.needs}  # input kind -> its guard


@pytest.fixture
def market(db):
    """Every input healthy: each guard allows a LONG, and the LONG moves toward a cluster."""
    detail = FlowDetail.from_orders([TakerOrder(0, 30_000_000, True, 0, 0)], floor_cents=4_000_000)
    return {
        inputs.WHALE_FLOW: store(inputs.WHALE_FLOW, {"window_minutes": 60}, {"detail": detail.to_json()}),
        inputs.TAKER_FLOW: store(inputs.TAKER_FLOW, {"buy_share": "0.55", "range": "1h"}),
        inputs.FEAR_GREED: store(inputs.FEAR_GREED, {"value": 50}),
        inputs.LIQUIDATION: store(
            inputs.LIQUIDATION, {"current_price": "100", "clusters": [{"price": "102", "intensity": "5000"}]}
        ),
        inputs.MAX_PAIN: store(inputs.MAX_PAIN, {"max_pain_price": "110"}),
    }


_signals = iter(range(10**6))


def evaluate(bot):
    signal_id = f"damage-{next(_signals)}"
    response = bot(EVALUATE, {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 100, "signal_id": signal_id})
    assert response.status_code == 200, response.content
    body = response.json()
    assert Evaluation.objects.filter(signal_id=signal_id).exists()
    assert GuardEvent.objects.filter(evaluation__signal_id=signal_id).count() == len(GUARDS)
    return {g["guard"]: (g["decision"], g["reason"]) for g in body["guards"]}, signal_id


def ask_min_hold(bot):
    body = {
        "symbol": "BTCUSDT",
        "direction": "LONG",
        "strategy": "TRUE_TREND",
        "entry_price": 100,
        "current_price": 100,
        "opened_at": "2026-11-24T10:00:00Z",
    }
    response = bot(MIN_HOLD, body)
    assert response.status_code == 200, response.content
    return response.json()


def assert_only_failed_open(decisions, guard, reason_start):
    """`guard` failed open with a reason starting `reason_start`; every other guard allowed."""
    assert decisions[guard][0] == "fail_open", decisions
    assert decisions[guard][1].startswith(reason_start), decisions[guard][1]
    assert {g: d for g, (d, _) in decisions.items() if g != guard} == {g: "allow" for g in decisions if g != guard}


def test_the_healthy_market_is_decided_by_every_guard(bot, market):
    decisions, _ = evaluate(bot)
    assert {g: d for g, (d, _) in decisions.items()} == {TAKER: "allow", WHALE: "allow", FEAR_GREED: "allow"}
    answer = ask_min_hold(bot)
    assert (answer["reason"], answer["fail_open"]) == ("LIQ_CLUSTER", [])


# --- Snapshots --------------------------------------------------------------------------------

NAN_DETAIL = {"buy_total_cents": "NaN", "sell_total_cents": 0, "floor_cents": 0, "large_orders": []}
CORRUPT_ROWS = [
    # (input kind, field of the row, stored value)
    *((kind, "derived", "not an object") for kind in (inputs.TAKER_FLOW, inputs.FEAR_GREED, inputs.WHALE_FLOW)),
    (inputs.TAKER_FLOW, "derived", {"range": "1h"}),
    (inputs.TAKER_FLOW, "derived", {"range": "1h", "buy_share": "NaN"}),
    (inputs.TAKER_FLOW, "derived", {"range": "1h", "buy_share": 1.5}),
    (inputs.TAKER_FLOW, "derived", {"range": "1h", "buy_share": None}),
    (inputs.TAKER_FLOW, "derived", {"range": "1h", "buy_share": True}),
    (inputs.FEAR_GREED, "derived", {"value": "Infinity"}),
    (inputs.FEAR_GREED, "derived", {"value": 101}),
    (inputs.FEAR_GREED, "derived", {"value": -1}),
    (inputs.FEAR_GREED, "derived", {"value": "1e999999"}),
    (inputs.FEAR_GREED, "derived", {"value": [50]}),
    (inputs.WHALE_FLOW, "derived", {"window_minutes": 60, "data_time": "yesterday"}),
    (inputs.WHALE_FLOW, "derived", {"window_minutes": 60, "data_time": "2026-11-24T10:00:00"}),  # naive
    (inputs.WHALE_FLOW, "raw", "not an object"),
    (inputs.WHALE_FLOW, "raw", {}),
    (inputs.WHALE_FLOW, "raw", {"detail": "not an object"}),
    (inputs.WHALE_FLOW, "raw", {"detail": NAN_DETAIL}),
    (inputs.WHALE_FLOW, "raw", {"detail": {**NAN_DETAIL, "buy_total_cents": 10**30}}),
    (inputs.WHALE_FLOW, "raw", {"detail": {**NAN_DETAIL, "buy_total_cents": 1.5}}),
    (inputs.WHALE_FLOW, "raw", {"detail": {**NAN_DETAIL, "buy_total_cents": 5, "large_orders": "123"}}),
    (inputs.WHALE_FLOW, "raw", {"detail": {**NAN_DETAIL, "buy_total_cents": 5, "large_orders": [6]}}),
    (inputs.WHALE_FLOW, "raw", {"detail": {**NAN_DETAIL, "buy_total_cents": -5}}),
]


@pytest.mark.parametrize("kind, field, value", CORRUPT_ROWS)
def test_corrupt_snapshot_row_fails_its_guard_open(bot, market, kind, field, value):
    MarketSnapshot.objects.filter(id=market[kind].id).update(**{field: value})
    cache.clear()
    decisions, signal_id = evaluate(bot)
    assert_only_failed_open(decisions, GUARD_OF[kind], f"{kind}: UNPARSEABLE (")
    event = GuardEvent.objects.get(evaluation__signal_id=signal_id, guard=GUARD_OF[kind])
    assert event.event_type == "GUARD_FAIL_OPEN"
    assert event.inputs["sources"][kind]["snapshot_id"] == market[kind].id  # still linked: replayable


CORRUPT_HOLD_ROWS = [
    (inputs.LIQUIDATION, {"clusters": "not a list"}),
    (inputs.LIQUIDATION, {"clusters": [{"price": "NaN", "intensity": "1"}]}),
    (inputs.LIQUIDATION, {"clusters": [{"price": "-102", "intensity": "1"}]}),
    (inputs.LIQUIDATION, {"clusters": ["102"]}),
    (inputs.MAX_PAIN, {"max_pain_price": "0"}),
    (inputs.MAX_PAIN, {"max_pain_price": {"price": 110}}),
    (inputs.MAX_PAIN, {"max_pain_price": "1e999999"}),
]


@pytest.mark.parametrize("kind, derived", CORRUPT_HOLD_ROWS)
def test_corrupt_snapshot_row_passes_its_hold_rule_over(bot, market, kind, derived):
    MarketSnapshot.objects.filter(id=market[kind].id).update(derived=derived)
    cache.clear()
    answer = ask_min_hold(bot)
    assert [p.split(" (")[0] for p in answer["fail_open"]] == [f"{kind}: UNPARSEABLE"]
    assert answer["reason"] == ("MAX_PAIN_FAR" if kind == inputs.LIQUIDATION else "LIQ_CLUSTER")
    assert GuardEvent.objects.filter(event_type="GUARD_FAIL_OPEN", guard="LIQ_MAGNET").count() == 1


def cached(kind):
    symbol = inputs.MARKET_WIDE_SYMBOL if kind in inputs.MARKET_WIDE else "BTCUSDT"
    return snapshots.snapshot_cache_key(symbol, kind)


@pytest.mark.parametrize(
    "change",
    [
        {"fetched_at": None},
        {"fetched_at": "2026-11-24T10:00:00"},  # naive
        {"fetched_at": "yesterday"},
        {"fetched_at": "2026-13-45T10:00:00+00:00"},
        {"fetched_at": 1732442400},
        {"derived": ["not", "an", "object"]},
        {"raw": None},
    ],
)
@pytest.mark.parametrize("kind", [inputs.WHALE_FLOW, inputs.TAKER_FLOW, inputs.FEAR_GREED])
def test_corrupt_cache_entry_fails_its_guard_open(bot, market, kind, change):
    payload = cache.get(cached(kind))
    cache.set(cached(kind), payload | change)
    decisions, _ = evaluate(bot)
    if kind != inputs.WHALE_FLOW and "raw" in change:  # only the whale flow reads raw detail
        assert {d for d, _ in decisions.values()} == {"allow"}
    else:
        assert_only_failed_open(decisions, GUARD_OF[kind], f"{kind}: UNPARSEABLE (")


@pytest.mark.parametrize("entry", ["garbage", 42, ["a", "list"], None])
@pytest.mark.parametrize("kind", [inputs.WHALE_FLOW, inputs.TAKER_FLOW, inputs.FEAR_GREED, inputs.LIQUIDATION])
def test_cache_entry_that_is_no_payload_is_dropped_and_the_row_decides(bot, market, kind, entry):
    cache.set(cached(kind), entry)
    decisions, _ = evaluate(bot)
    assert {d for d, _ in decisions.values()} == {"allow"}
    assert ask_min_hold(bot)["fail_open"] == []


@pytest.mark.parametrize("kind", [inputs.WHALE_FLOW, inputs.TAKER_FLOW, inputs.FEAR_GREED])
def test_snapshot_deleted_while_cached_is_never_served(bot, market, kind):
    MarketSnapshot.objects.filter(id=market[kind].id).delete()  # admin or a clean-up: the cache entry goes too
    decisions, signal_id = evaluate(bot)
    assert_only_failed_open(decisions, GUARD_OF[kind], f"{kind}: MISSING")
    assert Evaluation.objects.get(signal_id=signal_id).whale_flow_snapshot_id == (
        None if kind == inputs.WHALE_FLOW else market[inputs.WHALE_FLOW].id
    )


@pytest.mark.parametrize("kind", [inputs.LIQUIDATION, inputs.MAX_PAIN])
def test_hold_snapshot_deleted_while_cached_is_never_served(bot, market, kind):
    MarketSnapshot.objects.filter(id=market[kind].id).delete()
    assert ask_min_hold(bot)["fail_open"] == [f"{kind}: MISSING"]


@pytest.fixture
def seeded_parameters(transactional_db):
    """A transactional test starts after another one's flush: the SPEC defaults, as migrate seeds them."""
    for name, value in DEFAULTS.items():
        ParameterVersion.objects.get_or_create(
            parameter=name, status="ACTIVE", defaults={"version": 1, "value": value, "origin": "SEED"}
        )


def delete_behind_the_caches_back(*snapshots):
    """As a database that never held them: no signal, the cache still names them."""
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(snapshots))
        cursor.execute(f"DELETE FROM guards_marketsnapshot WHERE id IN ({marks})", [s.id for s in snapshots])


@pytest.mark.django_db(transaction=True)
def test_whale_snapshot_gone_behind_the_caches_back_fails_open_at_commit(bot, seeded_parameters, market):
    """The whale snapshot's foreign key fails at commit: the decision is taken again with the
    readings of every missing snapshot failed open, SNAPSHOT_MISSING, and their cache dropped."""
    delete_behind_the_caches_back(market[inputs.WHALE_FLOW], market[inputs.TAKER_FLOW])
    decisions, signal_id = evaluate(bot)
    assert decisions[WHALE] == (
        "fail_open",
        f"whale_flow: SNAPSHOT_MISSING (snapshot {market['whale_flow'].id} is not in this database)",
    )
    assert decisions[TAKER][0] == "fail_open" and decisions[TAKER][1].startswith("taker_flow: SNAPSHOT_MISSING")
    assert decisions[FEAR_GREED][0] == "allow"
    evaluation = Evaluation.objects.get(signal_id=signal_id)
    assert evaluation.whale_flow_snapshot_id is None
    assert cache.get(cached(inputs.WHALE_FLOW)) is None and cache.get(cached(inputs.TAKER_FLOW)) is None
    assert cache.get(cached(inputs.FEAR_GREED)) is not None
    again, _ = evaluate(bot)  # the next one reads the table: nothing there
    assert again[WHALE] == ("fail_open", "whale_flow: MISSING")


# --- Parameters ---------------------------------------------------------------------------------

HOLD_INPUTS = (inputs.LIQUIDATION, inputs.MAX_PAIN)


def expected_effects(name):
    """(guard failing open, reason prefix) or None; and whether min-hold lists the problem."""
    for guard, names in ((c.name, c.parameter_names) for c in GUARDS.values()):
        if name in names:
            return (guard, ""), False
    for kind in inputs.TTL_SECONDS:
        if name == ttl_parameter(kind):
            return ((GUARD_OF[kind], f"{kind}: ") if kind in GUARD_OF else None), kind in HOLD_INPUTS
    return None, name in HOLD_PARAMS


MALFORMED = {
    "a string": "abc",
    "JSON null": None,
    "a list": [1, 2],
    "huge": 10**400,
    "NaN-ish string": "NaN",
    "an object": {"value": 1},
}
DAMAGE = [(name, "missing", None) for name in DEFAULTS] + [
    (name, label, value) for name in DEFAULTS for label, value in MALFORMED.items() if name != "guard_order"
]


def damage(name, how, value):
    rows = ParameterVersion.objects.filter(parameter=name, status="ACTIVE")
    if how == "missing":
        rows.update(status="SUPERSEDED")
    else:
        rows.update(value=models.Value(value, output_field=models.JSONField()))
    cache.clear()
    return "PARAMETER_MISSING" if how == "missing" else "PARAMETER_INVALID"


@pytest.mark.parametrize("name, how, value", DAMAGE, ids=[f"{n}-{h}" for n, h, _ in DAMAGE])
def test_damaged_parameter_fails_open_what_needs_it(bot, market, name, how, value):
    code = damage(name, how, value)
    problem = f"{code} ({name}" + (")" if how == "missing" else ": ")
    chain_effect, hold_listed = expected_effects(name)
    decisions, signal_id = evaluate(bot)
    if chain_effect is None:
        assert {d for d, _ in decisions.values()} == {"allow"}
    else:
        guard, prefix = chain_effect
        assert_only_failed_open(decisions, guard, prefix + problem)
        stamped = GuardEvent.objects.get(evaluation__signal_id=signal_id, guard=guard).parameters
        if name in stamped:
            assert stamped[name]["value"] is None and stamped[name]["problem"].startswith(problem)
    answer = ask_min_hold(bot)
    assert any(p.startswith(problem) or f": {problem}" in p for p in answer["fail_open"]) is hold_listed
    if hold_listed:
        assert GuardEvent.objects.filter(event_type="GUARD_FAIL_OPEN", guard="LIQ_MAGNET").exists()


@pytest.mark.parametrize("value", [None, "abc", [], ["WHALE_INTENT_FILTER", "WHALE_INTENT_FILTER"], ["NO_SUCH"]])
def test_unusable_guard_order_runs_the_default_order_and_says_so(bot, market, value):
    damage("guard_order", "malformed", value)
    decisions, signal_id = evaluate(bot)
    assert list(decisions) == DEFAULTS["guard_order"]
    assert {d for d, _ in decisions.values()} == {"allow"}
    for event in GuardEvent.objects.filter(evaluation__signal_id=signal_id):
        assert event.parameters["guard_order"]["problem"].startswith("PARAMETER_INVALID (guard_order: ")


def test_missing_guard_order_runs_the_default_order(bot, market):
    damage("guard_order", "missing", None)
    decisions, signal_id = evaluate(bot)
    assert list(decisions) == DEFAULTS["guard_order"] and {d for d, _ in decisions.values()} == {"allow"}
    event = GuardEvent.objects.filter(evaluation__signal_id=signal_id).first()
    assert event.parameters["guard_order"] == {
        "value": None,
        "version": 0,
        "problem": "PARAMETER_MISSING (guard_order)",
    }


@pytest.mark.parametrize(
    "name, reason, minutes",
    [
        ("liq_magnet_hold_minutes", "MAX_PAIN_FAR", 75),  # the magnet rule is passed over
        ("cluster_window_pct", "MAX_PAIN_FAR", 75),
        ("true_trend_hold_minutes", "LIQ_CLUSTER", 90),  # higher rules still apply
        ("max_pain_hold_minutes", "LIQ_CLUSTER", 90),
    ],
)
def test_damaged_hold_parameter_passes_its_rule_over(bot, market, name, reason, minutes):
    damage(name, "missing", None)
    answer = ask_min_hold(bot)
    assert (answer["reason"], answer["min_hold_seconds"]) == (reason, minutes * 60)
    assert answer["fail_open"] == [f"PARAMETER_MISSING ({name})"]


def test_without_a_standard_hold_a_true_trend_position_gets_the_strategy_default(bot, db):
    damage("true_trend_hold_minutes", "malformed", "abc")
    answer = ask_min_hold(bot)  # no market data either
    assert (answer["reason"], answer["min_hold_seconds"]) == ("DEFAULT", 0)


@pytest.mark.parametrize("kind", [inputs.WHALE_FLOW, inputs.TAKER_FLOW, inputs.FEAR_GREED])
def test_a_snapshot_dated_in_the_future_never_looks_fresh(bot, market, kind):
    MarketSnapshot.objects.filter(id=market[kind].id).update(fetched_at=timezone.now() + timedelta(days=365))
    cache.clear()
    decisions, _ = evaluate(bot)
    assert_only_failed_open(decisions, GUARD_OF[kind], f"{kind}: FROM_THE_FUTURE (dated ")
