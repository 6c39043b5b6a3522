"""A fake Binance USDⓈ-M futures server on 127.0.0.1: aggTrades and klines, as MARKETDATA.md shows.

It pages exactly like Binance (`fromId`, `startTime`/`endTime`, `limit` <= 1000), logs every
request, and can be told to answer the next requests with a fault.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

import pytest

from tests.fakes.server import LoopbackServer, logged_request, send


def kline(open_time_ms: int, price: str) -> list:
    """A Binance 1m kline row: 12 elements, numbers as strings except times and count."""
    return [
        open_time_ms,
        price,
        price,
        price,
        price,
        "12.5",
        open_time_ms + 59_999,
        "1212500.0",
        42,
        "6.1",
        "591700.0",
        "0",
    ]


class FakeBinance(LoopbackServer):
    def __init__(self):
        self.trades: dict[str, list[dict]] = {}
        self.bars: dict[str, list[list]] = {}
        self.requests: list[dict] = []
        self.faults: list[tuple[int, str, dict]] = []  # (status, body, headers) served before normal answers
        super().__init__()
        self.url = self.base_url

    def add_trade(self, symbol: str, *, price: str, qty: str, time_ms: int, taker_buy: bool) -> dict:
        rows = self.trades.setdefault(symbol, [])
        row = {
            "a": 26129 + len(rows),
            "p": price,
            "q": qty,
            "f": 27781 + len(rows),
            "l": 27781 + len(rows),
            "T": time_ms,
            "m": not taker_buy,
        }
        rows.append(row)
        return row

    def calls(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]

    def _agg_trades(self, query: dict) -> list[dict]:
        rows = self.trades.get(query["symbol"], [])
        limit = min(int(query.get("limit", 500)), 1000)
        if "fromId" in query:
            return [r for r in rows if r["a"] >= int(query["fromId"])][:limit]
        start, end = int(query.get("startTime", 0)), int(query.get("endTime", 2**62))
        return [r for r in rows if start <= r["T"] <= end][:limit]

    def _klines(self, query: dict) -> list[list]:
        start, limit = int(query.get("startTime", 0)), int(query.get("limit", 500))
        if query["symbol"] in self.bars:
            return [b for b in self.bars[query["symbol"]] if b[0] >= start][:limit]
        now_ms = int(time.time() * 1000)  # default: flat bars up to the current minute
        first = max(start, now_ms - 6 * 3_600_000) // 60_000 * 60_000
        return [kline(t, "97000.0") for t in range(first, now_ms, 60_000)][:limit]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path, query = logged_request(self, fake.requests)
                if fake.faults:
                    status, body, headers = fake.faults.pop(0)
                    return self._send(status, body, headers)
                if path == "/fapi/v1/aggTrades":
                    return self._send(200, json.dumps(fake._agg_trades(query)))
                if path == "/fapi/v1/klines":
                    return self._send(200, json.dumps(fake._klines(query)))
                self._send(404, json.dumps({"code": -1, "msg": "Not found"}))

            def _send(self, status, body, headers=None):
                base = {"Content-Type": "application/json", "X-MBX-USED-WEIGHT-1M": "20"}
                send(self, status, body.encode(), base | (headers or {}))

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def fake_binance(settings):
    server = FakeBinance()
    settings.BINANCE_FUTURES_BASE_URL = server.url
    settings.MARKET_DATA = "live"
    yield server
    server.stop()
