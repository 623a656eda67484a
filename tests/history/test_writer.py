"""history.jsonl as docs/history.md specifies it: header, indexed lines, flushed as written."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from lgbench.history import HISTORY_SCHEMA_VERSION, HistoryWriter, _writer, read_history
from tests.history._sequence import (
    FIXTURE,
    ROTATE_BYTES,
    ROTATED_FIXTURE,
    rotated_lines,
    write_sequence,
)


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def open_writer(tmp_path: Path, clock: FakeClock) -> HistoryWriter:
    return HistoryWriter.open(
        tmp_path / "history.jsonl",
        clock=clock,
        origin_s=100.0,
        header={"workload": "w", "target": "embedded", "server": {"version": "0.16.7"}},
    )


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_header_then_invoke_and_completion_with_every_field(tmp_path: Path) -> None:
    clock = FakeClock()
    with open_writer(tmp_path, clock) as writer:
        process = writer.new_process()
        invocation = writer.invoke(
            process=process,
            actor=3,
            scenario="chat",
            f="runs.create",
            value={"thread_id": "t1", "multitask_strategy": None},
        )
        clock.now_s = 100.25
        writer.complete(invocation, "ok", value={"run_id": "r1"})
    header, invoke, ok = lines(tmp_path / "history.jsonl")
    assert header["type"] == "header"
    assert header["schema_version"] == HISTORY_SCHEMA_VERSION == 1
    assert header["workload"] == "w" and header["server"] == {"version": "0.16.7"}
    assert {"lgbench_version", "started_at"} <= set(header)
    assert "index" not in header
    assert invoke == {
        "index": 0,
        "type": "invoke",
        "time_ns": 0,
        "wall": invoke["wall"],
        "process": 0,
        "actor": 3,
        "scenario": "chat",
        "f": "runs.create",
        "value": {"thread_id": "t1", "multitask_strategy": None},
        "error": None,
    }
    assert ok["index"] == 1 and ok["type"] == "ok" and ok["invoke_index"] == 0
    assert ok["time_ns"] == 250_000_000
    assert ok["process"] == 0 and ok["f"] == "runs.create" and ok["scenario"] == "chat"
    assert isinstance(ok["wall"], float)


def test_every_line_is_on_disk_before_the_next_invoke_line(tmp_path: Path) -> None:
    # An invoke line (its request goes out next) and a marker are written at once, with
    # every line before them; a completion may wait in memory until then, or sync or close.
    clock = FakeClock()
    path = tmp_path / "history.jsonl"
    writer = open_writer(tmp_path, clock)
    try:
        invocation = writer.invoke(process=0, actor=1, scenario="s", f="threads.get", value={})
        assert len(lines(path)) == 2  # header + invoke, not buffered
        writer.complete(invocation, "fail", error={"class": "NotFoundError", "status": 404})
        assert writer.lines_written == 2
        following = writer.invoke(process=0, actor=1, scenario="s", f="threads.get", value={})
        assert [line["type"] for line in lines(path)[1:]] == ["invoke", "fail", "invoke"]
        writer.complete(following, "ok", value={})
        writer.marker("burst.start", scenario="s", value={"thread_id": "t"})
        assert [line.get("name") for line in lines(path)[-2:]] == [None, "burst.start"]
        last = writer.invoke(process=0, actor=2, scenario="s", f="threads.get", value={})
        writer.complete(last, "ok", value={})
        writer.sync()  # fsync only: it runs in a worker thread and writes nothing
        assert lines(path)[-1]["type"] == "invoke"
        writer.flush()
        assert lines(path)[-1]["type"] == "ok"
        writer.complete(writer.invoke(process=0, actor=2, scenario="s", f="g", value={}), "ok")
    finally:
        writer.close()
    assert [line["index"] for line in lines(path)[1:]] == list(range(9))


def test_processes_are_fresh_and_completions_happen_once(tmp_path: Path) -> None:
    with open_writer(tmp_path, FakeClock()) as writer:
        assert [writer.new_process() for _ in range(3)] == [0, 1, 2]
        invocation = writer.invoke(process=0, actor=1, scenario="s", f="runs.cancel", value={})
        writer.complete(invocation, "info", error={"class": "Cancelled"})
        with pytest.raises(RuntimeError, match="already complete"):
            writer.complete(invocation, "ok")
        with pytest.raises(ValueError, match="ok, fail or info"):
            writer.complete(invocation, "done")  # type: ignore[arg-type]
        assert writer.lines_written == 2


def test_a_value_json_cannot_hold_writes_nothing(tmp_path: Path) -> None:
    with open_writer(tmp_path, FakeClock()) as writer:
        with pytest.raises(ValueError):
            writer.marker("m", scenario="s", value={"x": float("nan")})
        writer.marker("m", scenario="s")
    history = read_history(tmp_path / "history.jsonl")
    assert [event["index"] for event in history.events] == [0]  # no index was used up


def test_the_reader_drops_a_cut_off_last_line_only(tmp_path: Path) -> None:
    with open_writer(tmp_path, FakeClock()) as writer:
        writer.marker("burst.start", scenario="s")
        writer.marker("burst.settled", scenario="s")
    path = tmp_path / "history.jsonl"
    text = path.read_text()
    path.write_text(text[: len(text) - 10])  # killed in the middle of the last line
    history = read_history(path)
    assert history.truncated
    assert [event["name"] for event in history.markers()] == ["burst.start"]
    path.write_text('{"type": "header"}\nnot json\n{"index": 0}\n')
    with pytest.raises(ValueError, match=":2: not JSON"):
        read_history(path)
    path.write_text('{"index": 0}\n')
    with pytest.raises(ValueError, match="header"):
        read_history(path)


def test_an_invoke_line_and_the_completions_before_it_are_one_os_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[bytes] = []
    real_write = os.write

    def counting_write(fd: int, data: bytes) -> int:
        writes.append(bytes(data))
        return real_write(fd, data)

    writer = open_writer(tmp_path, FakeClock())
    try:
        monkeypatch.setattr(os, "write", counting_write)
        first = writer.invoke(process=0, actor=1, scenario="s", f="http.get", value={})
        second = writer.invoke(process=0, actor=2, scenario="s", f="http.get", value={})
        assert len(writes) == 2 and all(data.count(b"\n") == 1 for data in writes)
        assert lines(tmp_path / "history.jsonl")[-1]["type"] == "invoke"
        writer.complete(first, "ok", value={"thread_id": "é"})
        writer.complete(second, "ok", value={})
        assert len(writes) == 2
        writer.invoke(process=0, actor=1, scenario="s", f="http.get", value={})
        assert len(writes) == 3 and writes[-1].count(b"\n") == 3
        writer.marker("burst.start", scenario="s")
        assert len(writes) == 4 and writes[-1].count(b"\n") == 1
        assert (tmp_path / "history.jsonl").read_bytes().endswith(b"".join(writes))
    finally:
        writer.close()


def _as_the_encoder_writes(line: dict[str, Any]) -> str:
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def test_invoke_and_completion_lines_are_what_the_encoder_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_writer.time, "time", lambda: 1_700_000_000.123456)
    out = io.StringIO()
    writer = HistoryWriter(out, clock=FakeClock(), origin_s=99.5)
    scenario = 'ünï\u2028"q\\\n\x01'
    invocation = writer.invoke(
        process=7, actor=3, scenario=scenario, f="runs.create", value={"n": 0.1}, at_s=100.25
    )
    writer.complete(
        invocation, "info", value={"x": [1, 2.5, None, True]}, error={"class": "E"}, at_s=101
    )
    common = {"process": 7, "actor": 3, "scenario": scenario, "f": "runs.create"}
    wall = 1_700_000_000.123456
    assert out.getvalue() == _as_the_encoder_writes(
        {"index": 0, "type": "invoke", "time_ns": 750_000_000, "wall": wall, **common}
        | {"value": {"n": 0.1}, "error": None}
    ) + _as_the_encoder_writes(
        {"index": 1, "type": "info", "time_ns": 1_500_000_000, "wall": wall, **common}
        | {"invoke_index": 0, "value": {"x": [1, 2.5, None, True]}, "error": {"class": "E"}}
    )


def test_an_invoke_or_completion_json_cannot_hold_writes_nothing(tmp_path: Path) -> None:
    with open_writer(tmp_path, FakeClock()) as writer:
        with pytest.raises(ValueError):
            writer.invoke(process=0, actor=0, scenario="s", f="g", value={"x": float("inf")})
        invocation = writer.invoke(process=0, actor=0, scenario="s", f="g", value=None)
        with pytest.raises(TypeError):
            writer.complete(invocation, "ok", value={"x": object()})
        assert not invocation.completed
        writer.complete(invocation, "ok")
    history = read_history(tmp_path / "history.jsonl")
    assert [event["index"] for event in history.events] == [0, 1]


def test_a_fixed_sequence_writes_the_same_bytes_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.jsonl"
    write_sequence(path, monkeypatch)
    assert path.read_bytes() == FIXTURE.read_bytes()


def test_a_fixed_sequence_rotates_where_it_did_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Completions written together with the next invoke still end their segment where they
    # did when every line was written alone.
    path = tmp_path / "history.jsonl"
    write_sequence(path, monkeypatch, rotate_bytes=ROTATE_BYTES)
    assert rotated_lines(path) == ROTATED_FIXTURE.read_bytes()


def test_floats_and_odd_values_are_written_as_the_encoder_writes_them() -> None:
    # msgspec writes some of them (floats between 1e-4 and 1e16 among them), the encoder the
    # rest; the bytes must not tell which.
    floats = [0.0, -0.0, 1e-4, 9.99e-5, 0.1, 2.5, 1e15, 9999999999999998.0, 1e16, 1e-7, -3.75]
    floats += [1.6e9 + k / 7 for k in range(50)]
    odd: list[Any] = [{"k": 2**70}, {"k": [True, None, {"x": "é\u2028\x00"}]}, {"k": (1, 2)}]
    odd += [{1: "int key"}, {"k": {"deep": [[[1.5e300]]]}}, {"k": float("-inf")}, {"k": -1e-300}]
    for item in [*({"k": number} for number in floats), *odd]:
        try:
            expected = _as_the_encoder_writes(item)[:-1]
        except ValueError:
            with pytest.raises(ValueError):
                _writer._value(item)
            continue
        assert _writer._value(item) == expected
    for number in floats:
        assert _writer._float(number) == json.dumps(number)


def test_the_repeated_fields_are_the_encoders_whatever_was_written_before() -> None:
    from lgbench.history import _writer

    for process, actor in [(1, 2), (True, 2), (1, 2), (2**70, 3), (1, False)]:
        expected = json.dumps(
            {"process": process, "actor": actor, "scenario": "s é", "f": "http.get"},
            ensure_ascii=False,
            separators=(",", ":"),
        )[1:-1]
        assert _writer._fields(process, actor, "s é", "http.get") == expected
    # Bounded: a run with more actors than the cache holds refills it.
    for actor in range(_writer._MAX_FIELD_TEXTS + 10):
        _writer._fields(0, actor, "s", "f")
    assert len(_writer._field_texts) <= _writer._MAX_FIELD_TEXTS
