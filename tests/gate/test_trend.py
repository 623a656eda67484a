"""``lgbench trend``: change points in a series of runs (E-divisive means)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from lgbench.cli import trend_command
from lgbench.errors import UsageError
from lgbench.exitcodes import ExitCode
from lgbench.gate import find_change_points, trend_of_runs
from lgbench.gate._trend import analyse_trend


def test_a_level_shift_is_found_where_it_happened() -> None:
    rng = np.random.default_rng(7)
    series = np.r_[rng.normal(10, 0.5, 12), rng.normal(13, 0.5, 9)]
    ((index, p_value),) = find_change_points(series)
    assert index == 12
    assert p_value < 0.05


def test_noise_alone_rarely_has_a_change_point() -> None:
    # The permutation test holds its level: at p < 0.05, about 1 series in 20 of pure noise
    # shows a change point.
    rng = np.random.default_rng(8)
    found = sum(bool(find_change_points(rng.normal(10, 1, 20))) for _ in range(40))
    assert found <= 5


def test_two_shifts_are_both_found() -> None:
    rng = np.random.default_rng(9)
    series = np.r_[rng.normal(0, 0.3, 8), rng.normal(3, 0.3, 8), rng.normal(-2, 0.3, 8)]
    assert [index for index, _ in find_change_points(series)] == [8, 16]


def test_a_short_series_has_none_and_the_answer_is_repeatable() -> None:
    assert find_change_points([1.0, 2.0, 9.0, 9.0, 9.0]) == []
    rng = np.random.default_rng(10)
    series = np.r_[rng.normal(0, 1, 10), rng.normal(1.5, 1, 10)]
    assert find_change_points(series) == find_change_points(series)


def summary(p50: float, started: str, errors: int = 0) -> dict[str, object]:
    return {
        "schema_version": 1,
        "started_at": started,
        "operations": {
            "runs.wait": {
                "count": 1000,
                "errors": errors,
                "latency_ms": {"p50": p50, "p90": p50 * 2, "p99": p50 * 3},
            }
        },
    }


def nightly(tmp_path: Path, levels: list[float]) -> Path:
    """One run folder per night, named so that name order is NOT time order."""
    folder = tmp_path / "nightly"
    rng = np.random.default_rng(11)
    for night, level in enumerate(levels):
        run = folder / f"run-{len(levels) - night:02d}"
        run.mkdir(parents=True)
        content = summary(level * float(np.exp(rng.normal(0, 0.03))), f"2026-01-{night + 1:02d}")
        (run / "summary.json").write_text(json.dumps(content), encoding="utf-8")
    return folder


def test_trend_names_the_run_where_latency_rose(tmp_path: Path) -> None:
    folder = nightly(tmp_path, [100.0] * 8 + [140.0] * 6)
    console = Console(record=True, width=200, color_system=None)
    assert trend_command([folder], console=console) == ExitCode.THRESHOLDS
    text = console.export_text()
    # The 9th night in time order is the folder named run-06 (names run backwards).
    assert "#9" in text and "run-06" in text
    assert "trend: FAILED" in text


def test_an_improvement_is_reported_and_passes(tmp_path: Path) -> None:
    folder = nightly(tmp_path, [140.0] * 7 + [100.0] * 7)
    console = Console(record=True, width=200, color_system=None)
    assert trend_command([folder], console=console) == ExitCode.OK
    assert "no change point made a figure worse" in console.export_text()


def test_the_trend_is_data_the_command_prints(tmp_path: Path) -> None:
    folder = nightly(tmp_path, [100.0] * 8 + [140.0] * 6)
    result = trend_of_runs([folder])
    assert not result.passed
    # In time order, whatever the folders' names: run-14 started first, run-01 last.
    assert result.runs[0] == "run-14" and result.runs[-1] == "run-01"
    assert result.started == tuple(sorted(result.started))
    assert any(point.regression and point.index == 8 for point in result.change_points)


def test_a_steady_series_passes(tmp_path: Path) -> None:
    folder = nightly(tmp_path, [100.0] * 12)
    console = Console(record=True, width=200, color_system=None)
    assert trend_command([folder], console=console) == ExitCode.OK
    assert "no change point" in console.export_text()


def test_error_rate_change_points() -> None:
    summaries = [summary(100.0, f"d{i}", errors=0 if i < 7 else 50) for i in range(14)]
    result = analyse_trend(summaries, [f"r{i}" for i in range(14)])
    (point,) = [p for p in result.change_points if p.figure == "error rate"]
    assert point.index == 7
    assert point.regression
    assert point.after == pytest.approx(0.05)


def test_too_few_runs_is_a_usage_error(tmp_path: Path) -> None:
    folder = nightly(tmp_path, [100.0] * 4)
    with pytest.raises(UsageError, match="at least 6 runs"):
        trend_command([folder], console=Console(record=True))
