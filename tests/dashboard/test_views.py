"""Dashboard pages and panels through Django's test client: login, symbols, every panel with an
empty database and with data."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from dashboard.panels import PANELS
from guards.domain import inputs
from guards.events import DataOutcome
from guards.models import DataHealthEvent, InputAvailability
from tests.dashboard.builders import diverging_flow, hold_request, store_flow, store_heatmap, store_price
from tests.intel import store_input

pytestmark = pytest.mark.django_db

PAGES = ["/", "/health/"]
PANEL_URLS = [f"/panels/{name}/" for name in PANELS]


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_user("watcher", password="a-long-Passw0rd", is_staff=True)
    client.force_login(user)
    return user


@pytest.mark.parametrize("url", PAGES + PANEL_URLS)
def test_anonymous_visitor_is_sent_to_the_admin_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")
    assert "BTCUSDT" not in response.content.decode()


def test_a_panel_poll_after_logout_sends_the_whole_page_to_the_login(client):
    response = client.get(
        "/panels/cvd/", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/?symbol=ETHUSDT"}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/admin/login/?next=/%3Fsymbol%3DETHUSDT"


EMPTY = {
    "/": "no whale flow the guards can use for BTCUSDT",
    "/health/": "No failed fetch in the last 24 hours",
    "/panels/cvd/": "No usable flow",
    "/panels/magnet/": "No current price for BTCUSDT",
    "/panels/positions/": "No open position on BTCUSDT",
    "/panels/inputs/": "11 inputs the guards ignore",
    "/panels/failures/": "No failed fetch in the last 24 hours",
    "/panels/plan/": "Every input is included in the key",
    "/panels/limits/": "0 / 30 calls (0%)",
}


@pytest.fixture(autouse=True)
def _shipped_budgets(settings):
    """The budgets an operator gets (the test settings raise them for the other tests)."""
    settings.COINGLASS_CALLS_PER_MINUTE, settings.COINGLASS_MIN_INTERVAL_SECONDS = 30, 2.5
    settings.BINANCE_WEIGHT_PER_MINUTE = 1200


def panel(name, symbol="BTCUSDT"):
    """A panel's context, as its view builds it."""
    return PANELS[name].build(symbol=symbol, now=timezone.now())


def test_every_panel_has_an_empty_state():
    assert set(EMPTY) == set(PAGES + PANEL_URLS)


@pytest.mark.parametrize("url", PAGES + PANEL_URLS)
def test_every_page_and_panel_renders_with_an_empty_database(client, operator, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert EMPTY[url] in html
    assert "SPEC" not in html


@pytest.mark.parametrize("url", ["/", "/panels/cvd/", "/panels/magnet/", "/panels/positions/"])
@pytest.mark.parametrize("symbol", ["DOGEUSDT", "btc-usdt", "x" * 40])
def test_a_symbol_not_watched_is_a_400_that_names_the_choices(client, operator, url, symbol):
    response = client.get(url, {"symbol": symbol})
    assert response.status_code == 400
    html = response.content.decode()
    assert "symbol:" in html
    if symbol == "DOGEUSDT":
        assert "DOGEUSDT is not watched here; choose one of BTCUSDT, ETHUSDT" in html


def test_the_symbol_is_read_in_any_case(client, operator):
    response = client.get("/", {"symbol": "ethusdt"})
    assert response.status_code == 200
    assert response.context["symbol"] == "ETHUSDT"


def test_an_unknown_panel_is_404(client, operator):
    assert client.get("/panels/nothing/").status_code == 404


def test_the_overview_has_the_navigation_and_the_symbol_switcher(client, operator):
    html = client.get("/").content.decode()
    for href in ('href="/"', 'href="/audit/"', 'href="/what-if/"', 'href="/health/"'):
        assert href in html
    assert 'href="?symbol=ETHUSDT"' in html
    assert "simulated data" in html  # MARKET_DATA=simulated in the tests


def test_cvd_panel_shows_a_divergence_with_its_warning(client, operator):
    diverging_flow()
    cvd = panel("cvd")
    assert cvd["divergent"] is True
    assert cvd["chart"]["datasets"][0]["data"] == [0.0, 500000.0, 60000.0, 0.0]
    response = client.get("/panels/cvd/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="cvd-divergence-warning"' in html
    assert "whales are net selling (-$500,000)" in html and "retail is net buying (+$60,000)" in html
    assert "$100,000" in html and "version 1" in html
    assert "simulated data" in html  # the snapshot came from the simulator
    assert "<canvas" not in html  # the chart's canvas is outside the polled fragment


def test_cvd_panel_without_divergence_has_no_warning(client, operator):
    store_flow([300_000, 20_000])
    html = client.get("/panels/cvd/").content.decode()
    assert '<dd id="divergence-status">Aligned</dd>' in html
    assert "cvd-divergence-warning" not in html


def test_stale_flow_is_shown_red_with_the_guards_reason(client, operator):
    diverging_flow(age_seconds=601)  # TTL 300 s: the guards stop trusting it past 600 s
    html = client.get("/panels/cvd/").content.decode()
    assert "age-stale" in html and "STALE (601s old, limit 600s)" in html


def test_flow_exactly_twice_its_ttl_old_is_still_trusted(client, operator):
    diverging_flow(age_seconds=590)
    html = client.get("/panels/cvd/").content.decode()
    assert "age-stale" not in html and "flow 9 min old" in html


def test_magnet_panel_shows_nearest_and_top_two_clusters_from_the_latest_price(client, operator):
    store_price("100000")
    store_heatmap([("101000", "9000000"), ("98500", "5000000"), ("102500", "7000000"), ("110000", "99000000")])
    magnet = panel("magnet")
    view = magnet["view"]
    assert [(str(c.side), c.price) for c in view.top] == [("SHORT", 101000), ("SHORT", 102500)]
    assert (str(view.nearest.side), view.nearest.price, view.nearest.distance_pct) == ("SHORT", 101000, 1)
    chart = magnet["chart"]
    assert chart["labels"] == ["98,500", "101,000", "102,500"]  # within ±6% of the price
    assert chart["datasets"][0]["backgroundColor"] == ["#2e7d32", "#c62828", "#c62828"]
    assert (chart["priceIndex"], chart["priceLabel"]) == (0.5, "price 100,000.00")  # between the first two bars
    html = client.get("/panels/magnet/").content.decode()
    assert "1.00%" in html and "SHORT</span> at 101,000.00" in html


def test_magnet_panel_without_a_price_says_distances_cannot_be_measured(client, operator):
    store_heatmap([("101000", "9000000")])
    html = client.get("/panels/magnet/").content.decode()
    assert "No current price for BTCUSDT" in html


def test_positions_panel_shows_the_hold_and_why_from_the_min_hold_events(client, operator, bot):
    store_price("100000")
    store_heatmap([("101000", "9000000"), ("97000", "1000000")])
    assert bot("/api/v1/positions/min-hold", hold_request("pos-1")).status_code == 200
    assert (
        bot("/api/v1/positions/min-hold", hold_request("pos-2", direction="SHORT", entry="101000")).status_code == 200
    )
    rows = {p["row"].position_id: p for p in panel("positions")["positions"]}
    assert rows["pos-1"]["row"].hold_reason == "LIQ_CLUSTER" and rows["pos-1"]["hold_minutes"] == 90
    assert rows["pos-1"]["reason"].startswith("moving toward SHORT liquidation cluster at 101000")
    assert rows["pos-1"]["ahead"].price == 101000
    assert rows["pos-2"]["ahead"].price == 97000
    html = client.get("/panels/positions/").content.decode()
    assert "pos-1" in html and "90 min" in html and "LIQ_CLUSTER" in html


def test_positions_panel_names_the_inputs_a_hold_ignored(client, operator, bot):
    assert bot("/api/v1/positions/min-hold", hold_request("pos-9")).status_code == 200
    position = panel("positions")["positions"][0]
    assert position["row"].hold_reason == "TRUE_TREND"
    assert "Liquidation heatmap: MISSING" in position["fail_open"]
    assert "decided without Liquidation heatmap: MISSING" in client.get("/panels/positions/").content.decode()


def test_positions_of_another_symbol_are_not_listed(client, operator, bot):
    assert bot("/api/v1/positions/min-hold", hold_request("pos-eth", symbol="ETHUSDT")).status_code == 200
    assert "pos-eth" not in client.get("/panels/positions/").content.decode()
    assert "pos-eth" in client.get("/panels/positions/", {"symbol": "ETHUSDT"}).content.decode()


def test_inputs_panel_lists_every_input_and_pair_with_its_last_attempt(client, operator):
    diverging_flow()
    store_input(inputs.FEAR_GREED, {"value": "55"}, age_seconds=1300)  # TTL 600 s: past 1200 s the guards ignore it
    DataHealthEvent.objects.create(
        symbol="BTCUSDT", kind=inputs.WHALE_FLOW, source="simulated", outcome=DataOutcome.OK, created_at=timezone.now()
    )
    inputs_panel = panel("inputs")
    rows = inputs_panel["rows"]
    assert len(rows) == 2 * 5 + 1  # five inputs per watched pair, Fear & Greed once
    flow = next(r for r in rows if r["label"] == "Whale and retail flow" and r["symbol"] == "BTCUSDT")
    assert flow["age"].trusted and flow["attempt"].outcome == "ok"
    fear = next(r for r in rows if r["label"] == "Fear & Greed")
    assert fear["symbol"] == "all pairs" and fear["age"].problem.startswith("STALE (1300s old")
    assert inputs_panel["stale_count"] == 10  # everything else is missing
    assert "10 inputs the guards ignore" in client.get("/panels/inputs/").content.decode()


def test_failures_panel_lists_recent_failures_with_reason_codes_newest_first(client, operator):
    now = timezone.now()
    for minutes, outcome, code in [(5, "failed", "HTTP_500"), (2, "rate_limited", "RATE_LIMITED"), (1, "ok", "")]:
        DataHealthEvent.objects.create(
            symbol="ETHUSDT",
            kind=inputs.TAKER_FLOW,
            source="coinglass",
            outcome=outcome,
            reason_code=code,
            created_at=now - timedelta(minutes=minutes),
        )
    DataHealthEvent.objects.create(
        symbol="*",
        kind=inputs.FEAR_GREED,
        source="coinglass",
        outcome="failed",
        reason_code="OLD",
        created_at=now - timedelta(days=2),
    )
    assert [f.reason_code for f in panel("failures")["failures"]] == ["RATE_LIMITED", "HTTP_500"]
    html = client.get("/panels/failures/").content.decode()
    assert html.index("RATE_LIMITED") < html.index("HTTP_500") and "OLD" not in html


def test_plan_panel_says_which_plan_an_input_needs(client, operator):
    now = timezone.now()
    InputAvailability.objects.create(
        kind=inputs.LIQUIDATION,
        source="coinglass",
        plan_required="PROFESSIONAL",
        current_plan="HOBBYIST",
        detected_at=now,
        recheck_after=now + timedelta(days=1),
    )
    html = client.get("/panels/plan/").content.decode()
    assert "Liquidation heatmap" in html and "PROFESSIONAL" in html and "HOBBYIST" in html


def test_limits_panel_reads_the_shared_limiter(client, operator):
    from guards.marketdata.limiter import get_limiter

    get_limiter().acquire("binance", weight=20)
    sources = {s["source"]: s for s in panel("limits")["sources"]}
    assert (sources["binance"]["used"], sources["binance"]["limit"]) == (20, 1200)
    assert sources["coinglass"]["used"] == 0 and sources["coinglass"]["min_interval_seconds"] == 2.5
    html = client.get("/panels/limits/").content.decode()
    assert "20 / 1,200 request weight (2%)" in html
    assert "The simulator makes no calls to the exchanges" in html  # MARKET_DATA=simulated


def test_panels_poll_only_while_the_tab_is_visible(client, operator):
    html = client.get("/").content.decode()
    triggers = [unescape(t) for t in re.findall(r'hx-trigger="([^"]+)"', html)]
    assert len(triggers) == 3
    visible = "[document.visibilityState === 'visible']"
    assert all(t == f"every 10s {visible}, visibilitychange from:document {visible}" for t in triggers)


def test_failures_panel_shows_the_newest_25(client, operator):
    now = timezone.now()
    DataHealthEvent.objects.bulk_create(
        DataHealthEvent(
            symbol=symbol,
            kind=inputs.MAX_PAIN,
            source="coinglass",
            outcome="failed",
            reason_code=f"E{minute:02d}",
            created_at=now - timedelta(minutes=minute),
        )
        for minute in range(20)
        for symbol in ("BTCUSDT", "ETHUSDT")
    )
    shown = panel("failures")["failures"]
    assert len(shown) == 25
    assert [f.created_at for f in shown] == sorted((f.created_at for f in shown), reverse=True)
    assert shown[-1].reason_code == "E12"


def test_every_panel_reads_what_the_simulator_pipeline_stores(client, operator):
    """The panels on the shapes the real fetchers store (no hand-made snapshot): one fetch of
    every input through the limiter, on simulated data."""
    from guards.intel import ingest

    ingest.fetch_intel(symbols=["BTCUSDT"], now=timezone.now())

    magnet = panel("magnet")
    assert magnet["view"].price is not None and magnet["chart"]["labels"]  # the heatmap column around the price
    assert panel("cvd")["flow"] is not None
    rows = [r for r in panel("inputs")["rows"] if r["symbol"] in ("BTCUSDT", "all pairs")]
    assert all(r["age"].as_of and r["attempt"].outcome == "ok" for r in rows), [(r["label"], r["age"]) for r in rows]
    for url in PAGES + PANEL_URLS:
        html = client.get(url).content.decode()
        assert "simulated data" in html or url in ("/panels/failures/", "/panels/plan/", "/panels/limits/"), url


def test_panel_queries_are_pinned(bot, django_assert_num_queries):
    """Warm cache: the positions panel reads the positions and their latest answers' events; the
    data-health panels read every input's records in one query where the database allows a
    LIMIT inside UNION ALL (else one per input), however long the history."""
    from django.db import connection

    store_price("100000")
    store_heatmap([("101000", "9000000")])
    assert bot("/api/v1/positions/min-hold", hold_request("pos-q")).status_code == 200
    per_input = 1 if connection.features.supports_slicing_ordering_in_compound else 2 * 5 + 1
    for name, queries in [("positions", 2), ("inputs", per_input), ("failures", per_input), ("cvd", 0)]:
        panel(name)  # fills the caches (parameters, plan, snapshots)
        with django_assert_num_queries(queries):
            panel(name)


@pytest.mark.parametrize("value", ["0", "-5", "often"])
def test_a_refresh_interval_below_one_second_stops_start_up(tmp_path, value):
    from tests.test_settings import manage_check

    done = manage_check(tmp_path, DASHBOARD_REFRESH_SECONDS=value)
    assert done.returncode != 0
    line = done.stderr.strip()
    assert line.startswith("Configuration error: DASHBOARD_REFRESH_SECONDS must be") and "\n" not in line
