"""Checking in bounded memory: the history spilled by thread, judged one partition at a time.

The verdicts must be those of judging the whole history at once (the corpus, damaged copies,
rotated sets); memory must follow the largest partition, not the history's length.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lgbench.check import CheckResult, Profile, check_history, judge_history, read_history
from lgbench.errors import UsageError
from lgbench.history import segment_path
from tests.check._cases import CASES, DIRECTORY
from tests.check._synthetic import OPERATIONS_PER_THREAD, write_soak

CORPUS = [DIRECTORY / f"{name}.jsonl" for name in sorted(CASES)] + sorted(
    (DIRECTORY / "real").glob("*.jsonl")
)


def as_dict(result: CheckResult) -> dict[str, Any]:
    out = result.to_dict()
    out["history"].pop("segments")  # which files were read, not what they said
    out["history"].pop("files")
    return out


@pytest.mark.parametrize("profile", ["observed", "documented"])
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_spilled_partitions_judge_as_the_whole_history(path: Path, profile: Profile) -> None:
    whole = judge_history(read_history(path), profile=profile).to_dict()
    assert check_history(path, profile=profile).to_dict() == whole
    # One byte per partition: every partition is split until it holds a single thread.
    assert check_history(path, profile=profile, partition_bytes=1).to_dict() == whole


def damaged(lines: list[str]) -> list[list[str]]:
    """A lost create, a garbled read, a duplicate line, and a cut last line."""
    out = []
    creates = [i for i, line in enumerate(lines) if '"runs.create"' in line]
    gets = [i for i, line in enumerate(lines) if '"runs.get"' in line]
    out.append([line for i, line in enumerate(lines) if i != creates[0]])
    out.append([line[:30] if i == gets[-1] else line for i, line in enumerate(lines)])
    out.append([*lines[:5], lines[4], *lines[5:]])
    out.append([*lines[:-1], lines[-1][:25]])
    return out


@pytest.mark.parametrize("name", ["unexpected_run", "enqueue_clean", "reject_refused_idle"])
def test_damaged_histories_judge_alike(tmp_path: Path, name: str) -> None:
    for n, lines in enumerate(damaged(CASES[name]().lines())):
        path = tmp_path / f"{n}.jsonl"
        path.write_text("\n".join(lines) + ("\n" if n != 3 else ""), encoding="utf-8")
        whole = judge_history(read_history(path)).to_dict()
        assert check_history(path, partition_bytes=1).to_dict() == whole


def test_a_rotated_set_judges_as_the_same_history_unrotated(tmp_path: Path) -> None:
    plain, rotated = tmp_path / "plain", tmp_path / "rotated"
    plain.mkdir()
    rotated.mkdir()
    written = write_soak(plain / "history.jsonl", threads=40)
    assert write_soak(rotated / "history.jsonl", threads=40, rotate_bytes=20_000) == written
    assert len(list(rotated.glob("history-*.jsonl.gz"))) >= 5
    single = check_history(plain / "history.jsonl")
    assert single.valid is True and single.counts["threads_checked"] == 40
    from_folder = check_history(rotated)
    assert as_dict(from_folder) == as_dict(single)
    assert from_folder.history["segments"][-1] == str(rotated / "history.jsonl")
    files = sorted(rotated.iterdir(), reverse=True)  # any order, .gz and plain mixed
    assert as_dict(check_history(files)) == as_dict(single)
    assert as_dict(check_history(rotated / "history.jsonl")) == as_dict(single)


def test_a_killed_rotated_run_still_checks(tmp_path: Path) -> None:
    write_soak(tmp_path / "history.jsonl", threads=40, rotate_bytes=20_000)
    live = tmp_path / "history.jsonl"
    text = live.read_bytes()
    live.write_bytes(text[: len(text) - 40])  # SIGKILL mid-line
    gz = segment_path(live, 3, compressed=True)
    gz.write_bytes(gz.read_bytes()[:-200])  # a .gz cut short
    result = check_history(tmp_path)
    assert result.valid in (True, "unknown")  # lost lines never prove a violation
    assert result.history["truncated_files"] == 1
    assert any(
        "history-0003.jsonl.gz: the compressed stream is cut short" in i
        for i in result.history["issues"]
    )
    assert result.counts["threads_checked"] == 40


def test_a_missing_middle_segment_is_a_usage_error(tmp_path: Path) -> None:
    write_soak(tmp_path / "history.jsonl", threads=20, rotate_bytes=20_000)
    segment_path(tmp_path / "history.jsonl", 2, compressed=True).unlink()
    with pytest.raises(UsageError, match=r"history-0002\.jsonl\.gz"):
        check_history(tmp_path)


def test_runs_on_other_threads_are_found_across_partitions(tmp_path: Path) -> None:
    """A run created on one thread and seen on another: the run index spans partitions."""
    lines = CASES["unexpected_run"]().lines()
    path = tmp_path / "h.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    events = [json.loads(line) for line in lines]
    other = {
        "index": len(events) - 1,
        "type": "invoke",
        "time_ns": events[-1]["time_ns"] + 1,
        "wall": 0.0,
        "process": 9,
        "actor": 9,
        "scenario": "s",
        "f": "runs.create",
        "value": {"thread_id": "T9", "assistant_id": "sleepy", "multitask_strategy": "enqueue"},
        "error": None,
    }
    done = {
        **other,
        "index": len(events),
        "type": "ok",
        "invoke_index": len(events) - 1,
        "value": {"thread_id": "T9", "run_id": "X", "status": "pending"},
    }
    path.write_text(
        "\n".join([*lines, json.dumps(other), json.dumps(done)]) + "\n", encoding="utf-8"
    )
    whole = judge_history(read_history(path))
    assert "created on thread T9" in whole.anomalies[0].explanation
    assert check_history(path, partition_bytes=1).to_dict() == whole.to_dict()


def peak_bytes(check: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        check()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow  # a history big enough to tell memory apart
def test_memory_follows_the_partition_not_the_history(tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    small.mkdir()
    large.mkdir()
    threads = 250
    write_soak(small / "history.jsonl", threads=threads)
    write_soak(large / "history.jsonl", threads=4 * threads)
    assert threads * OPERATIONS_PER_THREAD >= 5_000
    budget = 8 << 10  # about one thread's share of the spill
    check_history(small, partition_bytes=budget)  # first-use costs (imports, caches) out
    small_peak = peak_bytes(lambda: check_history(small, partition_bytes=budget))
    large_peak = peak_bytes(lambda: check_history(large, partition_bytes=budget))
    whole_peak = peak_bytes(lambda: judge_history(read_history(small)))
    # Four times the history: far less than four times the memory (what grows is the
    # result, a few hundred bytes per thread)...
    assert large_peak < 2 * small_peak
    # ...and less than holding the four-times-smaller history whole.
    assert large_peak < whole_peak
