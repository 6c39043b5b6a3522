"""The loopback HTTP server every fake shares: start on a free port, stop quickly."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class LoopbackServer:
    """Subclasses implement `_handler()` returning a BaseHTTPRequestHandler class."""

    def __init__(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
    """Write a whole answer; a client that already hung up (a timeout test) is not an error."""
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    try:
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass


def logged_request(handler: BaseHTTPRequestHandler, log: list[dict]) -> tuple[str, dict[str, str]]:
    """Path and single-valued query of a GET, appended to `log` with headers and arrival time."""
    url = urlparse(handler.path)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    log.append({"path": url.path, "query": query, "headers": dict(handler.headers), "at": time.time()})
    return url.path, query
