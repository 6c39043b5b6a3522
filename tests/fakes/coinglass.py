"""A fake CoinGlass V4 server on 127.0.0.1 serving the shapes and faults of MARKETDATA.md.

Defaults answer every input for BTC and ETH with realistic payloads; a test scripts
other answers per path with `respond(path, status, body, headers, delay)` (used once each,
in order) or `always(path, ...)`. Every request is logged with its headers and time.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

import pytest

from guards.marketdata.coinglass import PATHS
from tests.fakes.server import LoopbackServer, logged_request, send

PRICES = {"BTC": 97000.0, "ETH": 3600.0}
UPGRADE_PLAN = {"code": "401", "msg": "Upgrade plan"}
# How a coin CoinGlass does not cover is answered (undocumented; a definitive answer either way).
UNSUPPORTED_SYMBOL = {"code": "400", "msg": "symbol not supported"}


def heatmap_data(coin: str) -> dict:
    """Rows every 0.1% around the price; the latest column (x=2) has two strong groups."""
    price = PRICES[coin]
    step = price * 0.001
    y_axis = [round(price * 0.95 + i * step, 2) for i in range(101)]  # 95% .. 105% of price
    cells = [[0, 10, 50000.0], [1, 60, 70000.0]]  # older columns: ignored
    for y in range(101):
        cells.append([2, y, 10000.0])  # background
    cells += [[2, 70, 2500000.0], [2, 71, 1500000.0], [2, 30, 1800000.0], [2, 90, 900000.0]]
    candles = [
        [
            1722668400 + 3600 * x,
            f"{price:.1f}",
            f"{price * 1.001:.1f}",
            f"{price * 0.999:.1f}",
            f"{price:.1f}",
            "63753192.11",
        ]
        for x in range(3)
    ]
    return {"y_axis": y_axis, "liquidation_leverage_data": cells, "price_candlesticks": candles}


def default_body(path: str, query: dict) -> dict:
    coin = query.get("symbol", "BTC")
    if path == PATHS["subscription"]:
        return {
            "code": "0",
            "msg": "success",
            "data": {"level": "HOBBYIST", "expire_time": 1805943491000, "expired": False},
        }
    if path == PATHS["heatmap"]:
        return {"code": "0", "msg": "success", "data": heatmap_data(coin)}
    if path == PATHS["fear_greed"]:
        return {
            "code": "0",
            "msg": "success",
            "data": [
                {
                    "data_list": [72, 74, 81],
                    "price_list": [95000, 96000, 97000],
                    "time_list": [1733011200, 1733097600, 1733184000],
                }
            ],
        }
    if path == PATHS["taker"]:
        return {
            "code": "0",
            "success": True,
            "data": {
                "symbol": coin,
                "buy_ratio": 51.01,
                "sell_ratio": 48.99,
                "buy_vol_usd": 1112108532.17,
                "sell_vol_usd": 1068220541.04,
                "exchange_list": [
                    {
                        "exchange": "Binance",
                        "buy_ratio": 49.22,
                        "sell_ratio": 50.78,
                        "buy_vol_usd": 240077939.58,
                        "sell_vol_usd": 247674925.17,
                    }
                ],
            },
        }
    if path == PATHS["max_pain"]:
        return {
            "code": "0",
            "data": [
                {
                    "date": "351231",
                    "max_pain_price": str(int(PRICES[coin] * 1.08)),
                    "call_open_interest": 953.7,
                    "put_open_interest": 512.5,
                    "call_open_interest_notional": 83519113.6,
                    "put_open_interest_notional": 44881569.1,
                },
                {
                    "date": "250425",
                    "max_pain_price": "84000",
                    "call_open_interest": 1.0,
                    "put_open_interest": 1.0,
                    "call_open_interest_notional": 1.0,
                    "put_open_interest_notional": 1.0,
                },
                {
                    "date": "351230",
                    "max_pain_price": str(int(PRICES[coin] * 1.06)),
                    "call_open_interest": 1.0,
                    "put_open_interest": 1.0,
                    "call_open_interest_notional": 1.0,
                    "put_open_interest_notional": 1.0,
                },
            ],
        }
    return {"code": "404", "msg": "Endpoint not found"}


class FakeCoinGlass(LoopbackServer):
    def __init__(self):
        self.requests: list[dict] = []
        self.scripted: dict[str, list[tuple]] = {}
        self.fixed: dict[str, tuple] = {}
        self.max_limit_header: str | None = None
        self.unsupported: set[str] = set()  # coins answered UNSUPPORTED_SYMBOL on every path
        super().__init__()
        self.url = self.base_url

    def respond(self, path, status=200, body=None, headers=None, delay=0.0) -> None:
        """Answer the next request to `path` this way (queue: one use each)."""
        self.scripted.setdefault(path, []).append((status, body, headers or {}, delay))

    def always(self, path, status=200, body=None, headers=None, delay=0.0) -> None:
        self.fixed[path] = (status, body, headers or {}, delay)

    def calls(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]

    def _answer(self, path: str, query: dict) -> tuple:
        if query.get("symbol") in self.unsupported:
            return 200, UNSUPPORTED_SYMBOL, {}, 0.0
        if self.scripted.get(path):
            return self.scripted[path].pop(0)
        if path in self.fixed:
            return self.fixed[path]
        return 200, default_body(path, query), {}, 0.0

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path, query = logged_request(self, fake.requests)
                status, body, headers, delay = fake._answer(path, query)
                if delay:
                    time.sleep(delay)
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                base = {"Content-Type": "text/html" if isinstance(body, str) else "application/json"}
                if fake.max_limit_header:
                    base["API-KEY-MAX-LIMIT"] = fake.max_limit_header
                send(self, status, data, base | headers)

            def log_message(self, *args):
                pass

        return Handler


TEST_KEY = "cg-test-key-0123456789abcdef"


@pytest.fixture
def fake_coinglass(settings):
    server = FakeCoinGlass()
    settings.COINGLASS_BASE_URL = server.url
    settings.COINGLASS_API_KEY = TEST_KEY
    settings.MARKET_DATA = "live"
    yield server
    server.stop()
