"""Snapshots of what a run prints at its end (operations, most frequent errors, thresholds,
baseline comparison) at 60, 80 and 160 columns: on a narrow terminal columns are left out,
never cut; off a terminal nothing is left out.

``LGBENCH_UPDATE_SNAPSHOTS=1 pytest tests/engine/test_final_tables.py`` rewrites the files
under ``tests/data/snapshots/`` after a deliberate change; review them like code.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from lgbench.engine._live import print_summary
from lgbench.gate import compare_summaries, render_comparison
from lgbench.thresholds import render_thresholds
from tests.gate._summaries import operation, summary

SNAPSHOTS = Path(__file__).parent.parent / "data" / "snapshots"
WIDTHS = (60, 80, 160)


def run_summary() -> dict[str, Any]:
    ops = {
        "runs.stream": operation(1002.0, tail=1985.0, count=38, ttfe={"p95": 931.0}),
        "runs.wait": operation(797.0, tail=1904.0, count=1364, errors=1364, rate_per_s=66.5),
        "threads.get_history": operation(2.9, tail=10.1, count=22, rate_per_s=0.8),
        "threads.create": operation(2.2, tail=5.9, count=119, rate_per_s=5.8),
    }
    ops["runs.wait"]["top_errors"] = [
        {
            "kind": "http",
            "status": 422,
            "message": "Invalid assistant: 'nope'. Must be either: - A valid assistant UUID,"
            " or - One of the registered graphs: sleepy, streamer",
            "count": 1364,
        }
    ]
    ops["runs.wait"]["ok"] = 0
    return summary(
        ops,
        duration_s=20.4,
        dropped_iterations=0,
        schedule_lag_ms={"count": 0, "p99": None},
        event_loop_lag_ms={"count": 20, "p99": 1.2},
        never_succeeded=[
            {
                "operation": "runs.wait",
                "count": 1364,
                "errors": 1364,
                "expected": False,
                "top_errors": ops["runs.wait"]["top_errors"],
            }
        ],
        thresholds={
            "passed": False,
            "results": [
                {
                    "name": "runs.wait{scenario=conversations}.latency.p99",
                    "condition": "< 2s",
                    "window_s": None,
                    "unit": "ms",
                    "value": 1904.0,
                    "status": "passed",
                    "passed": True,
                    "reason": "",
                },
                {
                    "name": "runs.wait.latency.p99",
                    "condition": "< 3s",
                    "window_s": 60.0,
                    "unit": "ms",
                    "value": None,
                    "status": "too_short",
                    "passed": True,
                    "reason": "the run was too short for a 1-minute window (it ran 20s; a"
                    " window is judged once it covers half its length)",
                },
                {
                    "name": "errors.rate",
                    "condition": "< 1%",
                    "window_s": None,
                    "unit": "%",
                    "value": 84.2,
                    "status": "failed",
                    "passed": False,
                    "reason": "the error rate was 84.2 %, limit < 1 %",
                },
            ],
        },
    )


def render(width: int, *, terminal: bool = True) -> str:
    out = io.StringIO()
    console = Console(
        file=out, width=width, force_terminal=terminal, color_system=None, highlight=False
    )
    current = run_summary()
    print_summary(console, current)
    render_thresholds(current["thresholds"], console)
    base = summary({name: operation(500.0) for name in current["operations"]})
    comparison = compare_summaries(base, current, base_path="base/summary.json")
    render_comparison(comparison, console)
    return out.getvalue()


@pytest.mark.parametrize("width", WIDTHS)
def test_final_tables_match_their_snapshot(width: int) -> None:
    text = render(width)
    path = SNAPSHOTS / f"final-tables-{width}.txt"
    if os.environ.get("LGBENCH_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# Sentences may run longer than the terminal (it wraps them); table rows may not.
SENTENCES = ("error: ", "  • ", "  runs.wait: HTTP")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_table_line_is_wider_than_the_terminal_and_no_cell_is_cut(width: int) -> None:
    text = render(width)
    rows = [line for line in text.splitlines() if not line.startswith(SENTENCES)]
    assert all(len(line) <= width for line in rows), width
    assert not any("…" in line for line in rows)  # rich's mark of a cut cell
    for name in ("threads.get_history", "runs.wait{scenario=conversations}.latency.p99"):
        assert name in text
    for number in ("1364", "1904", "1002.0 ms"):  # whole, never cut
        assert number in text


def test_off_a_terminal_every_column_is_kept() -> None:
    text = render(60, terminal=False)
    for column in ("rate/s", "p90", "max", "ttfe p95", "condition", "note"):
        assert column in text, column
    assert "ttfe: time to first event" in text
    assert "…" not in text.split("most frequent errors")[0]


def test_the_ttfe_legend_goes_with_its_column() -> None:
    narrow = render(60)
    assert ("ttfe p95" in narrow) == ("time to first event" in narrow)
    wide = render(160)
    assert "ttfe p95" in wide and "ttfe: time to first event" in wide
