"""An HTTP/1.1 proxy in front of the real server that rewrites some of its answers.

The checker's end-to-end tests need servers that lie in precise ways (an empty wait, a
stream with no event, a failed run listed as a success, a state that lost a run's writes, a
thread that reads busy forever). Rather than a fake LangGraph server, a proxy forwards every
request to the real embedded one and lets a test rewrite what comes back: everything else
the client sees is the real server's behaviour.

``rewrite(method, path, body) -> body`` gets each non-streamed answer's decoded body (after
the server's ``\\n`` keep-alives) and returns the body to send; ``drop_events(method, path)``
says whether an SSE answer is sent with its head but no event. Loopback only, port 0.
"""

from __future__ import annotations

import http.client
import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

__all__ = ["Rewrite", "rewriting_proxy"]

Rewrite = Callable[[str, str, bytes], bytes]

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
)


def _keep(method: str, path: str, body: bytes) -> bytes:
    return body


def _never(method: str, path: str) -> bool:
    return False


@contextmanager
def rewriting_proxy(
    upstream_url: str,
    rewrite: Rewrite = _keep,
    drop_events: Callable[[str, str], bool] = _never,
    *,
    rewrite_errors: bool = False,
) -> Iterator[str]:
    """A proxy to ``upstream_url`` while the block runs; yields its URL."""
    parts = urlsplit(upstream_url)
    assert parts.hostname is not None and parts.port is not None
    host, port = parts.hostname, parts.port

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        upstream: http.client.HTTPConnection | None = None

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the test output is the run's

        def _forward(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request_body = self.rfile.read(length) if length else b""
            if self.upstream is None:
                self.upstream = http.client.HTTPConnection(host, port, timeout=120)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            self.upstream.request(self.command, self.path, body=request_body, headers=headers)
            answer = self.upstream.getresponse()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
            streamed = (answer.getheader("content-type") or "").startswith("text/event-stream")
            if streamed:
                self._stream(answer, kept, drop_events(self.command, self.path))
                return
            body = answer.read().lstrip(b"\n")
            if answer.status < 300 or rewrite_errors:
                body = rewrite(self.command, self.path, body)
            self.send_response(answer.status)
            for key, value in kept:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _stream(
            self,
            answer: http.client.HTTPResponse,
            kept: list[tuple[str, str]],
            drop: bool,
        ) -> None:
            self.send_response(answer.status)
            for key, value in kept:
                self.send_header(key, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while chunk := answer.read1(65536):
                if not drop:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        def finish(self) -> None:
            super().finish()
            if self.upstream is not None:
                self.upstream.close()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
