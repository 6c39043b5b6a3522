"""The dashboard in a real browser: an operator logs in, reads every page, sees the flow chart
drawn with its four bars and the divergence warning, and watches panels refresh themselves
(no page reload, the same chart updated in place) when new data arrives."""

import pytest
from playwright.sync_api import expect

from tests.dashboard.builders import diverging_flow, hold_request, store_flow, store_heatmap, store_price

PASSWORD = "a-long-Passw0rd"

CHART = """() => {
  const canvas = document.getElementById('cvd-chart');
  const chart = Chart.getChart(canvas);
  return {labels: chart.data.labels, data: chart.data.datasets[0].data, bars: chart.getDatasetMeta(0).data.length,
          width: canvas.width, height: canvas.height};
}"""


@pytest.fixture
def operator(django_user_model, page, live_server, admin_login, settings):
    settings.DASHBOARD_REFRESH_SECONDS = 1  # the live server reads it per request
    django_user_model.objects.create_user("watcher", password=PASSWORD, is_staff=True)
    admin_login(page, live_server, "watcher", PASSWORD)
    return page


def test_overview_draws_the_flow_chart_and_warns_of_a_divergence(operator, live_server):
    page = operator
    diverging_flow()
    store_price("100000")
    store_heatmap([("101000", "9000000"), ("98500", "5000000")])

    page.goto(f"{live_server.url}/")

    expect(page).to_have_title("Overview BTCUSDT | Guard control plane")
    expect(page.locator("#market-data-mode")).to_have_text("simulated data")
    expect(page.locator("#cvd-divergence-warning")).to_be_visible()
    expect(page.locator("#cvd-divergence-warning")).to_contain_text("whales are net selling (-$500,000)")
    expect(page.locator("#divergence-status")).to_have_text("Diverging")
    expect(page.locator("#whale-threshold")).to_contain_text("$100,000 version 1")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('cvd-chart'))")
    chart = page.evaluate(CHART)
    assert chart["labels"] == ["Whale buy", "Whale sell", "Retail buy", "Retail sell"]
    assert chart["data"] == [0, 500000, 60000, 0] and chart["bars"] == 4
    assert chart["width"] > 0 and chart["height"] > 0
    expect(page.locator("#nearest-cluster")).to_contain_text("SHORT at 101,000.00")
    magnet = page.evaluate("() => Chart.getChart(document.getElementById('magnet-chart')).data")
    assert magnet["labels"] == ["98,500", "101,000"] and magnet["priceIndex"] == 0.5


def test_a_panel_refreshes_in_place_when_new_data_arrives(operator, live_server):
    page = operator
    diverging_flow()
    page.goto(f"{live_server.url}/")
    expect(page.locator("#cvd-divergence-warning")).to_be_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('cvd-chart'))")
    page.evaluate(
        "() => { window.marker = 1; window.chartBefore = Chart.getChart(document.getElementById('cvd-chart')); }"
    )

    store_flow([300_000, 20_000])  # whales and retail both buying now

    expect(page.locator("#divergence-status")).to_have_text("Aligned")
    expect(page.locator("#cvd-divergence-warning")).to_have_count(0)
    page.wait_for_function(
        "() => Chart.getChart(document.getElementById('cvd-chart')).data.datasets[0].data[0] === 300000"
    )
    same = page.evaluate(
        "() => window.marker === 1 && Chart.getChart(document.getElementById('cvd-chart')) === window.chartBefore"
    )
    assert same, "the page was reloaded or the chart was drawn anew"
    assert page.evaluate(CHART)["data"] == [300000, 0, 20000, 0]


def test_open_positions_show_their_hold_and_why(operator, live_server, bot):
    page = operator
    store_price("100000")
    store_heatmap([("101000", "9000000")])
    assert bot("/api/v1/positions/min-hold", hold_request("pos-browser")).status_code == 200

    page.goto(f"{live_server.url}/")

    row = page.locator("#positions tbody tr", has_text="pos-browser")
    expect(row).to_contain_text("90 min")
    expect(row).to_contain_text("moving toward SHORT liquidation cluster at 101000")


def test_the_symbol_switcher_shows_the_other_pair(operator, live_server):
    page = operator
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="ETHUSDT").click()
    expect(page).to_have_url(f"{live_server.url}/?symbol=ETHUSDT")
    expect(page.locator("h1")).to_have_text("ETHUSDT")
    expect(page.locator("#cvd-panel")).to_have_attribute("hx-get", "/panels/cvd/?symbol=ETHUSDT")


def test_data_health_page_lists_inputs_failures_plan_and_limits(operator, live_server):
    page = operator
    diverging_flow()
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Data health").click()

    expect(page).to_have_url(f"{live_server.url}/health/")
    expect(page.locator("h1")).to_have_text("Data health")
    flow = page.locator("#inputs tbody tr", has_text="Whale and retail flow").first
    expect(flow).to_contain_text("BTCUSDT")
    expect(page.locator("#inputs tbody tr.row-stale").first).to_be_visible()  # the inputs never fetched
    expect(page.locator("#rate-limits")).to_contain_text("Binance")
    expect(page.locator("#failures-panel")).to_contain_text("No failed fetch in the last 24 hours")


def test_anonymous_visitor_is_sent_to_the_login(page, live_server):
    page.goto(f"{live_server.url}/health/")

    assert page.url == f"{live_server.url}/admin/login/?next=/health/"
    expect(page.locator("#login-form")).to_be_visible()


HIDE = "() => { Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'}); }"
SHOW = """() => {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_a_hidden_tab_asks_for_nothing_and_catches_up_when_shown(operator, live_server):
    page = operator  # panels poll every second
    diverging_flow()
    page.goto(f"{live_server.url}/")
    expect(page.locator("#divergence-status")).to_have_text("Diverging")
    page.evaluate(HIDE)
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "/panels/" in request.url else None)

    store_flow([300_000, 20_000])
    page.wait_for_timeout(3000)
    assert polls == [] and page.locator("#divergence-status").inner_text() == "Diverging"

    page.evaluate(SHOW)
    expect(page.locator("#divergence-status")).to_have_text("Aligned")
    assert any("/panels/cvd/" in url for url in polls)
