"""The readiness probe copes with servers that lack ``/ok``: ``/info``, then the root."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from lgbench.server import probe_ready


@contextmanager
def _serving(answers: Mapping[str, int]) -> Iterator[tuple[str, int, list[str]]]:
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(answers.get(self.path, 404))
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_address[1], asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    ("answers", "ready", "asked"),
    [
        pytest.param({"/ok": 200}, True, ["/ok"], id="ok"),
        pytest.param({"/ok": 503}, False, ["/ok"], id="ok-starting"),
        pytest.param({"/info": 200}, True, ["/ok", "/info"], id="no-ok-but-info"),
        pytest.param({}, True, ["/ok", "/info", "/"], id="only-404s-from-a-running-app"),
        pytest.param({"/ok": 405, "/": 401}, True, ["/ok", "/info", "/"], id="root-refuses"),
        pytest.param({"/info": 500, "/": 503}, False, ["/ok", "/info", "/"], id="root-5xx"),
    ],
)
def test_readiness_without_ok(answers: dict[str, int], ready: bool, asked: list[str]) -> None:
    with _serving(answers) as (host, port, seen):
        assert probe_ready(host, port, 5.0) is ready
        assert seen == asked


def test_nothing_listening_raises() -> None:
    with _serving({}) as (host, port, _):
        pass
    # Closed again: nothing listens on that port now.
    with pytest.raises(OSError):
        probe_ready(host, port, 5.0)
