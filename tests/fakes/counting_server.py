"""A loopback HTTP server that only logs when each request arrived (its own clock)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler

from tests.fakes.server import LoopbackServer, send


class CountingServer(LoopbackServer):
    def __init__(self):
        self.arrivals: list[float] = []
        self._lock = threading.Lock()
        super().__init__()
        self.url = f"{self.base_url}/api/index/fear-greed-history"

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with server._lock:
                    server.arrivals.append(time.monotonic())
                send(self, 200, b'{"code":"0","data":[]}', {"Content-Type": "application/json"})

            def log_message(self, *args):
                pass

        return Handler


def max_calls_in_any_window(arrivals: list[float], window: float = 60.0) -> int:
    """The most arrivals inside any closed window of `window` seconds."""
    ordered, best, start = sorted(arrivals), 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


def min_gap(arrivals: list[float]) -> float:
    ordered = sorted(arrivals)
    return min((b - a for a, b in zip(ordered, ordered[1:], strict=False)), default=float("inf"))
