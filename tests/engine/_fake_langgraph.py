"""A tiny in-memory LangGraph API behind a MockTransport, on whatever clock the loop has.

For the engine's virtual-time tests (trio's MockClock): every answer is computed from
``anyio.current_time()``, and delays are ``anyio.sleep`` calls, so runs take exact virtual
times and nothing touches the network.

Routes: ``GET /info``; ``POST /threads``; ``POST /threads/search`` (by metadata, unless
``search`` says the server lacks it or ignores the filter); ``GET /threads/{id}``; ``GET
/threads/{id}/state``;
``POST /threads/{id}/runs`` (create, honouring ``multitask_strategy``); ``GET
/threads/{id}/runs`` and ``.../runs/{run}``; ``POST /runs/wait`` and
``/threads/{id}/runs/wait``; ``POST /runs/stream`` (``input.n`` events ``input.gap_s`` apart,
after ``pickup_s``); ``PUT /store/items``. Runs on a thread execute one after another in
creation order, each ``pickup_s`` after it was created at the earliest and for
``input.seconds``; ``reject`` answers 409 while a run is in flight; ``interrupt`` and
``rollback`` end the in-flight runs at once (interrupted, or deleted).

``delay_s(request)`` adds latency to any request; ``fail(request)`` may return a status code or
raise a client error instead of answering.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from lgbench.client import MockTransport, Request, Response


@dataclass
class FakeRun:
    run_id: str
    thread_id: str
    created_s: float
    seconds: float
    strategy: str | None
    start_s: float = 0.0
    end_s: float = 0.0
    ended_as: str | None = None  # "interrupted" / "deleted" when cut short
    cut_s: float | None = None

    def status(self, now_s: float) -> str:
        if self.cut_s is not None and now_s >= self.cut_s:
            return self.ended_as or "interrupted"
        if now_s < self.start_s:
            return "pending"
        if now_s < self.end_s:
            return "running"
        return "success"

    def to_json(self, now_s: float) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "status": self.status(now_s),
            "created_at": f"t={self.created_s:.3f}",
            "updated_at": f"t={now_s:.3f}",
            "multitask_strategy": self.strategy,
        }


@dataclass
class FakeLangGraph:
    """State and behaviour of the fake server (see the module docstring)."""

    pickup_s: float = 0.5
    delay_s: Callable[[Request], float] = lambda request: 0.0
    fail: Callable[[Request], int | None] = lambda request: None
    #: ``filter``: searches honour ``metadata``; ``missing``: 404; ``unfiltered``: they
    #: ignore it and answer the oldest threads first.
    search: str = "filter"
    #: Read a thread idle while its runs are only pending (as the in-memory server does
    #: after an interrupt), busy only while one runs.
    idle_while_pending: bool = False
    threads: dict[str, list[FakeRun]] = field(default_factory=dict)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[float, str, str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def transport(self) -> MockTransport:
        return MockTransport(self.handle)

    def _id(self, kind: str) -> str:
        return f"{kind}-{next(self._ids)}"

    def times(self, method: str, prefix: str) -> list[float]:
        """When requests with this method and path prefix arrived."""
        return [t for t, m, path, _ in self.requests if m == method and path.startswith(prefix)]

    async def handle(self, request: Request) -> Response:
        now_s = anyio.current_time()
        body = json.loads(request.content) if request.content else None
        path = request.target.split("?", 1)[0]
        self.requests.append((now_s, request.method, path, body))
        delay = self.delay_s(request)
        if delay:
            await anyio.sleep(delay)
        failure = self.fail(request)
        if failure is not None:
            return _json(failure, {"detail": f"scripted {failure}"})
        return self._route(request.method, path, body, anyio.current_time())

    def _route(self, method: str, path: str, body: Any, now_s: float) -> Response:
        parts = [part for part in path.split("/") if part]
        if path == "/info":
            return _json(200, {"version": "fake-0.1"})
        if method == "POST" and parts == ["threads"]:
            thread_id = self._id("thread")
            self.threads[thread_id] = []
            self.metadata[thread_id] = dict((body or {}).get("metadata") or {})
            return _json(200, {"thread_id": thread_id, "status": "idle"})
        if method == "POST" and parts == ["threads", "search"] and self.search != "missing":
            wanted = (body or {}).get("metadata") or {}
            found = [
                self._thread(thread_id, now_s)
                for thread_id in self.threads
                if self.search == "unfiltered"
                or all(self.metadata[thread_id].get(k) == v for k, v in wanted.items())
            ]
            offset = int((body or {}).get("offset") or 0)
            return _json(200, found[offset : offset + int((body or {}).get("limit") or 10)])
        if method == "PUT" and path == "/store/items":
            return Response(204)
        if parts[:1] == ["runs"] and method == "POST":
            return self._stateless(parts[1], body, now_s)
        if parts[:1] != ["threads"] or len(parts) < 2:
            return _json(404, {"detail": "no such route"})
        thread_id = parts[1]
        runs = self.threads.get(thread_id)
        if runs is None:
            return _json(404, {"detail": "thread not found"})
        if len(parts) == 2:
            thread = self._thread(thread_id, now_s)
            return _json(200, {"thread_id": thread_id, "status": thread["status"]})
        if parts[2] == "state":
            values = self._thread(thread_id, now_s)["values"]
            return _json(200, {"values": values, "next": [], "tasks": []})
        if parts[2] == "runs" and len(parts) == 3:
            if method == "GET":
                return _json(200, [run.to_json(now_s) for run in runs if run.ended_as != "deleted"])
            return self._create(thread_id, runs, body, now_s)
        if parts[2] == "runs" and len(parts) == 4 and parts[3] == "wait":
            return _json(200, {"tokens": ["start:x", "end:x"]})
        if parts[2] == "runs" and len(parts) == 4:
            for run in runs:
                if run.run_id == parts[3] and not (
                    run.ended_as == "deleted" and run.cut_s is not None and now_s >= run.cut_s
                ):
                    return _json(200, run.to_json(now_s))
            return _json(404, {"detail": "run not found"})
        return _json(404, {"detail": "no such route"})

    def _thread(self, thread_id: str, now_s: float) -> dict[str, Any]:
        runs = self.threads[thread_id]
        flying = ("running",) if self.idle_while_pending else ("pending", "running")
        busy = any(run.status(now_s) in flying for run in runs)
        tokens = [
            token
            for run in runs
            if run.status(now_s) == "success"
            for token in (f"start:{run.run_id}", f"end:{run.run_id}")
        ]
        changes = [run.created_s for run in runs] + [
            t for run in runs for t in (run.start_s, run.end_s, run.cut_s) if t and t <= now_s
        ]
        return {
            "thread_id": thread_id,
            "status": "busy" if busy else "idle",
            "metadata": self.metadata[thread_id],
            "values": {"tokens": tokens},
            "updated_at": f"t={max(changes, default=0.0):.3f}",
        }

    def _create(self, thread_id: str, runs: list[FakeRun], body: Any, now_s: float) -> Response:
        strategy = body.get("multitask_strategy")
        in_flight = [run for run in runs if run.status(now_s) in ("pending", "running")]
        if strategy == "reject" and in_flight:
            return _json(409, {"detail": "thread is busy"})
        if strategy in ("interrupt", "rollback"):
            for run in in_flight:
                run.cut_s = now_s
                run.ended_as = "interrupted" if strategy == "interrupt" else "deleted"
        seconds = float((body.get("input") or {}).get("seconds", 0.0))
        run = FakeRun(self._id("run"), thread_id, now_s, seconds, strategy)
        previous_end = max((r.end_s if r.cut_s is None else r.cut_s for r in runs), default=now_s)
        run.start_s = max(now_s + self.pickup_s, previous_end)
        run.end_s = run.start_s + seconds
        runs.append(run)
        return _json(200, run.to_json(now_s))

    def _stateless(self, kind: str, body: Any, now_s: float) -> Response:
        if kind == "wait":
            return _json(200, {"tokens": ["start:w", "end:w"]})
        if kind == "stream":
            data = body.get("input") or {}
            return Response(
                200,
                {"content-type": "text/event-stream"},
                stream=_EventStream(
                    self.pickup_s, int(data.get("n", 3)), float(data.get("gap_s", 0.1))
                ),
            )
        return _json(404, {"detail": "no such route"})


def _json(status: int, value: Any) -> Response:
    return Response(
        status, {"content-type": "application/json"}, content=json.dumps(value).encode()
    )


class _EventStream:
    """``metadata`` after ``pickup_s``, then ``values`` at once and ``n`` ``updates`` events
    ``gap_s`` apart, each chunk delivered at its virtual time."""

    def __init__(self, pickup_s: float, n: int, gap_s: float) -> None:
        self._chunks: list[tuple[float, bytes]] = [
            (pickup_s, _event("metadata", {"run_id": "run-stream"})),
            (0.0, _event("values", {"tokens": ["start:run-stream"]})),
        ]
        self._chunks += [(gap_s, _event("updates", {"i": i})) for i in range(n)]
        self._chunks.append(
            (0.0, _event("values", {"tokens": ["start:run-stream", "end:run-stream"]}))
        )

    async def receive_some(self) -> bytes:
        if not self._chunks:
            return b""
        wait_s, chunk = self._chunks.pop(0)
        if wait_s:
            await anyio.sleep(wait_s)
        return chunk

    async def aclose(self) -> None:
        self._chunks = []


def _event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
