"""report.html in headless Chromium: it loads from file:// with no error and no network
request, every plot is drawn, the numbers are summary.json's, and a screenshot shows it."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lgbench.report import build_report
from lgbench.report._html import fmt_ms
from tests.report._chromium import Chromium, open_chromium
from tests.report._fixtures import make_partial, synthetic_run

pytestmark = pytest.mark.chromium

ROOT = Path(__file__).parent.parent.parent
WIDTH = 1280


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    with open_chromium(
        tmp_path_factory.mktemp("chromium-profile"), width=WIDTH, height=900
    ) as page:
        yield page


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short quickstart run on the embedded server."""
    pytest.importorskip("langgraph_api", reason="needs the lgbench[server] extra")
    out = tmp_path_factory.mktemp("real") / "run"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lgbench.cli",
            "run",
            str(ROOT / "workloads" / "quickstart.toml"),
            "--duration",
            "4s",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "160"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out


def png_facts(path: Path) -> tuple[int, int, int]:
    """Width, height and how many distinct byte values the image data holds."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    chunks: list[bytes] = []
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return width, height, len(set(pixels))


def figure_count(document: Path) -> int:
    text = document.read_text(encoding="utf-8")
    start = text.index('id="lgbench-figures">') + len('id="lgbench-figures">')
    return len(json.loads(text[start : text.index("</script>", start)]))


def assert_renders(browser: Chromium, report: Path, png: Path) -> list[dict[str, Any]]:
    load = browser.load(report)
    assert load.plots_state == "ready", load.problems
    assert load.problems == []  # no console error, exception, or request off this machine
    plots = browser.plots()
    assert len(plots) == figure_count(report) > 0
    for plot in plots:
        assert plot["main_svg"] >= 1, plot
        assert plot["data_traces"] == plot["drawn_traces"] > 0, plot
        assert plot["drawn_paths"] > 0, plot
        assert plot["width"] > 600 and plot["height"] > 200, plot
    browser.screenshot(png, full_page=True)
    width, height, distinct = png_facts(png)
    assert width == WIDTH and height > 2000
    assert distinct > 64  # text, colours and lines, not a blank page
    return plots


def cell_texts(browser: Chromium, operation: str) -> list[str]:
    texts: list[str] = browser.evaluate(
        "Array.from(document.querySelector("
        f"'tr[data-operation=\"{operation}\"]').cells).map(c => c.textContent.trim())"
    )
    return texts


@pytest.mark.server
def test_a_real_run_renders_with_summary_numbers(
    browser: Chromium, real_run: Path, tmp_path: Path
) -> None:
    report = build_report(real_run)
    plots = assert_renders(browser, report, tmp_path / "real.png")
    assert {p["id"].split("-", 2)[2] for p in plots} >= {
        "distribution",
        "throughput",
        "latency",
        "vus",
        "ttfe",
        "queue-runs.stream",
    }
    summary = json.loads((real_run / "summary.json").read_text())
    for op, figures in summary["operations"].items():
        cells = cell_texts(browser, op)
        assert cells[0].endswith(op)
        assert cells[1] == f"{figures['count']:,}"
        latency = figures["latency_ms"]
        assert cells[4:9] == [fmt_ms(latency[k]) for k in ("p50", "p90", "p99", "p99_9", "max")]
    states = browser.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('[data-verdict]'))"
        ".map(e => [e.dataset.verdict, e.dataset.state]))"
    )
    assert states["run"] == "pass"
    assert (
        states["checker"]
        == {True: "pass", False: "fail", "unknown": "unknown"}[summary["check"]["valid"]]
    )


@pytest.mark.server
def test_a_killed_real_run_renders_as_partial(
    browser: Chromium, real_run: Path, tmp_path: Path
) -> None:
    partial = make_partial(real_run, tmp_path / "partial")
    report = build_report(partial)
    assert_renders(browser, report, tmp_path / "partial.png")
    banner = browser.evaluate("document.querySelector('[data-partial]').textContent")
    assert "summary.json" in banner
    assert browser.evaluate("document.querySelector('[data-verdict=run]').dataset.state") == (
        "partial"
    )


def test_every_optional_section_renders_with_fault_bands(browser: Chromium, tmp_path: Path) -> None:
    synthetic_run(tmp_path / "run")
    report = build_report(tmp_path / "run")
    plots = assert_renders(browser, report, tmp_path / "synthetic.png")
    bands = browser.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('div.plot'))"
        ".map(d => [d.id, d.querySelectorAll('.shapelayer path').length]))"
    )
    for plot in plots:
        expected = 0 if "distribution" in plot["id"] else 2
        assert bands[plot["id"]] == expected, plot["id"]
    for section in ("thresholds", "baseline", "drift", "checker", "resources", "streams"):
        assert browser.evaluate(f"document.getElementById('{section}') !== null"), section
