"""A small loopback SSE server that holds 10,000+ open streams, for ``sse_streams.py``.

    python benchmarks/_sse_server.py [--port 0] [--interval 2.0] [--heartbeat-every 5]
                                     [--no-uvloop]

The embedded LangGraph server cannot hold thousands of streams at once (each is a
run of a graph), so ``sse_streams.py`` measures lgbench's client against this one.
It answers the paths ``client.runs.stream`` requests and speaks the way
langgraph-api does on the wire: HTTP/1.1, ``text/event-stream`` in chunked
transfer encoding, CRLF line ends, a ``metadata`` event first (with ``run_id``),
then small ``values`` events and ``: heartbeat`` comments. Unlike a real run a
stream never ends until it is told to.

Routes (anything else gets 404):

- ``POST /runs/stream``, ``POST /threads/{id}/runs/stream``: an open stream. Every
  ``--interval`` seconds it gets one small ``values`` event, or a heartbeat comment
  every ``--heartbeat-every``-th time. The streams are spread over the interval (a
  timer every 50 ms writes to its share of them), so 10,000 streams at 2 s make a
  steady 5,000 writes/s rather than bursts.
- ``GET /info``: a small JSON, as a LangGraph server answers it.
- ``GET /bench/stats``: ``{"open_streams", "streams_total", "events_sent", "skipped"}``.
- ``POST /bench/end``: ends every open stream (the last chunk); the connections stay
  open for keep-alive.

Prints ``listening 127.0.0.1 PORT`` on stdout once it accepts connections; SIGTERM
or SIGINT stops it. Each connection is a protocol object driven by the loop's
callbacks (no task per connection), so 10,000 streams cost little memory and CPU
here. The soft limit on open files is raised to the hard limit at start. Binds to
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import resource
import signal
import uuid
from typing import Final

TICK_S: Final = 0.05
# A client that stops reading gets no more events past this (its write buffer grows no more).
MAX_WRITE_BUFFER: Final = 64 * 1024
MAX_HEAD: Final = 64 * 1024

STREAM_HEAD: Final = (
    b"HTTP/1.1 200 OK\r\n"
    b"content-type: text/event-stream; charset=utf-8\r\n"
    b"cache-control: no-store\r\n"
    b"x-accel-buffering: no\r\n"
    b"transfer-encoding: chunked\r\n"
    b"\r\n"
)
LAST_CHUNK: Final = b"0\r\n\r\n"
HEARTBEAT: Final = b": heartbeat\r\n\r\n"


def chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


HEARTBEAT_CHUNK: Final = chunk(HEARTBEAT)


def plain_response(status: str, body: bytes, content_type: bytes = b"application/json") -> bytes:
    return b"HTTP/1.1 %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n%s" % (
        status.encode(),
        content_type,
        len(body),
        body,
    )


def is_stream_path(path: str) -> bool:
    parts = path.split("?", 1)[0].strip("/").split("/")
    return parts == ["runs", "stream"] or (
        len(parts) == 4 and parts[0] == "threads" and parts[2:] == ["runs", "stream"]
    )


def raise_file_limit() -> int:
    """Raise the soft limit on open files to the hard limit; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Hub:
    """Every open stream, in one slot per timer tick; the timer feeds one slot per tick."""

    def __init__(self, interval_s: float, heartbeat_every: int) -> None:
        self.n_slots = max(1, round(interval_s / TICK_S))
        self.slots: list[set[Connection]] = [set() for _ in range(self.n_slots)]
        self.heartbeat_every = heartbeat_every
        self.tick = 0
        self.next_slot = 0
        self.streams_total = 0
        self.events_sent = 0
        self.skipped = 0

    @property
    def open_streams(self) -> int:
        return sum(len(slot) for slot in self.slots)

    def add(self, conn: Connection) -> None:
        conn.slot = self.next_slot
        self.slots[conn.slot].add(conn)
        self.next_slot = (self.next_slot + 1) % self.n_slots
        self.streams_total += 1

    def remove(self, conn: Connection) -> None:
        if conn.slot >= 0:
            self.slots[conn.slot].discard(conn)
            conn.slot = -1

    def on_tick(self) -> None:
        slot = self.slots[self.tick % self.n_slots]
        self.tick += 1
        for conn in slot:
            self.events_sent += conn.send_event(self.heartbeat_every)

    def end_all(self) -> int:
        ended = 0
        for slot in self.slots:
            for conn in list(slot):
                conn.end_stream()
                ended += 1
        return ended

    def stats(self) -> dict[str, int]:
        return {
            "open_streams": self.open_streams,
            "streams_total": self.streams_total,
            "events_sent": self.events_sent,
            "skipped": self.skipped,
        }


class Connection(asyncio.Protocol):
    __slots__ = ("buffer", "hub", "n_sent", "slot", "transport")

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.slot = -1
        self.n_sent = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.hub.remove(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        if self.slot >= 0:
            return  # a streaming client sends nothing more until its stream ends
        self.buffer += data
        while self.transport is not None and self.slot < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    self.transport.close()
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[: end + 4 + length]
            method, _, rest = head[0].partition(" ")
            path = rest.rpartition(" ")[0]
            self.dispatch(method, path)

    def dispatch(self, method: str, path: str) -> None:
        assert self.transport is not None
        hub = self.hub
        if method == "POST" and is_stream_path(path):
            run_id = str(uuid.uuid4())
            metadata = b'event: metadata\r\ndata: {"run_id":"%s","attempt":1}\r\n\r\n' % (
                run_id.encode()
            )
            self.transport.write(STREAM_HEAD + chunk(metadata))
            hub.add(self)
        elif method == "GET" and path == "/info":
            self.transport.write(plain_response("200 OK", b'{"version":"sse-bench","flags":{}}'))
        elif method == "GET" and path == "/bench/stats":
            self.transport.write(plain_response("200 OK", json.dumps(hub.stats()).encode()))
        elif method == "POST" and path == "/bench/end":
            ended = hub.end_all()
            self.transport.write(plain_response("200 OK", b'{"ended":%d}' % ended))
        else:
            self.transport.write(plain_response("404 Not Found", b'{"detail":"Not Found"}'))

    def send_event(self, heartbeat_every: int) -> int:
        transport = self.transport
        if transport is None:
            return 0
        if transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            self.hub.skipped += 1
            return 0
        self.n_sent += 1
        if self.n_sent % heartbeat_every == 0:
            transport.write(HEARTBEAT_CHUNK)
        else:
            transport.write(
                chunk(b'event: values\r\ndata: {"n":%d,"messages":[]}\r\n\r\n' % self.n_sent)
            )
        return 1

    def end_stream(self) -> None:
        self.hub.remove(self)
        if self.transport is not None:
            self.transport.write(LAST_CHUNK)


async def serve(port: int, interval_s: float, heartbeat_every: int) -> None:
    loop = asyncio.get_running_loop()
    hub = Hub(interval_s, heartbeat_every)
    server = await loop.create_server(
        lambda: Connection(hub), "127.0.0.1", port, backlog=4096, reuse_address=True
    )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    bound = server.sockets[0].getsockname()[1]
    print(f"listening 127.0.0.1 {bound}", flush=True)

    def tick() -> None:
        hub.on_tick()
        if not stop.is_set():
            handle[0] = loop.call_later(TICK_S, tick)

    handle = [loop.call_later(TICK_S, tick)]
    try:
        await stop.wait()
    finally:
        handle[0].cancel()
        server.close()
        for slot in hub.slots:
            for conn in list(slot):
                if conn.transport is not None:
                    conn.transport.abort()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: a free port (default)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between events")
    parser.add_argument("--heartbeat-every", type=int, default=5, metavar="N")
    parser.add_argument("--no-uvloop", action="store_true", help="the default asyncio loop")
    args = parser.parse_args(argv)
    if args.port == 2024:
        parser.error("port 2024 is reserved for someone else here")
    raise_file_limit()
    coro = serve(args.port, args.interval, max(1, args.heartbeat_every))
    if not args.no_uvloop and importlib.util.find_spec("uvloop") is not None:
        import uvloop

        uvloop.run(coro)
    else:
        asyncio.run(coro)


if __name__ == "__main__":
    main()
