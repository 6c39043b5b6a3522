"""CoinGlass inputs end to end against a fake CoinGlass on 127.0.0.1: every variant and fault.

Each fault: no exception escapes the fetch, the last good snapshot stays, a data-health
record names the reason, and the API key never appears in a log line or a message.
"""

import logging
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from guards import selectors
from guards.domain import inputs
from guards.intel import ingest
from guards.marketdata.coinglass import PATHS
from guards.marketdata.limiter import get_limiter
from guards.models import DataHealthEvent, InputAvailability, MarketSnapshot, SourcePlan
from tests.fakes.coinglass import TEST_KEY, UPGRADE_PLAN, heatmap_data

pytestmark = pytest.mark.django_db
PATH_OF = {
    inputs.LIQUIDATION: PATHS["heatmap"],
    inputs.FEAR_GREED: PATHS["fear_greed"],
    inputs.TAKER_FLOW: PATHS["taker"],
    inputs.MAX_PAIN: PATHS["max_pain"],
}


def fetch(kind, symbol="BTCUSDT", force=True):
    symbol = inputs.MARKET_WIDE_SYMBOL if kind in inputs.MARKET_WIDE else symbol
    return ingest.fetch_one(kind=kind, symbol=symbol, now=timezone.now(), force=force)


def latest(kind, symbol="BTCUSDT"):
    symbol = inputs.MARKET_WIDE_SYMBOL if kind in inputs.MARKET_WIDE else symbol
    return MarketSnapshot.objects.filter(kind=kind, symbol=symbol).order_by("-id").first()


def test_every_input_ingested_with_the_key_header(fake_coinglass):
    for kind in PATH_OF:
        assert fetch(kind) == ("ok", "")
    assert all(r["headers"].get("CG-API-KEY") == TEST_KEY for r in fake_coinglass.requests)
    assert fake_coinglass.calls(PATHS["heatmap"])[0]["query"] == {"symbol": "BTC", "range": "3d"}
    assert latest(inputs.FEAR_GREED).derived["value"] == "81"
    share = Decimal("1112108532.17") / (Decimal("1112108532.17") + Decimal("1068220541.04"))
    assert latest(inputs.TAKER_FLOW).derived == {"buy_share": str(share), "range": "1h"}
    assert latest(inputs.MAX_PAIN).derived == {"max_pain_price": str(int(97000 * 1.06)), "expiry": "2035-12-30"}
    y = heatmap_data("BTC")["y_axis"]  # rows 70+71 merge (2.51M + 1.51M); row 30 (1.81M); row 90 is 4% away
    merged = (Decimal(str(y[70])) * Decimal("2510000") + Decimal(str(y[71])) * Decimal("1510000")) / Decimal("4020000")
    top = latest(inputs.LIQUIDATION).derived["top"]
    assert [(t["side"], Decimal(t["price"])) for t in top] == [
        ("SHORT", merged.quantize(Decimal("0.00000001"))),
        ("LONG", Decimal(str(y[30]))),
    ]
    assert [t["intensity"] for t in top] == ["4020000.0", "1810000.0"]


def test_fetch_intel_ingests_both_symbols_then_a_second_call_makes_no_request(fake_coinglass, fake_binance):
    first = ingest.fetch_intel(symbols=["BTCUSDT", "ETHUSDT"], now=timezone.now())
    assert {(s, k) for s, k, o, _ in first.outcomes if o == "ok" and k in PATH_OF} == {
        (s, k) for s in ("BTCUSDT", "ETHUSDT") for k in PATH_OF if k not in inputs.MARKET_WIDE
    } | {("*", inputs.FEAR_GREED)}
    calls = len(fake_coinglass.requests), len(fake_binance.requests)
    second = ingest.fetch_intel(symbols=["BTCUSDT", "ETHUSDT"], now=timezone.now())
    assert (len(fake_coinglass.requests), len(fake_binance.requests)) == calls
    assert {o for *_, o, _ in first.outcomes} == {"ok"}
    assert {o for *_, o, _ in second.outcomes} == {"cached"}


def test_fear_greed_in_the_production_client_wrapping(fake_coinglass):
    fake_coinglass.respond(
        PATHS["fear_greed"],
        body={
            "code": "0",
            "data": {"data_list": ["40", "85.5"], "price_list": [1, 2], "time_list": [1733184000000, 1733097600000]},
        },
    )
    assert fetch(inputs.FEAR_GREED) == ("ok", "")
    assert latest(inputs.FEAR_GREED).derived["value"] == "40"  # the greatest time wins, ms or s


@pytest.mark.parametrize("status", [200, 401])
def test_upgrade_plan_is_a_visible_state_not_retried_every_cycle(fake_coinglass, status):
    fake_coinglass.always(PATHS["heatmap"], status=status, body=UPGRADE_PLAN)
    assert fetch(inputs.LIQUIDATION) == ("not_in_plan", "NOT_IN_PLAN")
    state = InputAvailability.objects.get(kind=inputs.LIQUIDATION)
    assert state.plan_required == "PROFESSIONAL"
    calls = len(fake_coinglass.calls(PATHS["heatmap"]))
    assert fetch(inputs.LIQUIDATION, force=False) == ("not_in_plan", "NOT_IN_PLAN")
    assert len(fake_coinglass.calls(PATHS["heatmap"])) == calls
    intel = selectors.intel_for(symbol="BTCUSDT", params=selectors.active_parameters(), kinds=(inputs.LIQUIDATION,))
    assert (
        intel.unusable((inputs.LIQUIDATION,), timezone.now()) == "liquidation_heatmap: NOT_IN_PLAN (needs PROFESSIONAL)"
    )


FAULTS = [
    ("429", dict(status=429, body={"code": "429", "msg": "Too Many Requests"}), "rate_limited", "RATE_LIMITED"),
    ("429 retry-after", dict(status=429, body="", headers={"Retry-After": "1"}), "rate_limited", "RATE_LIMITED"),
    ("code 50001", dict(body={"code": "50001", "msg": "rate limit"}), "rate_limited", "RATE_LIMITED"),
    ("500", dict(status=500, body={"code": "500", "msg": "Internal"}), "failed", "UPSTREAM_ERROR"),
    ("html", dict(body="<html><body>Cloudflare</body></html>"), "failed", "MALFORMED"),
    ("invalid json", dict(body='{"code": "0", "data": [1, 2'), "failed", "MALFORMED"),
    ("code not 0", dict(body={"code": "40001", "msg": "something else"}), "failed", "API_ERROR"),
    ("empty data list", dict(body={"code": "0", "msg": "success", "data": []}), "failed", "EMPTY_DATA"),
    ("null data", dict(body={"code": "0", "msg": "success", "data": None}), "failed", "EMPTY_DATA"),
    ("missing fields", dict(body={"code": "0", "data": {"y_axis": [1, 2]}}), "failed", "MALFORMED"),
    ("key missing", dict(status=400, body={"code": "400", "msg": "API key missing."}), "failed", "AUTH_FAILED"),
    ("bad key", dict(status=401, body={"code": "401", "msg": "Invalid API key provided"}), "failed", "AUTH_FAILED"),
    ("old key code", dict(body={"code": "30001", "msg": "key missing"}), "failed", "AUTH_FAILED"),
    ("not found", dict(status=404, body={"code": "404", "msg": "Endpoint not found"}), "failed", "NOT_FOUND"),
    ("bad params", dict(status=422, body={"code": "422", "msg": "bad range"}), "failed", "BAD_PARAMETERS"),
    ("NaN in data", dict(body='{"code": "0", "data": {"y_axis": [NaN]}}'), "failed", "MALFORMED"),
]


@pytest.mark.parametrize("name, answer, outcome, reason", FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_keeps_last_good_snapshot_and_names_the_reason(fake_coinglass, caplog, name, answer, outcome, reason):
    caplog.set_level(logging.DEBUG)
    assert fetch(inputs.LIQUIDATION) == ("ok", "")
    good = latest(inputs.LIQUIDATION)
    fake_coinglass.always(PATHS["heatmap"], **answer)
    assert fetch(inputs.LIQUIDATION) == (outcome, reason)
    assert latest(inputs.LIQUIDATION).id == good.id
    health = DataHealthEvent.objects.filter(kind=inputs.LIQUIDATION).latest("id")
    assert (health.outcome, health.reason_code) == (outcome, reason)
    assert TEST_KEY not in caplog.text and TEST_KEY not in health.detail


def test_timeout_is_a_reason_not_an_exception(fake_coinglass, settings):
    settings.HTTP_READ_TIMEOUT_SECONDS = 0.3
    fake_coinglass.always(PATHS["fear_greed"], body={"code": "0", "data": []}, delay=1.0)
    assert fetch(inputs.FEAR_GREED) == ("failed", "TIMEOUT")


def test_malformed_heatmap_cells_are_rejected(fake_coinglass):
    data = {
        "y_axis": [1.0, 2.0],
        "liquidation_leverage_data": [[0, 5, 1000.0]],
        "price_candlesticks": [[1722676500, "1", "2", "1", "1.5", "10"]],
    }
    fake_coinglass.respond(PATHS["heatmap"], body={"code": "0", "data": data})
    assert fetch(inputs.LIQUIDATION) == ("failed", "MALFORMED")


def test_plan_is_learned_and_max_limit_header_followed(fake_coinglass, fake_binance):
    fake_coinglass.max_limit_header = "80"
    ingest.fetch_intel(symbols=["BTCUSDT"], now=timezone.now())
    plan = SourcePlan.objects.get(source="coinglass")
    assert plan.level == "HOBBYIST" and plan.calls_per_minute == 80
    assert get_limiter().usage("coinglass")["limit_per_minute"] == 80


def test_known_plan_sets_the_limiters_budget(fake_coinglass, fake_binance):
    fake_coinglass.always(PATHS["subscription"], body={"code": "0", "data": {"level": "STARTUP", "expired": False}})
    ingest.fetch_intel(symbols=["BTCUSDT"], now=timezone.now())
    assert SourcePlan.objects.get(source="coinglass").calls_per_minute == 80
    assert get_limiter().usage("coinglass")["limit_per_minute"] == 80


def test_key_is_never_in_the_client_repr(settings):
    from guards.marketdata.coinglass import CoinGlassClient

    assert TEST_KEY not in repr(CoinGlassClient("http://127.0.0.1:9", TEST_KEY))


def test_failed_plan_lookup_is_not_repeated_on_every_fetch(fake_coinglass, fake_binance):
    fake_coinglass.always(PATHS["subscription"], status=404, body={"code": "404", "msg": "Endpoint not found"})
    ingest.fetch_intel(symbols=["BTCUSDT"], now=timezone.now())
    ingest.fetch_intel(symbols=["BTCUSDT"], now=timezone.now(), force=True)
    assert len(fake_coinglass.calls(PATHS["subscription"])) == 1
    assert SourcePlan.objects.get(source="coinglass").level == ""


@pytest.mark.parametrize(
    "buy_usd, sell_usd, direction, blocked",
    [
        ("39999996", "60000004", "LONG", True),  # share 0.39999996: below 0.40 even though it rounds to it
        ("40000000", "60000000", "LONG", False),  # exactly 0.40 allows
        ("60000004", "39999996", "SHORT", True),  # 0.60000004 is above 1 - 0.40
    ],
)
def test_taker_share_is_judged_exactly_not_rounded(fake_coinglass, bot, buy_usd, sell_usd, direction, blocked):
    fake_coinglass.always(
        PATHS["taker"], body={"code": "0", "data": {"symbol": "BTC", "buy_vol_usd": buy_usd, "sell_vol_usd": sell_usd}}
    )
    assert fetch(inputs.TAKER_FLOW) == ("ok", "")
    body = bot("/api/v1/signals/evaluate", {"symbol": "BTCUSDT", "direction": direction, "base_size": 100}).json()
    taker = body["guards"][0]
    assert taker["guard"] == "TAKER_AGGRESSION"
    assert (body["blocked_by"] == "TAKER_AGGRESSION") is blocked
    assert Decimal(taker["data"]["taker_buy_share"]) == Decimal(buy_usd) / (Decimal(buy_usd) + Decimal(sell_usd))


def test_a_long_binance_ban_fails_its_fetches_at_once_and_coinglass_goes_on(fake_coinglass, fake_binance):
    get_limiter().penalize("binance", 7200)  # a 418 said Retry-After: 7200
    penalized_until = get_limiter().usage("binance")["penalized_until"]
    report = ingest.fetch_intel(symbols=["BTCUSDT"], now=timezone.now())
    outcomes = {k: (o, r) for _, k, o, r in report.outcomes}
    assert outcomes[inputs.WHALE_FLOW] == outcomes[inputs.PRICE_BARS] == ("rate_limited", "RATE_LIMITED")
    assert fake_binance.requests == []  # nothing sent while banned
    assert all(outcomes[k] == ("ok", "") for k in PATH_OF)  # not held up behind the ban
    assert get_limiter().usage("binance")["penalized_until"] == pytest.approx(penalized_until, abs=1)  # not extended
    health = DataHealthEvent.objects.get(kind=inputs.WHALE_FLOW)
    assert "busy for 7200 s" in health.detail


def test_live_without_a_key_fetches_binance_and_never_calls_coinglass(fake_coinglass, fake_binance, settings, bot):
    settings.COINGLASS_API_KEY = ""
    report = ingest.fetch_intel(symbols=["BTCUSDT"], now=timezone.now())
    outcomes = {k: (o, r) for _, k, o, r in report.outcomes}
    assert fake_coinglass.requests == []  # no call with an empty key
    assert all(outcomes[k] == ("failed", "NOT_CONFIGURED") for k in PATH_OF)
    assert outcomes[inputs.PRICE_BARS] == ("ok", "")
    body = bot("/api/v1/signals/evaluate", {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1}).json()
    taker = body["guards"][0]
    assert taker["decision"] == "fail_open" and "NOT_CONFIGURED" in taker["reason"]


@pytest.mark.parametrize(
    "retry_after, low, high",
    [
        ("7", 6.5, 7.1),  # honoured
        ("-30", 1.0, 60.1),  # unusable: wait for the next minute, as with no header
        ("nan", 1.0, 60.1),
        ("1e12", 3 * 86_400 - 1, 3 * 86_400 + 1),  # capped at three days
        ("Wed, 21 Oct 2099 07:28:00 GMT", 3 * 86_400 - 1, 3 * 86_400 + 1),  # an HTTP date, capped
    ],
)
def test_retry_after_is_honoured_within_sane_bounds(fake_coinglass, retry_after, low, high):
    fake_coinglass.always(PATHS["heatmap"], status=429, body={"code": "429"}, headers={"Retry-After": retry_after})
    assert fetch(inputs.LIQUIDATION) == ("rate_limited", "RATE_LIMITED")
    until = get_limiter().usage("coinglass")["penalized_until"]
    assert until is not None and low <= until - time.time() <= high


@pytest.mark.parametrize("header", ["-1", "3000000000", "nan", "80.5", "lots"])
def test_an_unbelievable_max_limit_header_is_ignored_and_the_answer_kept(fake_coinglass, header):
    fake_coinglass.max_limit_header = header
    assert fetch(inputs.FEAR_GREED) == ("ok", "")
    assert latest(inputs.FEAR_GREED).derived["value"] == "81"
    assert get_limiter().usage("coinglass")["limit_per_minute"] == settings_calls_per_minute()


def settings_calls_per_minute():
    from django.conf import settings

    return settings.COINGLASS_CALLS_PER_MINUTE


def test_a_task_out_of_time_records_a_timeout_and_still_ends(fake_coinglass):
    from celery.exceptions import SoftTimeLimitExceeded

    from guards.marketdata.sources import get_market

    def slow_fetch():
        raise SoftTimeLimitExceeded()

    with pytest.raises(SoftTimeLimitExceeded):
        ingest.run_fetch(
            market=get_market(), symbol="BTCUSDT", kind=inputs.MAX_PAIN, now=timezone.now(), fetch=slow_fetch
        )
    health = DataHealthEvent.objects.get(kind=inputs.MAX_PAIN)
    assert (health.outcome, health.reason_code) == ("failed", "TIMEOUT")


def test_rate_limited_plan_lookup_backs_off(fake_coinglass):
    fake_coinglass.always(PATHS["subscription"], status=429, body={"code": "429"}, headers={"Retry-After": "30"})
    from guards.marketdata.sources import get_market

    ingest.refresh_plan(market=get_market(), now=timezone.now())
    assert get_limiter().usage("coinglass")["penalized_until"] is not None


def test_an_expired_subscription_is_recorded_as_such(fake_coinglass):
    fake_coinglass.always(
        PATHS["subscription"], body={"code": "0", "data": {"level": "PROFESSIONAL", "expire_time": 1, "expired": True}}
    )
    from guards.marketdata.sources import get_market

    plan = ingest.refresh_plan(market=get_market(), now=timezone.now())
    assert plan.level == "PROFESSIONAL EXPIRED" and plan.calls_per_minute is None


@pytest.mark.parametrize("name, answer, outcome, reason", FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_through_the_beat_task_raises_nothing(fake_coinglass, name, answer, outcome, reason):
    """The entry point beat runs (called directly: the real code, synchronously)."""
    from guards.tasks import fetch_input as fetch_input_task

    assert fetch_input_task(kind=inputs.LIQUIDATION, symbol="BTCUSDT", force=True)["outcome"] == "ok"
    good = latest(inputs.LIQUIDATION)
    fake_coinglass.always(PATHS["heatmap"], **answer)
    result = fetch_input_task(kind=inputs.LIQUIDATION, symbol="BTCUSDT", force=True)
    assert (result["outcome"], result["reason"]) == (outcome, reason)
    assert latest(inputs.LIQUIDATION).id == good.id


def test_a_redirect_is_not_followed_so_the_key_goes_nowhere_else(fake_coinglass, fake_binance):
    elsewhere = f"{fake_binance.url}/collect"  # another server: it must never see the key
    fake_coinglass.always(PATHS["fear_greed"], status=302, body="", headers={"Location": elsewhere})
    assert fetch(inputs.FEAR_GREED) == ("failed", "REDIRECTED")
    assert not [r for r in fake_binance.requests if "CG-API-KEY" in r["headers"]]
    assert len(fake_coinglass.calls(PATHS["fear_greed"])) == 1  # not retried either
