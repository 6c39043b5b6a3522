"""Fear & Greed, taker buy share, nearest max pain, numbers and coins (SPEC §2, MARKETDATA.md)."""

from datetime import date
from decimal import Decimal as D

import pytest

from guards.domain.numbers import MalformedPayload, coin_of, to_millis
from guards.domain.sentiment import latest_fear_greed, nearest_max_pain, taker_buy_share


@pytest.mark.parametrize(
    "data, value",
    [
        (
            [{"data_list": [72, 74, 81], "price_list": [1, 2, 3], "time_list": [1733097600, 1733184000, 1733270400]}],
            "81",
        ),
        ({"data_list": [72, 74, 81], "price_list": [1, 2, 3], "time_list": [1733097600, 1733184000, 1733270400]}, "81"),
        ({"data_list": ["50", "20"], "time_list": [1733270400000, 1733184000]}, "50"),  # ms vs s, newest first
        ({"data_list": [0], "time_list": [1]}, "0"),
        ({"data_list": [100], "time_list": [1]}, "100"),
    ],
)
def test_latest_fear_greed(data, value):
    assert latest_fear_greed(data).value == D(value)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {},
        {"data_list": [1, 2], "time_list": [1]},
        {"data_list": [101], "time_list": [1]},
        {"data_list": [-1], "time_list": [1]},
        [{"value": "72", "timestamp": "1"}],
        {"data_list": ["x"], "time_list": [1]},
    ],
)
def test_unusable_fear_greed_is_malformed(data):
    with pytest.raises(MalformedPayload):
        latest_fear_greed(data)


@pytest.mark.parametrize(
    "data, share",
    [
        ({"buy_vol_usd": 60, "sell_vol_usd": 40, "buy_ratio": 1, "sell_ratio": 99}, D("0.6")),  # volumes win
        ({"buy_vol_usd": "30", "sell_vol_usd": "70"}, D("0.3")),
        ({"buy_ratio": 40.0, "sell_ratio": 60.0}, D("0.4")),
        ([{"buy_ratio": "51.01", "sell_ratio": "48.99"}], D("0.5101")),
    ],
)
def test_taker_buy_share(data, share):
    assert taker_buy_share(data) == share


@pytest.mark.parametrize("data", [{}, {"buy_vol_usd": 0, "sell_vol_usd": 0}, {"buy_ratio": -1, "sell_ratio": 2}, "x"])
def test_unusable_taker_data_is_malformed(data):
    with pytest.raises(MalformedPayload):
        taker_buy_share(data)


ROWS = [
    {"date": "250502", "max_pain_price": "86000"},
    {"date": "250418", "max_pain_price": "80000"},
    {"date": "250425", "max_pain_price": "84000"},
]


@pytest.mark.parametrize(
    "today, expiry, price",
    [
        (date(2025, 4, 20), date(2025, 4, 25), "84000"),
        (date(2025, 4, 25), date(2025, 4, 25), "84000"),
        (date(2025, 4, 1), date(2025, 4, 18), "80000"),
        (date(2025, 4, 26), date(2025, 5, 2), "86000"),
    ],
)
def test_nearest_expiry_not_in_the_past(today, expiry, price):
    pain = nearest_max_pain(ROWS, today)
    assert (pain.expiry, pain.price) == (expiry, D(price))


@pytest.mark.parametrize("rows", [[], ROWS[:1], [{"date": "2025-05-02", "max_pain_price": "1"}], [{"date": "350101"}]])
def test_unusable_max_pain_is_malformed(rows):
    with pytest.raises(MalformedPayload):
        nearest_max_pain(rows, date(2025, 6, 1))


@pytest.mark.parametrize(
    "raw, ms", [(1733097600, 1733097600000), (1733097600000, 1733097600000), ("1722676500", 1722676500000)]
)
def test_timestamps_are_normalised_by_magnitude(raw, ms):
    assert to_millis(raw, "t") == ms


@pytest.mark.parametrize("pair, coin", [("BTCUSDT", "BTC"), ("ETHUSDC", "ETH"), ("SOLUSD", "SOL"), ("BTC", "BTC")])
def test_coin_of_pair(pair, coin):
    assert coin_of(pair) == coin
