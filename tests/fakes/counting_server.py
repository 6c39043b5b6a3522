"""A loopback HTTP server that only logs when each request arrived (its own clock)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CountingServer:
    def __init__(self):
        self.arrivals: list[float] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/index/fear-greed-history"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with server._lock:
                    server.arrivals.append(time.monotonic())
                body = b'{"code":"0","data":[]}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

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
    return min((b - a for a, b in zip(ordered, ordered[1:])), default=float("inf"))
