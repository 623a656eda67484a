"""Reading damaged histories: malformed and truncated lines, lost lines, several files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from lgbench.check import check_history, read_history
from lgbench.check._reader import _parse, _to_event, _typed_event
from lgbench.errors import UsageError
from tests.check._builder import HistoryBuilder
from tests.check._cases import CASES, enqueue_clean

GARBAGE = "\x00\x01 this is not json"


def lines_of(name: str) -> list[str]:
    return CASES[name]().lines()


def write(tmp_path: Path, lines: list[str], *, newline: bool = True, name: str = "h.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + ("\n" if newline else ""), encoding="utf-8")
    return path


def index_of(lines: list[str], predicate: object) -> int:
    for i, line in enumerate(lines[1:], start=1):
        if predicate(json.loads(line)):  # type: ignore[operator]
            return i
    raise AssertionError("no such line")


def test_pairs_invokes_with_completions(tmp_path: Path) -> None:
    history = read_history(write(tmp_path, lines_of("enqueue_clean")))
    assert history.malformed == history.truncated == history.unpaired == 0
    assert history.phantoms == []
    assert all(op.outcome == "ok" for op in history.operations)
    first = history.operations[0]
    assert (first.f, first.run_id, first.lo, first.hi) == ("runs.create", "A", 0.01, 0.02)
    assert [m.name for m in history.markers] == ["burst.start", "burst.settled"]


def test_a_truncated_last_line_is_counted_and_its_operation_is_info(tmp_path: Path) -> None:
    h = enqueue_clean()
    h.get("T1", "A", 9.0, "success")  # the last line is this read's completion
    lines = h.lines()
    lines[-1] = lines[-1][:40]
    path = write(tmp_path, lines, newline=False)
    history = read_history(path)
    assert (history.truncated, history.malformed, history.unpaired) == (1, 0, 1)
    assert history.operations[-1].outcome == "info"
    result = check_history(path)
    assert result.valid is True
    assert result.history["truncated_files"] == 1


def test_a_truncated_settle_marker_makes_the_burst_unknown(tmp_path: Path) -> None:
    lines = lines_of("enqueue_clean")
    lines[-1] = lines[-1][:30]
    result = check_history(write(tmp_path, lines, newline=False))
    assert result.valid == "unknown"
    assert result.checkers["stuck"].unknown == (
        "no burst.settled marker for thread T1: the history may be cut short",
    )


def test_a_garbled_read_is_harmless(tmp_path: Path) -> None:
    lines = lines_of("enqueue_clean")
    at = index_of(lines, lambda e: e["type"] == "ok" and e["f"] == "runs.get")
    lines[at] = lines[at][:50]  # still shows "type": "ok"
    path = write(tmp_path, lines)
    history = read_history(path)
    assert (history.malformed, history.truncated, len(history.phantoms)) == (1, 0, 0)
    assert check_history(path).valid is True


@pytest.mark.parametrize(
    ("operation", "phantoms"),
    [
        ("http.get", 0),
        ("assistants.get_subgraphs", 0),
        ("threads.update", 0),
        ("store.put_item", 0),
        ("runs.cancel", 1),
        ("threads.delete", 1),
        ("runs.create_batch", 1),
        ("http.post", 1),
        ("not.an_operation", 1),
    ],
)
def test_a_broken_line_may_hide_a_run_only_if_its_operation_may_change_runs(
    tmp_path: Path, operation: str, phantoms: int
) -> None:
    # What may change runs is the operations table's flag, not a list kept here.
    lines = lines_of("enqueue_clean")
    lines[3] = f'{{"type": "invoke", "f": "{operation}", "thread_id": "T'
    history = read_history(write(tmp_path, lines))
    assert history.malformed == 1
    assert len(history.phantoms) == phantoms


def test_a_lost_invoke_is_rebuilt_from_its_completion(tmp_path: Path) -> None:
    lines = lines_of("enqueue_clean")
    at = index_of(lines, lambda e: e["type"] == "invoke" and e["f"] == "runs.create")
    lines[at] = GARBAGE
    path = write(tmp_path, lines)
    history = read_history(path)
    assert history.malformed == 1 and history.phantoms == []
    create = next(op for op in history.operations if op.f == "runs.create")
    assert (create.invoke, create.run_id, create.outcome) == (None, "A", "ok")
    assert check_history(path).valid is True


def test_an_unreadable_line_matters_only_where_it_may_hide_a_create(tmp_path: Path) -> None:
    # In a clean history it changes nothing...
    lines = lines_of("enqueue_clean")
    lines[3] = GARBAGE
    history = read_history(write(tmp_path, lines))
    assert len(history.phantoms) == 1
    assert check_history(write(tmp_path, lines)).valid is True
    # ...but an unexpected run may have come from it: unknown, not invalid.
    lines = lines_of("unexpected_run")
    lines[3] = GARBAGE
    result = check_history(write(tmp_path, lines))
    assert result.valid == "unknown"
    assert result.checkers["unexpected"].unknown == (
        "run X on thread T1 has no create, but one may be the unreadable line 4 of history file 0",
    )


def test_an_unreadable_line_before_a_refusal_blocks_the_proof_of_idleness(tmp_path: Path) -> None:
    lines = lines_of("reject_refused_idle")
    at = index_of(lines, lambda e: e["type"] == "ok" and e["f"] == "threads.get")
    lines[at] = GARBAGE
    result = check_history(write(tmp_path, lines))
    assert result.valid == "unknown"
    assert "may have created one" in result.checkers["reject"].unknown[0]


def test_blank_lines_duplicates_and_a_missing_header(tmp_path: Path) -> None:
    lines = lines_of("enqueue_clean")
    body = lines[1:]
    path = write(tmp_path, [*body[:5], "", body[4], *body[5:]])
    history = read_history(path)
    assert history.malformed == 2  # the blank line and the duplicate
    assert any("no header line" in issue for issue in history.issues)
    assert any("duplicate index 4" in issue for issue in history.issues)
    assert check_history(path).valid is True


def test_an_unsupported_schema_version_is_unknown(tmp_path: Path) -> None:
    lines = lines_of("fifo_violation")
    header = json.loads(lines[0])
    header["schema_version"] = 2
    lines[0] = json.dumps(header)
    result = check_history(write(tmp_path, lines))
    assert result.valid is False  # what is proven stays proven
    lines = lines_of("enqueue_clean")
    lines[0] = json.dumps(header)
    result = check_history(write(tmp_path, lines))
    assert result.valid == "unknown"
    assert "schema_version 2 is not 1" in result.unknown[0]


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read history"):
        check_history(tmp_path / "nope.jsonl")
    with pytest.raises(UsageError, match="no history file"):
        read_history([])


def split(lines: list[str], offset_s: float) -> tuple[list[str], list[str]]:
    """Observer operations to a second file with its own indexes and clock origin."""
    first: list[dict[str, object]] = []
    second: list[dict[str, object]] = []
    for line in lines[1:]:
        event = json.loads(line)
        observer = (event.get("value") or {}).get("observer")
        (second if observer else first).append(event)
    out = []
    for events, shift in ((first, 0.0), (second, offset_s)):
        renumber = {e["index"]: n for n, e in enumerate(events)}
        text = [lines[0]]
        for e in events:
            e["index"] = renumber[e["index"]]
            if "invoke_index" in e:
                e["invoke_index"] = renumber[e["invoke_index"]]
            e["time_ns"] = int(e["time_ns"]) - round(shift * 1e9)  # type: ignore[call-overload]
            text.append(json.dumps(e))
        out.append(text)
    return out[0], out[1]


def test_several_files_are_merged_on_the_wall_clock(tmp_path: Path) -> None:
    for name in ("enqueue_clean", "fifo_violation"):
        single = check_history(write(tmp_path, lines_of(name)))
        a, b = split(lines_of(name), offset_s=7.5)
        merged = check_history(
            [write(tmp_path, a, name="a.jsonl"), write(tmp_path, b, name="b.jsonl")]
        )
        assert merged.valid == single.valid
        assert merged.anomaly_counts() == single.anomaly_counts()
    event = merged.to_dict()["anomalies"]["fifo_violation"]["examples"][0]["events"][-1]
    assert event["file"] == 1 and event["time_s"] == pytest.approx(2.102)


def test_builder_output_is_what_the_recorder_writes() -> None:
    h = HistoryBuilder()
    h.create("T1", "A", 0.01, 0.02)
    header, invoke, ok = (json.loads(line) for line in h.lines())
    assert header["type"] == "header" and header["schema_version"] == 1
    assert (invoke["index"], invoke["type"], ok["invoke_index"], ok["type"]) == (
        0,
        "invoke",
        0,
        "ok",
    )
    assert set(invoke) == {
        "index",
        "type",
        "time_ns",
        "wall",
        "process",
        "actor",
        "scenario",
        "f",
        "value",
        "error",
    }


@pytest.mark.parametrize(
    "raw",
    [
        b'{"index": 1, "value": {"n": NaN, "m": -Infinity}}\n',
        b'{"index": 1, "value": {"n": 123456789012345678901234567890}}\n',
        b'{"index": 1, "value": {"n": "\\ud800"}}\n',
        b'{"index": 1, "value": {"n": "\xff\xfe"}}\n',
        b'{"index": 1, "value": {"n": 1e400, "x": 0.1, "y": -0.0, "z": 1.5e-7}}\n',
        b'{"index": 1, "index": 2, "value": {"a": [1, {"b": null}], "\xc3\xa9": true}}\n',
        b"[1, 2]\n",
        b"\n",
        b'{"index": 1, "value": {',
    ],
)
def test_a_line_reads_as_the_stdlib_json_reads_it(raw: bytes) -> None:
    # orjson refuses NaN, integers past 64 bits, lone surrogates and bytes that are not
    # UTF-8, all of which json reads (the last as U+FFFD): the reader must give json's objects.
    try:
        expected = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        expected = None
    if not isinstance(expected, dict):
        expected = None
    assert repr(_parse(raw)) == repr(expected)


_GOOD = {
    "index": 3,
    "type": "ok",
    "time_ns": 5_000_000,
    "wall": 1764963000.5,
    "process": 0,
    "actor": 1,
    "scenario": "s",
    "f": "threads.create",
    "invoke_index": 2,
    "value": {"thread_id": "t", "kept": 1},
    "error": None,
}
_ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "invoke", "ok", "fail", "info", "marker", "header", "x"]),
    st.just({}),
    st.just({"thread_id": "t"}),
    st.just([1]),
)
_FIELDS = (*_GOOD, "name")


@example({"type": {}}, set())  # an unhashable type: a malformed line, not a crash
@given(
    st.dictionaries(st.sampled_from(_FIELDS), _ODD_VALUES, max_size=6),
    st.sets(st.sampled_from(tuple(_GOOD)), max_size=3),
)
def test_the_typed_reading_of_a_line_is_the_general_one(
    changes: dict[str, object], dropped: set[str]
) -> None:
    # Lines of the usual shape are read by a typed msgspec decoder: whatever it accepts
    # must give the very event the general reading gives (repr: 1 and 1.0 differ there).
    obj = {k: v for k, v in {**_GOOD, **changes}.items() if k not in dropped}
    raw = json.dumps(obj).encode() + b"\n"
    typed = _typed_event(raw, 0, 7, str, str)
    parsed = _parse(raw)
    general = _to_event(parsed, 0, 7, str, str) if parsed is not None else None
    if typed is not None:
        assert repr(typed) == repr(general)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"index": 1, "type": "marker", "time_ns": 1, "name": "m", "value": {"a": 1}}\n',
        b'{"index": 1, "type": "invoke", "time_ns": 1, "f": "x", "wall": 17}\n',
        b'{"index": 1, "type": "invoke", "time_ns": 1, "f": "x", "f": "y"}\n',
        b'{"index": 1, "type": "invoke", "time_ns": 1, "f": "x", "zzz": [1, 2]}',
    ],
)
def test_the_typed_reading_of_odd_but_valid_lines(raw: bytes) -> None:
    typed = _typed_event(raw, 0, 1, str, str)
    parsed = _parse(raw)
    assert parsed is not None
    assert typed is not None
    assert repr(typed) == repr(_to_event(parsed, 0, 1, str, str))


def test_events_and_operations_read_are_the_dataclasses_their_init_builds(tmp_path: Path) -> None:
    # The reader builds them without their __init__ (it is slow for a frozen dataclass).
    import dataclasses

    from lgbench.check._events import Event, Operation

    history = read_history(write(tmp_path, lines_of("enqueue_clean")))
    assert history.operations
    for op in history.operations:
        assert type(op) is Operation
        assert op == Operation(**{f.name: getattr(op, f.name) for f in dataclasses.fields(op)})
        with pytest.raises(dataclasses.FrozenInstanceError):
            op.lo = 0.0  # type: ignore[misc]
        for event in (op.invoke, op.completion):
            assert type(event) is Event
            fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(Event)}
            assert event == Event(**fields)


def _with_header(lines: list[str], **fields: object) -> list[str]:
    return [json.dumps({**json.loads(lines[0]), **fields}), *lines[1:]]


@pytest.mark.parametrize("lost", [True, False])
def test_a_lost_workers_operations_in_flight_are_info(tmp_path: Path, lost: bool) -> None:
    """A worker that died mid-run (``worker.lost`` in the coordinator's file) left invokes
    without a completion: they are info and counted as the loss's, not as damage."""
    coordinator = HistoryBuilder()
    if lost:
        coordinator.marker("worker.lost", 5.0, {"worker": 2, "pid": 7, "at_s": 5.0}, scenario="")
    worker = enqueue_clean()
    worker.op("threads.get", 4.0, None, args={"thread_id": "T1"}, process=2)
    worker.op("runs.create", 4.1, None, args={"thread_id": "T9"}, process=5)
    paths = [
        write(tmp_path, _with_header(coordinator.lines(), worker=0), name="history.jsonl"),
        write(tmp_path, _with_header(worker.lines(), worker=2), name="history.w2.jsonl"),
        write(tmp_path, _with_header(enqueue_clean().lines(), worker=1), name="history.w1.jsonl"),
    ]
    history = read_history(paths)
    cut_short = [op for op in history.operations if op.completion is None]
    assert len(cut_short) == 2 and all(op.outcome == "info" for op in cut_short)
    assert all(op.hi == float("inf") for op in cut_short)  # the server may still apply them
    assert (history.lost_in_flight, history.unpaired) == ((2, 0) if lost else (0, 2))
    result = check_history(paths)
    assert result.valid is not False
    assert result.history["lost_worker_invokes"] == (2 if lost else 0)
    assert result.history["unpaired_invokes"] == (0 if lost else 2)
    noted = [i for i in result.history["issues"] if i.startswith("worker 2 was lost")]
    assert noted == (
        [
            "worker 2 was lost at 5.0 s: its 2 operation(s) in flight are info (their"
            " outcome is unknown)"
        ]
        if lost
        else []
    )
