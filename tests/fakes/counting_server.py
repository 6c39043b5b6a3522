"""A loopback HTTP server that logs when each request arrived, on its own clock.

Rate-limit tests judge the limiter by this log, never by what the clients say they did:

    with CountingServer() as server:
        ...  # clients GET server.url
    assert min_gap(server.arrivals) >= 2.5

`arrivals` are `time.monotonic()` seconds taken when the request line and headers have been
read (on Linux one clock for every process of the machine, so a client's own monotonic
stamps can be compared with them). Each request is also kept in `requests` with its path
and the `X-Worker` header, and appended to `log_path` when given. Keep-alive (HTTP/1.1), as
real APIs do. Every GET answers `status` with `body` and `headers` (e.g. 429 + Retry-After).
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.fakes.server import LoopbackServer, send


class CountingServer(LoopbackServer):
    def __init__(
        self,
        *,
        status: int = 200,
        body: bytes = b'{"code":"0","msg":"success","data":[]}',
        headers: dict[str, str] | None = None,
        log_path: Path | None = None,
    ):
        self.arrivals: list[float] = []
        self.requests: list[dict] = []
        self.status, self.body = status, body
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.log_path = Path(log_path) if log_path else None
        self._lock = threading.Lock()
        super().__init__()
        self.url = f"{self.base_url}/api/index/fear-greed-history"

    def record(self, path: str, worker: str) -> None:
        at = time.monotonic()
        with self._lock:
            self.arrivals.append(at)
            self.requests.append({"at": at, "wall": time.time(), "path": path, "worker": worker})
            if self.log_path:
                with self.log_path.open("a") as log:
                    log.write(f"{at:.6f} {path} {worker}\n")

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                server.record(self.path, self.headers.get("X-Worker", ""))
                send(self, server.status, server.body, server.headers)

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self) -> CountingServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def max_calls_in_any_window(arrivals: list[float], window: float = 60.0) -> int:
    """The most arrivals inside any closed window [t, t + window] (seconds), whatever t is."""
    ordered, best, start = sorted(arrivals), 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


def min_gap(arrivals: list[float]) -> float:
    """The shortest time (seconds) between two consecutive arrivals; inf for fewer than two."""
    ordered = sorted(arrivals)
    return min((b - a for a, b in zip(ordered, ordered[1:], strict=False)), default=float("inf"))
