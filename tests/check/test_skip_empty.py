"""``scan_history(skip_empty=True)`` reads as the full scan does, less what the sink skips.

The checker's streaming pass counts an operation with empty values that cannot create a run
(every raw HTTP step's) without building it. Whatever the history, damaged or not, in one
file or several, the scan must learn the same things, and the sink must receive the same
operations and markers as with the full scan once both are stripped of those operations.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lgbench.check._events import CREATING_OPS, Operation
from lgbench.check._reader import Scan, _Collect, scan_history
from tests.check._builder import HistoryBuilder

#: (name, invoke value, completion value): empty and not, creating and not, and the mixed
#: pairs whose one empty side must still be built when the other needs it.
SHAPES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("http.get", {}, {}),
    ("http.post", {}, {}),
    ("runs.cancel", {}, {}),
    ("runs.create", {}, {}),
    ("threads.get", {"thread_id": "T1"}, {"status": "idle"}),
    ("threads.get", {}, {"status": "busy", "thread_id": "T2"}),
    ("threads.get", {"thread_id": "T3"}, {}),
    ("runs.create", {"thread_id": "T1"}, {"run_id": "R1", "status": "pending"}),
    ("store.get_item", {}, {"ignored_field": 1}),
]

operations = st.lists(
    st.tuples(
        st.sampled_from(range(len(SHAPES))),
        st.floats(0.0, 10.0),
        st.floats(0.0, 2.0),
        st.sampled_from(["ok", "ok", "fail", "info", None]),
    ),
    min_size=1,
    max_size=25,
)
damage = st.lists(
    st.tuples(st.sampled_from(["drop", "duplicate", "swap", "garble", "cut"]), st.integers(0, 60)),
    max_size=4,
)


def _judged(ops: list[Operation]) -> list[Operation]:
    """What the checker's sink does not skip (its rule, lgbench.check._check._Sink)."""
    return [op for op in ops if op.args or op.result or op.f in CREATING_OPS]


def _history(ops: list[tuple[int, float, float, str | None]]) -> list[str]:
    h = HistoryBuilder()
    for n, (shape, t0, duration, outcome) in enumerate(ops):
        f, args, result = SHAPES[shape]
        h.op(f, t0, t0 + duration, args=args, result=result, outcome=outcome, actor=n)
        if n % 7 == 3:
            h.marker("burst.settled", t0, {"thread_id": "T1"})
    return h.lines()


def _damaged(lines: list[str], changes: list[tuple[str, int]]) -> list[str]:
    out = list(lines)
    for kind, at in changes:
        if len(out) < 3:
            break
        i = 1 + at % (len(out) - 1)  # never the header
        if kind == "drop":
            del out[i]
        elif kind == "duplicate":
            out.insert(i, out[i])
        elif kind == "swap" and i + 1 < len(out):
            out[i], out[i + 1] = out[i + 1], out[i]
        elif kind == "garble":
            out[i] = out[i][: len(out[i]) // 2]
        elif kind == "cut":
            out[-1] = out[-1][: len(out[-1]) // 2]
    return out


def _scan(paths: list[Path], skip_empty: bool) -> tuple[Scan, _Collect]:
    sink = _Collect()  # read_history's sink: it keeps everything
    scan = scan_history(paths, sink, intern_ids=False, skip_empty=skip_empty)
    return scan, sink


def _write(folder: Path, name: str, lines: list[str], terminated: bool) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + ("\n" if terminated else ""), encoding="utf-8")
    return path


def _split(lines: list[str]) -> tuple[list[str], list[str]]:
    """Two processes' files: alternate events, each file indexed from 0 again."""
    header, *events = lines
    files: tuple[list[str], list[str]] = ([header], [header])
    for n, line in enumerate(events):
        files[n % 2].append(line)
    renumbered: list[list[str]] = []
    for file in files:
        index_of: dict[int, int] = {}
        out = [file[0]]
        for line in file[1:]:
            try:
                event = json.loads(line)
            except ValueError:
                out.append(line)
                continue
            index_of[event["index"]] = len(index_of)
            event["index"] = index_of[event["index"]]
            if "invoke_index" in event:
                event["invoke_index"] = index_of.get(event["invoke_index"], 10_000)
            out.append(json.dumps(event, separators=(",", ":")))
        renumbered.append(out)
    return renumbered[0], renumbered[1]


@settings(max_examples=300, deadline=None)
@given(ops=operations, changes=damage, several=st.booleans(), terminated=st.booleans())
def test_skipping_empty_operations_reads_the_same_history(
    tmp_path_factory: Any,
    ops: list[tuple[int, float, float, str | None]],
    changes: list[tuple[str, int]],
    several: bool,
    terminated: bool,
) -> None:
    folder = tmp_path_factory.mktemp("skip")
    lines = _damaged(_history(ops), changes)
    if several:
        a, b = _split(lines)
        paths = [_write(folder, "a.jsonl", a, True), _write(folder, "b.jsonl", b, terminated)]
    else:
        paths = [_write(folder, "h.jsonl", lines, terminated)]
    full_scan, full = _scan(paths, skip_empty=False)
    skipped_scan, skipped = _scan(paths, skip_empty=True)
    assert skipped_scan == full_scan
    assert _judged(skipped.operations) == _judged(full.operations)
    assert skipped.markers == full.markers


def test_the_empty_operations_are_counted_not_handed_over(tmp_path: Path) -> None:
    h = HistoryBuilder()
    h.op("http.get", 0.1, 0.2)
    h.op("http.get", 0.3, 0.4, outcome="info")
    h.op("http.get", 0.5, None)  # no completion: info
    h.op("threads.get", 0.6, 0.7, args={"thread_id": "T1"}, result={"status": "idle"})
    path = h.write(tmp_path / "h.jsonl")
    scan, sink = _scan([path], skip_empty=True)
    assert [op.f for op in sink.operations] == ["threads.get"]
    assert (scan.operations, scan.info, scan.unpaired, scan.events) == (4, 2, 1, 7)
    full_scan, _ = _scan([path], skip_empty=False)
    assert scan == full_scan
