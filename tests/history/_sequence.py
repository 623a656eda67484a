"""A fixed sequence of operations written through :class:`HistoryWriter`, for byte-for-byte
comparisons of ``history.jsonl`` across changes to how lines are encoded and written.

``tests/data/history_sequence.jsonl`` holds what the writer wrote for it before lines were
encoded natively and written together; ``test_writer.py`` writes it again and compares.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from lgbench.history import HistoryWriter, StreamSummary, _writer, invoke_value, ok_value

FIXTURE = Path(__file__).parent.parent / "data" / "history_sequence.jsonl"
#: The same sequence rotated every ROTATE_BYTES: its segments' lines, one after the other.
ROTATED_FIXTURE = FIXTURE.with_name("history_sequence_rotated.jsonl")
ROTATE_BYTES = 2_000


def rotated_lines(path: Path) -> bytes:
    """The lines of ``path``'s finished segments (decompressed) and of ``path``, in order."""
    segments = sorted(path.parent.glob(path.stem + "-*.jsonl.gz"))
    return b"".join(gzip.decompress(s.read_bytes()) for s in segments) + path.read_bytes()


STARTED_AT = "2026-12-05T19:30:00+00:00"
_UUID = "0b5e8c3a-1111-4222-8333-444455556666"


class _Clock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        self.now_s += 0.000123
        return self.now_s


def write_sequence(
    path: Path, monkeypatch: pytest.MonkeyPatch, *, rotate_bytes: int | None = None
) -> None:
    """Write the sequence to ``path`` (its wall clock fixed through ``monkeypatch``)."""
    walls = iter(1_764_963_000.0 + k * 0.001537 for k in range(10_000))
    monkeypatch.setattr(_writer.time, "time", lambda: next(walls))
    clock = _Clock()
    header = {"workload": "seq", "target": "http://127.0.0.1:1", "started_at": STARTED_AT}
    with HistoryWriter.open(
        path, clock=clock, origin_s=999.5, header=header, rotate_bytes=rotate_bytes
    ) as writer:
        process = writer.new_process()
        # The closed loop's plain GET: empty values both ways.
        for actor in range(3):
            done = writer.invoke(
                process=process, actor=actor, scenario="get", f="http.get",
                value=invoke_value("http.get", {"path": "/json"}),
            )  # fmt: skip
            writer.complete(done, "ok", value=ok_value("http.get", {"path": "/json"}, {"a": 1}))
        # Runs with options, results with times and statuses, unicode and escapes.
        arguments = {
            "thread_id": _UUID,
            "assistant_id": "agent",
            "multitask_strategy": "enqueue",
            "stream_mode": ("values", "updates"),
            "after_seconds": 0.25,
            "input": {"messages": []},
        }
        created = writer.invoke(
            process=process, actor=7, scenario='ünï\u2028"q\\\n\x01', f="runs.create",
            value=invoke_value("runs.create", arguments),
        )  # fmt: skip
        result = {
            "run_id": "r-\u00e9\U0001f600",
            "thread_id": _UUID,
            "status": "pending",
            "created_at": "2026-12-05T19:30:00.123456+00:00",
        }
        writer.complete(created, "ok", value=ok_value("runs.create", arguments, result))
        state = {"values": {"tokens": ["a", "b", "c"]}, "next": ["node"], "interrupts": [1, 2]}
        read = writer.invoke(
            process=process, actor=7, scenario="chat", f="threads.get_state",
            value=invoke_value("threads.get_state", {"thread_id": _UUID}),
        )  # fmt: skip
        writer.complete(
            read, "ok", value=ok_value("threads.get_state", {"thread_id": _UUID}, state)
        )
        waited = writer.invoke(
            process=process, actor=8, scenario="chat", f="runs.wait",
            value=invoke_value("runs.wait", {"thread_id": _UUID, "after_seconds": 1e-05}),
        )  # fmt: skip
        error_body = {"__error__": {"error": "E", "message": "m", "n": 1e16, "x": -0.0}}
        writer.complete(
            waited, "ok",
            value=ok_value("runs.wait", {"thread_id": _UUID, "run_id": "r2"}, error_body),
        )  # fmt: skip
        big = writer.invoke(process=process, actor=9, scenario="s", f="store.put_item", value={})
        writer.complete(big, "ok", value={"n": 2**70, "k": {"1": [True, False, None]}})
        # A stream with its summary, kept events and a reply digest.
        summary = StreamSummary(keep_events=True)
        summary.add("metadata", {"run_id": "r3"}, 10)
        summary.add("values", {"tokens": ["x"]}, 20)
        summary.add("messages", [{"id": "reply:r3", "content": "hé"}, {}], 30)
        summary.add("updates", {"t": 1.5, "big": 12345678901234567890}, 40)
        streamed = writer.invoke(
            process=process, actor=9, scenario="s", f="runs.stream",
            value=invoke_value("runs.stream", {"thread_id": _UUID, "stream_mode": ["values"]}),
        )  # fmt: skip
        writer.complete(streamed, "ok", value=summary.to_value({"thread_id": _UUID}))
        # Failures, markers, and an actor continuing under a new process.
        failed = writer.invoke(
            process=process, actor=1, scenario="get", f="threads.create", value={}
        )
        writer.complete(
            failed, "info", value={"observer": True},
            error={"class": "ReadTimeout", "status": None, "message": "timed out \u00e9"},
        )  # fmt: skip
        writer.marker("burst.start", scenario="b", value={"threads": 3, "at": 0.5})
        writer.marker("run.partial", scenario="")
        process = writer.new_process()
        last = writer.invoke(process=process, actor=1, scenario="get", f="http.get", value=None)
        writer.complete(last, "fail", error={"class": "ApiError", "status": 404, "message": ""})
        # Many closed-loop requests interleaved, as 4 VUs write them.
        pending = []
        for k in range(40):
            if len(pending) == 4:
                writer.complete(pending.pop(0), "ok", value={})
            pending.append(
                writer.invoke(process=process, actor=k % 4, scenario="get", f="http.get", value={})
            )
        for invocation in pending:
            writer.complete(invocation, "ok", value={})
