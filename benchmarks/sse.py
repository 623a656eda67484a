"""SSE decoding benchmark: lgbench's SSEDecoder against httpx-sse's, on the same bytes.

    python benchmarks/sse.py [--events 200000] [--rounds 5] [--chunk-kib 64]
                             [--through-stream-only] [--backend asyncio|trio]
                             [--style CRLF|CRLF+id] [--framing chunks|events]
                             [--stream-dir DIR]

Builds one long stream of small LangGraph-like events (``event: values`` /
``updates`` / ``messages/partial`` with a small JSON payload) in three line-end
styles: LF, CRLF (what langgraph-api sends) and CRLF with an ``id`` line (a
resumable run). Each decoder parses the whole stream, ``--rounds`` times, runs
of the two interleaved; the best round counts. Prints events/s for each and
their ratio.

- lgbench: ``SSEDecoder.feed`` on ``--chunk-kib`` chunks of bytes.
- httpx-sse: what its ``EventSource.iter_sse`` does per chunk of the same size:
  UTF-8 decoding with an incremental decoder (httpx's ``iter_text``), its
  ``SSELineDecoder`` line splitting behind a generator (as in
  ``_iter_sse_lines``), then ``SSEDecoder.decode`` line by line.

Neither side decodes the JSON payloads; the garbage collector is on for both,
as it is in a real run. A second table feeds one event per chunk, as when a
server flushes every event separately. CPU-bound and single-threaded: run it on
an idle core.

A third table goes through the whole client: ``client.runs.stream(...)`` iterated
with ``async for`` (the JSON of every event decoded into a ``StreamPart``, as the
engine reads it), on a transport that answers from memory with the same chunks
(64 KiB, or one event per read), so the figure is the client's CPU per event without
the socket's. CPU time (``time.process_time``), best of ``--rounds``; the event loop
is anyio's ``--backend``. ``--style`` and ``--framing`` keep one row of it, and
``--stream-dir`` reads each stream from a file there (written on first use), so that an
instruction count (``valgrind --tool=callgrind``, the difference between two ``--events``)
leaves out building the stream.
"""

from __future__ import annotations

import argparse
import codecs
import gc
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator

import anyio
from httpx_sse._decoders import SSEDecoder as HttpxSseDecoder
from httpx_sse._decoders import SSELineDecoder

import lgbench
from lgbench.client import MockTransport, Request, Response, SSEDecoder, get_client

EVENT_NAMES = ("values", "updates", "messages/partial")


def build_stream(n_events: int, eol: str, with_ids: bool) -> bytes:
    """``n_events`` small events: a message list like LangGraph's ``values`` mode sends."""
    parts = []
    for i in range(n_events):
        payload = {
            "messages": [
                {"type": "ai", "content": f"token {i % 997}", "id": f"run-{i:08d}"},
            ]
        }
        data = json.dumps(payload, separators=(",", ":"))
        event = f"event: {EVENT_NAMES[i % len(EVENT_NAMES)]}{eol}data: {data}{eol}"
        if with_ids:
            event += f"id: {i}-0{eol}"
        parts.append(event + eol)
    return "".join(parts).encode()


def chunked(stream: bytes, chunk_bytes: int) -> list[bytes]:
    return [stream[i : i + chunk_bytes] for i in range(0, len(stream), chunk_bytes)]


def per_event(stream: bytes, eol: bytes) -> list[bytes]:
    blank = eol + eol
    return [block + blank for block in stream.split(blank)[:-1]]


def run_lgbench(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    count = 0
    for chunk in chunks:
        count += len(decoder.feed(chunk))
    decoder.close()
    return count


def run_httpx_sse(chunks: list[bytes]) -> int:
    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    line_decoder = SSELineDecoder()

    def lines() -> Iterator[str]:
        for chunk in chunks:
            yield from line_decoder.decode(text_decoder.decode(chunk))
        yield from line_decoder.flush()

    decoder = HttpxSseDecoder()
    count = 0
    for line in lines():
        if decoder.decode(line.rstrip("\n")) is not None:
            count += 1
    return count


def same_events(chunks: list[bytes]) -> bool:
    """Both decoders see the same (event, data, id) sequence: the comparison is fair."""
    ours = []
    decoder = SSEDecoder()
    for chunk in chunks:
        ours.extend((e.event, e.data, e.id) for e in decoder.feed(chunk))
    theirs = []
    text_decoder = codecs.getincrementaldecoder("utf-8")()
    line_decoder = SSELineDecoder()
    other = HttpxSseDecoder()
    for chunk in chunks:
        for line in line_decoder.decode(text_decoder.decode(chunk)):
            sse = other.decode(line)
            if sse is not None:
                theirs.append((sse.event or "message", sse.data, sse.id or None))
    return ours == theirs


def best_rate(
    runners: dict[str, Callable[[list[bytes]], int]], chunks: list[bytes], n: int, rounds: int
) -> dict[str, float]:
    best_s = dict.fromkeys(runners, float("inf"))
    for _ in range(rounds):
        for name, runner in runners.items():
            gc.collect()
            start = time.perf_counter()
            count = runner(chunks)
            elapsed_s = time.perf_counter() - start
            if count != n:
                raise SystemExit(f"{name} decoded {count} events, expected {n}")
            best_s[name] = min(best_s[name], elapsed_s)
    return {name: n / elapsed_s for name, elapsed_s in best_s.items()}


class ChunkBody:
    """A response body that hands out prepared chunks, one per read, never suspending."""

    __slots__ = ("_chunks", "_next")

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks
        self._next = 0

    async def receive_some(self) -> bytes:
        index = self._next
        if index >= len(self._chunks):
            return b""
        self._next = index + 1
        return self._chunks[index]

    async def aclose(self) -> None:
        self._next = len(self._chunks)


async def through_runs_stream(chunks: list[bytes], n: int, rounds: int) -> float:
    """Best CPU seconds for ``client.runs.stream`` to yield the ``n`` parts of ``chunks``."""

    def answer(request: Request) -> Response:
        return Response(
            200, {"content-type": "text/event-stream; charset=utf-8"}, stream=ChunkBody(chunks)
        )

    client = get_client(url="http://127.0.0.1:9", api_key=None, transport=MockTransport(answer))
    best_s = float("inf")
    for _ in range(rounds):
        gc.collect()
        count = 0
        start = time.process_time()
        async with client.runs.stream("t", "agent", input={}) as parts:
            async for part in parts:
                count += part.data is not None
        elapsed_s = time.process_time() - start
        if count != n:
            raise SystemExit(f"runs.stream yielded {count} parts with data, expected {n}")
        best_s = min(best_s, elapsed_s)
    return best_s


def stream_bytes(args: argparse.Namespace, eol: str, with_ids: bool) -> bytes:
    """The stream of ``--events`` events, from ``--stream-dir`` when given."""
    if args.stream_dir is None:
        return build_stream(args.events, eol, with_ids)
    style = "crlf" if eol == "\r\n" else "lf"
    path = os.path.join(args.stream_dir, f"sse-{args.events}-{style}-{with_ids}.bin")
    if not os.path.exists(path):
        with open(path, "wb") as file:
            file.write(build_stream(args.events, eol, with_ids))
    with open(path, "rb") as file:
        return file.read()


def through_stream_table(args: argparse.Namespace) -> None:
    print(
        f"\nthrough client.runs.stream, JSON decoded ({args.backend}): {args.events} events, "
        f"best of {args.rounds} rounds (lgbench from {os.path.dirname(lgbench.__file__)})"
    )
    print(f"{'style':<9} {'framing':<22} {'CPU us/event':>12} {'events/s':>12}")
    for style, eol, with_ids in (("CRLF", "\r\n", False), ("CRLF+id", "\r\n", True)):
        if args.style not in (None, style):
            continue
        stream = stream_bytes(args, eol, with_ids)
        for framing, name in (
            (f"{args.chunk_kib} KiB chunks", "chunks"),
            ("one event per read", "events"),
        ):
            if args.framing not in (None, name):
                continue
            if name == "chunks":
                chunks = chunked(stream, args.chunk_kib * 1024)
            else:
                chunks = per_event(stream, eol.encode())
            best_s = anyio.run(
                through_runs_stream, chunks, args.events, args.rounds, backend=args.backend
            )
            print(
                f"{style:<9} {framing:<22} {best_s / args.events * 1e6:>12.3f} "
                f"{args.events / best_s:>12,.0f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--chunk-kib", type=int, default=64)
    parser.add_argument("--through-stream-only", action="store_true")
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--style", choices=("CRLF", "CRLF+id"))
    parser.add_argument("--framing", choices=("chunks", "events"))
    parser.add_argument("--stream-dir")
    args = parser.parse_args()

    print(
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.machine()}, {os.cpu_count()} cpus, {platform.platform()}"
    )
    if args.through_stream_only:
        through_stream_table(args)
        return
    runners = {"lgbench": run_lgbench, "httpx-sse": run_httpx_sse}
    styles = (("LF", "\n", False), ("CRLF", "\r\n", False), ("CRLF+id", "\r\n", True))
    for title, split in (
        (f"{args.chunk_kib} KiB chunks", "chunks"),
        ("one event per chunk", "events"),
    ):
        print(f"\n{title}: {args.events} events, best of {args.rounds} rounds")
        print(f"{'style':<9} {'bytes/event':>11} {'lgbench ev/s':>14} {'httpx-sse ev/s':>15} ratio")
        for style, eol, with_ids in styles:
            stream = build_stream(args.events, eol, with_ids)
            if split == "chunks":
                chunks = chunked(stream, args.chunk_kib * 1024)
            else:
                chunks = per_event(stream, eol.encode())
            if not same_events(chunks):
                raise SystemExit(f"{style}: the decoders disagree")
            rates = best_rate(runners, chunks, args.events, args.rounds)
            ratio = rates["lgbench"] / rates["httpx-sse"]
            print(
                f"{style:<9} {len(stream) / args.events:>11.1f} {rates['lgbench']:>14,.0f} "
                f"{rates['httpx-sse']:>15,.0f} {ratio:5.2f}x"
            )
    through_stream_table(args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
