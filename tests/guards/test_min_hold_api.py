"""POST /api/v1/positions/min-hold (SPEC §4) on PostgreSQL: priorities, boundaries, events, tracking."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guards.domain import inputs
from guards.intel.snapshots import store_snapshot
from guards.models import GuardEvent, InputAvailability, Position

pytestmark = pytest.mark.django_db
URL = "/api/v1/positions/min-hold"


def store_clusters(*clusters, age=10, source="coinglass"):
    derived = {"current_price": "100", "clusters": [{"price": p, "intensity": i} for p, i in clusters], "top": []}
    store_snapshot(
        symbol="BTCUSDT",
        kind=inputs.LIQUIDATION,
        ttl_seconds=inputs.TTL_SECONDS[inputs.LIQUIDATION],
        source=source,
        fetched_at=timezone.now() - timedelta(seconds=age),
        derived=derived,
        raw={},
    )


def store_max_pain(price, age=10):
    store_snapshot(
        symbol="BTCUSDT",
        kind=inputs.MAX_PAIN,
        ttl_seconds=inputs.TTL_SECONDS[inputs.MAX_PAIN],
        source="coinglass",
        raw={},
        fetched_at=timezone.now() - timedelta(seconds=age),
        derived={"max_pain_price": price, "expiry": "2026-11-27"},
    )


def ask(bot, direction="LONG", entry=100, current=100, strategy="TRUE_TREND", **extra):
    body = {
        "symbol": "BTCUSDT",
        "direction": direction,
        "strategy": strategy,
        "entry_price": entry,
        "current_price": current,
        "opened_at": "2026-11-24T10:00:00Z",
        **extra,
    }
    response = bot(URL, body)
    assert response.status_code == 200, response.content
    return response.json()


def test_long_moving_toward_a_short_cluster_holds_90_minutes(bot):
    store_clusters(("102", "5000000"), ("90", "9000000"))
    answer = ask(bot, "LONG")
    assert (answer["min_hold_seconds"], answer["reason"]) == (5400, "LIQ_CLUSTER")
    assert answer["cluster"] == {"price": 102.0, "distance_pct": 2.0, "side": "SHORT", "intensity": 5000000.0}
    assert answer["hold_until"] == "2026-11-24T11:30:00Z"
    assert answer["protective_exits_allowed"] is True and "Stop-loss" in answer["note"]
    event = GuardEvent.objects.get(event_type="LIQ_MAGNET")
    assert event.decision == "LIQ_CLUSTER" and event.inputs["top_clusters"][0]["side"] == "SHORT"
    assert event.parameters["liq_magnet_hold_minutes"] == {"value": 90, "version": 1}


def test_answer_says_where_its_inputs_came_from(bot):
    store_clusters(("102", "5000000"), source="simulated")
    store_max_pain("100")
    assert ask(bot)["sources"] == {inputs.LIQUIDATION: "simulated", inputs.MAX_PAIN: "coinglass"}


@pytest.mark.parametrize("price, reason", [("103", "LIQ_CLUSTER"), ("103.01", "TRUE_TREND")])
def test_cluster_exactly_3pct_away_counts_and_3_01_does_not(bot, price, reason):
    store_clusters((price, "1000"))
    assert ask(bot, "LONG")["reason"] == reason


def test_cluster_behind_the_entry_does_not_extend_the_hold(bot):
    store_clusters(("101", "1000"))
    answer = ask(bot, "LONG", entry=102, current=100)
    assert (answer["reason"], answer["min_hold_seconds"], answer["cluster"]) == ("TRUE_TREND", 2700, None)


def test_max_pain_far_in_favour_holds_75_minutes(bot):
    store_clusters(("90", "1000"))
    store_max_pain("105")
    assert ask(bot, "LONG")["reason"] == "MAX_PAIN_FAR"
    assert ask(bot, "SHORT")["reason"] == "TRUE_TREND"


def test_other_strategies_get_the_default(bot):
    store_clusters(("102", "1000"))
    answer = ask(bot, strategy="GRID")
    assert (answer["reason"], answer["min_hold_seconds"], answer["hold_until"]) == (
        "DEFAULT",
        0,
        "2026-11-24T10:00:00Z",
    )


def test_heatmap_not_in_plan_fails_open_with_that_reason(bot):
    InputAvailability.objects.create(
        kind=inputs.LIQUIDATION,
        source="coinglass",
        plan_required="PROFESSIONAL",
        detected_at=timezone.now(),
        recheck_after=timezone.now() + timedelta(hours=1),
    )
    store_max_pain("100")
    answer = ask(bot, "LONG")
    assert answer["reason"] == "TRUE_TREND"
    assert answer["fail_open"] == ["liquidation_heatmap: NOT_IN_PLAN (needs PROFESSIONAL)"]
    assert GuardEvent.objects.filter(
        event_type="GUARD_FAIL_OPEN", guard="LIQ_MAGNET", reason__contains="NOT_IN_PLAN"
    ).exists()


def test_stale_heatmap_fails_open(bot):
    store_clusters(("102", "1000"), age=601)
    answer = ask(bot, "LONG")
    assert answer["reason"] == "TRUE_TREND" and "STALE" in answer["fail_open"][0]


def test_position_is_tracked_until_its_trade_arrives(bot):
    store_clusters(("102", "1000"))
    ask(bot, "LONG", position_id="p-1")
    position = Position.objects.get(position_id="p-1")
    assert position.is_open and position.hold_reason == "LIQ_CLUSTER" and position.min_hold_seconds == 5400
    ask(bot, "LONG", current=101, position_id="p-1")
    assert Position.objects.get(position_id="p-1").current_price == 101
    bot(
        "/api/v1/trades",
        {
            "trade_id": "p-1",
            "symbol": "BTCUSDT",
            "direction": "LONG",
            "size": 1,
            "entry_price": 100,
            "exit_price": 101,
            "opened_at": "2026-11-24T10:00:00Z",
            "closed_at": "2026-11-24T12:00:00Z",
            "pnl": 1,
        },
    )
    assert Position.objects.get(position_id="p-1").is_open is False


@pytest.mark.parametrize(
    "override, field",
    [
        ({"strategy": ""}, "strategy"),
        ({"entry_price": 0}, "entry_price"),
        ({"opened_at": "noon"}, "opened_at"),
        ({"current_price": None}, "current_price"),
        ({"direction": "long"}, "direction"),
        ({"position_id": "p\u0000"}, "position_id"),
        ({"opened_at": "9999-12-31T23:59:59Z"}, "opened_at"),  # the hold would run past the calendar
        ({"opened_at": "0001-01-01T00:00:00+05:00"}, "opened_at"),
        ({"current_price": True}, "current_price"),
        ({"strategy": "\t"}, "strategy"),  # issue 7: a tab is a control character
        ({"opened_at": "2000-01-01T00:00:00Z"}, "opened_at"),  # issue 7: before 2009
        ({"opened_at": "2008-12-31T23:59:59.999999Z"}, "opened_at"),
        ({"opened_at": "2100-01-01T00:00:00Z"}, "opened_at"),
        ({"opened_at": "2026-11-24T10:00:00"}, "opened_at"),  # no timezone
        ({"opened_at": "2026-11-24 10:00:00Z"}, "opened_at"),  # not RFC 3339, as the schema states
        ({"opened_at": 1764000000}, "opened_at"),  # a Unix time is not a time string
    ],
)
def test_invalid_min_hold_is_400_naming_the_field(bot, override, field):
    body = {
        "symbol": "BTCUSDT",
        "direction": "LONG",
        "strategy": "TRUE_TREND",
        "entry_price": 100,
        "current_price": 100,
        "opened_at": "2026-11-24T10:00:00Z",
    } | override
    response = bot(URL, body)
    assert response.status_code == 400 and response.json()["field"] == field


@pytest.mark.parametrize(
    "opened_at",
    ["2009-01-01T00:00:00Z", "2009-01-01T00:30:00+01:00", "2099-12-31T23:59:59-05:00", "2026-11-24t10:00:00z"],
)
def test_every_time_the_schema_allows_is_accepted(bot, opened_at):
    """The years 2009 to 2099 as written, in RFC 3339 (issue 7: the schema and the server agree)."""
    assert ask(bot, opened_at=opened_at)["min_hold_seconds"] > 0
