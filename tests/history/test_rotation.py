"""Rotation into numbered, compressed segments, and reading the set back as one history."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from lgbench.errors import UsageError
from lgbench.history import (
    CompletionType,
    HistoryWriter,
    find_history_sets,
    iter_lines,
    read_history,
    segment_path,
)


class StepClock:
    def __init__(self) -> None:
        self.now_s = 10.0

    def __call__(self) -> float:
        self.now_s += 0.001
        return self.now_s


def run_like_load(path: Path, *, rotate_bytes: int | None, operations: int = 600) -> int:
    """Interleaved operations of several actors with markers, as a run writes them.

    Returns how many indexed lines were written.
    """
    rng = random.Random(7)
    writer = HistoryWriter.open(
        path,
        clock=StepClock(),
        origin_s=10.0,
        header={"workload": "rot", "target": "embedded"},
        rotate_bytes=rotate_bytes,
    )
    with writer:
        in_flight = []
        for n in range(operations):
            process = writer.new_process()
            in_flight.append(
                writer.invoke(
                    process=process,
                    actor=n % 7,
                    scenario="chat",
                    f="runs.wait",
                    value={"thread_id": f"t{n % 13}", "multitask_strategy": None},
                )
            )
            if rng.random() < 0.6:
                done = in_flight.pop(rng.randrange(len(in_flight)))
                kinds: list[CompletionType] = ["ok", "ok", "fail", "info"]
                kind = rng.choice(kinds)
                writer.complete(done, kind, value={"run_id": f"r{done.index}", "tokens": []})
            if n % 97 == 0:
                writer.marker("burst.start", scenario="chat", value={"thread_id": f"t{n}"})
        for done in in_flight:
            writer.complete(done, "ok", value={"run_id": f"r{done.index}"})
        writer.sync()
        written = writer.lines_written
        assert writer.segments >= 3
    assert writer.compression_errors == ()
    return written


def test_segments_are_numbered_compressed_and_read_back_whole(tmp_path: Path) -> None:
    written = run_like_load(tmp_path / "history.jsonl", rotate_bytes=8_000)
    names = sorted(p.name for p in tmp_path.iterdir())
    segments = [n for n in names if n != "history.jsonl"]
    assert segments == [f"history-{k:04d}.jsonl.gz" for k in range(1, len(segments) + 1)]
    indexes: list[int] = []
    for k, name in enumerate(segments, start=1):
        lines = gzip.decompress((tmp_path / name).read_bytes()).decode().splitlines()
        header = json.loads(lines[0])
        assert header["type"] == "header" and header["segment"] == k
        assert header["workload"] == "rot"
        if k == 1:
            assert "continues" not in header
        else:
            assert header["continues"] == k - 1
            assert header["first_index"] == json.loads(lines[1])["index"]
        indexes += [json.loads(line)["index"] for line in lines[1:]]
    live = (tmp_path / "history.jsonl").read_text().splitlines()
    assert json.loads(live[0])["segment"] == len(segments) + 1
    indexes += [json.loads(line)["index"] for line in live[1:]]
    assert indexes == list(range(written))
    history = read_history(tmp_path)
    assert [e["index"] for e in history.events] == list(range(written))
    assert history.header["segment"] == 1
    assert (history.truncated, history.issues) == (False, ())
    assert len(history.files) == len(segments) + 1


def test_without_rotation_nothing_changes(tmp_path: Path) -> None:
    written = run_like_load_unrotated(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["history.jsonl"]
    history = read_history(tmp_path / "history.jsonl")
    assert "segment" not in history.header
    assert len(history.events) == written


def run_like_load_unrotated(tmp_path: Path) -> int:
    writer = HistoryWriter.open(
        tmp_path / "history.jsonl", clock=StepClock(), origin_s=10.0, header={}
    )
    with writer:
        invocation = writer.invoke(process=0, actor=0, scenario="s", f="runs.get", value=None)
        writer.complete(invocation, "ok")
        writer.sync()
        assert writer.segments == 0
    writer.sync()  # closed: a no-op
    return 2


def test_a_kill_mid_line_and_a_cut_gz_still_read(tmp_path: Path) -> None:
    written = run_like_load(tmp_path / "history.jsonl", rotate_bytes=8_000)
    live = tmp_path / "history.jsonl"
    text = live.read_bytes()
    live.write_bytes(text[: text.rindex(b"\n", 0, len(text) - 1) + 25])  # cut a line short
    second = segment_path(live, 2, compressed=True)
    blob = second.read_bytes()
    second.write_bytes(blob[: len(blob) // 2])
    history = read_history(tmp_path)
    assert history.truncated
    assert any(
        "history-0002.jsonl.gz: the compressed stream is cut short" in i for i in history.issues
    )
    indexes = [e["index"] for e in history.events]
    assert indexes == sorted(set(indexes))
    assert 0 < len(indexes) < written - 1
    # What the cut .gz still held was kept: its first lines are there.
    complete = gzip.decompress(segment_path(live, 1, compressed=True).read_bytes())
    assert len(indexes) > len(complete.splitlines())


def test_a_missing_middle_segment_is_named(tmp_path: Path) -> None:
    run_like_load(tmp_path / "history.jsonl", rotate_bytes=8_000)
    segment_path(tmp_path / "history.jsonl", 2, compressed=True).unlink()
    with pytest.raises(UsageError, match=r"history-0002\.jsonl\.gz .* is missing"):
        read_history(tmp_path)
    with pytest.raises(UsageError, match=r"history-0002\.jsonl\.gz .* is missing"):
        read_history(tmp_path / "history.jsonl")


def test_an_explicit_list_plain_and_gz_in_any_order(tmp_path: Path) -> None:
    written = run_like_load(tmp_path / "history.jsonl", rotate_bytes=8_000)
    live = tmp_path / "history.jsonl"
    second = segment_path(live, 2, compressed=True)
    plain = segment_path(live, 2)
    plain.write_bytes(gzip.decompress(second.read_bytes()))
    second.unlink()
    files = sorted(tmp_path.iterdir(), reverse=True)
    history = read_history(files)
    assert [e["index"] for e in history.events] == list(range(written))
    assert history.files[1] == str(plain)


def test_a_segment_left_both_plain_and_compressed_reads_the_plain_one(tmp_path: Path) -> None:
    written = run_like_load(tmp_path / "history.jsonl", rotate_bytes=8_000)
    live = tmp_path / "history.jsonl"
    gz = segment_path(live, 1, compressed=True)
    segment_path(live, 1).write_bytes(gzip.decompress(gz.read_bytes()))
    gz.write_bytes(gz.read_bytes()[:20])  # a .gz cut short: not read at all
    history = read_history(tmp_path)
    assert [e["index"] for e in history.events] == list(range(written))
    assert any("history-0001.jsonl is read instead" in issue for issue in history.issues)


def test_a_live_file_named_alone_brings_its_segments(tmp_path: Path) -> None:
    written = run_like_load(tmp_path / "history.jsonl", rotate_bytes=8_000)
    (found,) = find_history_sets(tmp_path / "history.jsonl")
    assert [f.number for f in found.files] == list(range(1, len(found.files) + 1))
    assert found.files[-1].live and not found.files[0].live
    assert len(read_history(tmp_path / "history.jsonl").events) == written


def test_a_file_named_like_a_segment_without_segments_stands_alone(tmp_path: Path) -> None:
    path = tmp_path / "history-2024.jsonl"
    path.write_text('{"type": "header", "schema_version": 1}\n')
    (found,) = find_history_sets(path)
    assert [(f.path, f.live) for f in found.files] == [(path, True)]


def test_gzip_members_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(gzip.compress(b"a\nb") + gzip.compress(b"c\n"))
    reader = iter_lines(path)
    assert list(reader) == [b"a\n", b"bc\n"]
    assert reader.damage is None
    path.write_bytes(b"")
    reader = iter_lines(path)
    assert list(reader) == []
    assert reader.damage is not None and "empty" in reader.damage


def test_no_history_in_a_folder_and_stale_segments(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no history file"):
        read_history(tmp_path)
    run_like_load(tmp_path / "history.jsonl", rotate_bytes=8_000)
    with pytest.raises(FileExistsError):
        HistoryWriter.open(
            tmp_path / "history.jsonl",
            clock=StepClock(),
            origin_s=0.0,
            header={},
            rotate_bytes=8_000,
        )
    with pytest.raises(ValueError, match="at least 1"):
        HistoryWriter.open(
            tmp_path / "other.jsonl", clock=StepClock(), origin_s=0.0, header={}, rotate_bytes=0
        )


def test_no_temporary_or_plain_segment_is_left_after_close(tmp_path: Path) -> None:
    run_like_load(tmp_path / "history.jsonl", rotate_bytes=4_000)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", "-0001.jsonl"))]
    assert leftovers == []
