"""build_report on synthetic run folders: what the page holds, partial folders, the command."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from lgbench.cli import report_command
from lgbench.errors import UsageError
from lgbench.report import REPORT_FILE, build_report, write_report
from tests.report._fixtures import (
    synthetic_run,
    timeseries_line,
    write_history,
    write_hlog,
    write_timeseries,
)


class Elements(HTMLParser):
    """Every element's tag and attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(document: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(document)
    return parser.found


def figures(document: str) -> list[dict[str, Any]]:
    match = re.search(
        r'<script type="application/json" id="lgbench-figures">(.*?)</script>', document, re.S
    )
    assert match is not None
    specs: list[dict[str, Any]] = json.loads(match.group(1))
    return specs


def with_attr(document: str, name: str) -> dict[str, dict[str, str | None]]:
    return {str(a[name]): a for _, a in elements(document) if a.get(name) is not None}


def test_a_whole_run_report(tmp_path: Path) -> None:
    summary = synthetic_run(tmp_path / "run")
    path = build_report(tmp_path / "run")
    assert path == tmp_path / "run" / REPORT_FILE
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []
    document = path.read_text(encoding="utf-8")
    assert document.startswith("<!DOCTYPE html>")
    # Self-contained: no script, style or image loaded from elsewhere.
    for tag, attrs in elements(document):
        assert not (attrs.get("src") or "").startswith(("http:", "https:", "//")), tag
        assert tag != "link", attrs
    assert "plotly.js v" in document

    verdicts = with_attr(document, "data-verdict")
    assert verdicts["overall"]["data-state"] == "fail"  # anomalies win over thresholds
    assert verdicts["thresholds"]["data-state"] == "fail"
    assert verdicts["checker"]["data-state"] == "fail"
    assert verdicts["baseline"]["data-state"] == "fail"
    assert verdicts["run"]["data-state"] == "pass"
    assert "anomalies found" in document

    rows = with_attr(document, "data-operation")
    for op, figures_ in summary["operations"].items():
        assert rows[op]["data-count"] == str(figures_["count"])
        assert float(str(rows[op]["data-p99"])) == figures_["latency_ms"]["p99"]
        assert float(str(rows[op]["data-max"])) == figures_["latency_ms"]["max"]

    # Operations lgbench cut at its own stop: beside the errors, not among them.
    assert "+2 interrupted" in document

    thresholds = with_attr(document, "data-threshold")
    assert {k: v["data-status"] for k, v in thresholds.items()} == {
        "runs.wait.latency.p99": "failed",
        "runs.wait.latency.p50 in 10s windows": "passed",
        "errors.rate": "failed",
    }
    assert "10-20 s: 4.8 %" in document  # the failed window
    assert "runs.wait p99: 60.2 ms -&gt; 89.1 ms" in document  # baseline regression
    assert "+120.0 %/h" in document  # drift of p99
    assert "0.00% → 1.60% (+3.00 pp/h)" in document  # drift of the error rate
    strategies = with_attr(document, "data-strategy")
    assert strategies["interrupt"]["data-state"] == "fail"
    assert strategies["enqueue"]["data-state"] == "pass"
    # Text from the run is escaped, never markup.
    assert "still running &lt;on thread-1&gt;" in document
    assert "&lt;because every VU was busy&gt;" in document
    assert "#14 at 1.700 s: threads.get_state: start:run-b" in document

    specs = figures(document)
    ids = [spec["id"] for spec in specs]
    assert len(set(ids)) == len(ids)
    divs = with_attr(document, "id")
    assert all(divs[i]["class"] == "plot" for i in ids)
    by_name = {spec["id"].split("-", 2)[2]: spec for spec in specs}
    assert set(by_name) >= {
        "distribution",
        "aux-distribution",
        "throughput",
        "latency",
        "errors",
        "vus",
        "ttfe",
        "queue-runs.stream",
        "server-queue",
        "cpu",
        "memory",
        "lag",
        "drift",
    }
    for name, spec in by_name.items():
        if "distribution" in name:
            assert "shapes" not in spec["layout"]
            continue
        bands = spec["layout"]["shapes"]
        assert [(b["x0"], b["x1"]) for b in bands] == [(10.0, 15.0), (25.0, 30.0)], name
    throughput = {t["name"]: t for t in by_name["throughput"]["data"]}
    assert throughput["runs.wait"]["y"][12] == 22.0  # 20 ok + 2 errors in 1 s
    errors = {t["name"]: t["y"] for t in by_name["errors"]["data"]}
    assert errors["runs.wait"][10:15] == [2, 2, 2, 2, 2]
    assert errors["dropped: chat"][20] == 1
    distribution = {t["name"]: t for t in by_name["distribution"]["data"]}
    assert distribution["runs.wait"]["x"][0] == 1.0  # percentile 0
    assert distribution["runs.wait"]["x"][-1] == pytest.approx(600.0)  # 600 values
    memory = {t["name"]: t["y"] for t in by_name["memory"]["data"]}
    assert memory["lgbench rss"][0] == pytest.approx(60_000_000 / 2**20)


def test_out_writes_elsewhere_and_replaces_a_previous_report(tmp_path: Path) -> None:
    synthetic_run(tmp_path / "run")
    out = tmp_path / "elsewhere" / "r.html"
    out.parent.mkdir()
    out.write_text("old")
    assert build_report(tmp_path / "run", out=out) == out
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not (tmp_path / "run" / REPORT_FILE).exists()
    assert [p.name for p in out.parent.iterdir()] == ["r.html"]


def test_a_killed_run_gives_a_partial_report(tmp_path: Path) -> None:
    write_history(tmp_path / "history.jsonl", cut_last=True)
    write_hlog(
        tmp_path / "intervals.hlog",
        {"runs.wait": [[1000, 2000], [3000], [4000, 5000, 6000]]},
        truncate_last=True,
    )
    lines = [
        timeseries_line(
            float(s),
            float(s + 1),
            operations={"runs.wait": {"count": 3, "ok": 2, "errors": 1, "http_errors": {"409": 1}}},
        )
        for s in range(3)
    ]
    write_timeseries(tmp_path / "timeseries.jsonl", lines, cut_last=True)
    document = build_report(tmp_path).read_text(encoding="utf-8")
    verdicts = with_attr(document, "data-verdict")
    assert verdicts["run"]["data-state"] == "partial"
    assert verdicts["overall"]["data-state"] == "partial"
    assert verdicts["checker"]["data-state"] == "none"
    assert with_attr(document, "data-partial")
    assert "lgbench report: synthetic" in document  # from the history header
    assert "langgraph-api 0.16.7" in document
    row = with_attr(document, "data-operation")["runs.wait"]
    assert row["data-count"] == "6"  # two whole timeseries lines
    assert float(str(row["data-max"])) == 3.001  # two whole hlog lines: 1, 2 and 3 ms
    assert "intervals.hlog: 1 damaged line(s) skipped" in document
    assert "timeseries.jsonl: the last line was cut short (ignored)" in document
    names = {spec["id"].split("-", 2)[2] for spec in figures(document)}
    assert {"distribution", "throughput", "latency", "errors"} <= names


def test_only_a_history_header_still_gives_a_page(tmp_path: Path) -> None:
    write_history(tmp_path / "history.jsonl")
    document = build_report(tmp_path).read_text(encoding="utf-8")
    assert with_attr(document, "data-partial")
    assert figures(document) == []
    assert "no intervals.hlog" in document


def test_report_command_prints_the_path(tmp_path: Path) -> None:
    synthetic_run(tmp_path / "run")
    out = io.StringIO()
    code = report_command(tmp_path / "run", Console(file=out, width=300))
    assert code == 0
    assert out.getvalue().strip() == f"written: {tmp_path / 'run' / REPORT_FILE}"


def test_write_report_says_what_it_skipped(tmp_path: Path) -> None:
    synthetic_run(tmp_path / "run")
    (tmp_path / "run" / "check.json").write_text("[1, 2]", encoding="utf-8")
    written = write_report(tmp_path / "run")
    assert written.path == tmp_path / "run" / REPORT_FILE and written.path.is_file()
    assert written.notes == ("check.json: not a JSON object, left out",)


def test_a_folder_with_nothing_of_a_run_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=str(tmp_path)):
        build_report(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_report_shows_lgbench_s_own_requests_and_empty_answers(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    summary = synthetic_run(run_dir)
    summary["observation"] = {
        "requests": 120,
        "all_requests": 480,
        "share": 0.25,
        "by_operation": {"runs.list": 100, "threads.get": 20},
    }
    summary["audit"] = {
        "ran": True,
        "threads": 40,
        "settled": 38,
        "unsettled": 2,
        "gone": 0,
        "not_read": 0,
        "requests": 90,
        "stop_reason": "time budget spent",
    }
    summary["operations"]["runs.wait"]["empty"] = 7
    (run_dir / "summary.json").write_text(json.dumps(summary))
    document = build_report(run_dir).read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", document)
    assert "observation (lgbench's own status reads during the load): 120 of 480 requests" in text
    assert "runs.list 100, threads.get 20" in text
    assert "post-run audit: threads 40, settled 38, unsettled 2" in text
    assert "time budget spent" in text
    assert "answers with no result" in text and "runs.wait 7" in text

    summary["audit"] = {"ran": False, "reason": "turned off"}
    del summary["observation"]
    del summary["operations"]["runs.wait"]["empty"]
    (run_dir / "summary.json").write_text(json.dumps(summary))
    document = build_report(run_dir).read_text(encoding="utf-8")
    assert "post-run audit not run: turned off" in re.sub(r"<[^>]+>", "", document)
    assert "answers with no result" not in document


def test_the_report_plots_latency_per_conversation_turn(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    summary = synthetic_run(run_dir)
    summary["tags"] = {
        f"turn={turn}": {"runs.stream": {"latency_ms": {"p50": 100.0 * turn, "p99": 150.0 * turn}}}
        for turn in (1, 2, 3)
    }
    (run_dir / "summary.json").write_text(json.dumps(summary))
    document = build_report(run_dir).read_text(encoding="utf-8")
    (turns,) = [
        f for f in figures(document) if f["layout"]["title"]["text"].startswith("Latency per turn")
    ]
    p50 = next(t for t in turns["data"] if t["name"] == "runs.stream p50")
    assert p50["x"] == [1, 2, 3] and p50["y"] == [100.0, 200.0, 300.0]
    # Without turns, no such section.
    summary["tags"] = {}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    document = build_report(run_dir).read_text(encoding="utf-8")
    assert not any(
        f["layout"]["title"]["text"].startswith("Latency per turn") for f in figures(document)
    )


def test_the_report_shows_chat_replies_as_llm_serving_is_measured(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    summary = synthetic_run(run_dir)
    stream = summary["operations"]["runs.stream"].setdefault("stream", {"streams": 150})
    stream.update(
        {
            "reply_tokens": 3000,
            "reply_tokens_per_s": 100.0,
            "ttft_ms": {"p50": 210.0, "p99": 480.0},
            "itl_ms": {"p50": 31.0, "p99": 77.0},
            "stream_tokens_per_s": {"min": 4.25, "p10": 9.5, "p50": 22.75, "max": 40.0},
            "reply_tokens_per_stream": {"min": 5, "p50": 20, "max": 60, "total": 3000},
        }
    )
    (run_dir / "summary.json").write_text(json.dumps(summary))
    text = re.sub(r"<[^>]+>", " ", build_report(run_dir).read_text(encoding="utf-8"))
    assert "chat replies" in text and "tokens / s per stream p50" in text
    cells = r"\s+".join(
        ("3,000", "20", "60", "100.0", "210.0", "480.0", "31.00", "77.00", "22.75", "9.500")
    )
    row = re.search(r"runs\.stream\s+" + cells.replace(".", r"\.") + r"\s+4\.250", text)
    assert row is not None, text[text.find("chat replies") :][:600]
    # No per-interval ttft or itl in the synthetic hlog: no plot of them.
    ids = {spec["id"].split("-", 2)[2] for spec in figures(build_report(run_dir).read_text())}
    assert "ttfe" in ids and not ids & {"ttft", "itl"}

    # Per interval, time to first token and inter-token latency: plotted p99 and p50.
    seconds = 10
    write_hlog(
        run_dir / "intervals.hlog",
        {
            "runs.stream": [[500_000] * 3] * seconds,
            "runs.stream.ttft": [[200_000, 200_000, 400_000]] * 5 + [[800_000] * 3] * 5,
            "runs.stream.itl": [[30_000] * 99 + [70_000]] * seconds,
            # Each stream's tokens/s in thousandths: nine streams at 40/s, one at 8/s.
            "runs.stream.tokens_per_s": [[40_000] * 9 + [8_000]] * seconds,
        },
    )
    by_name = {
        spec["id"].split("-", 2)[2]: spec for spec in figures(build_report(run_dir).read_text())
    }
    assert "Chat replies, time to first token" in by_name["ttft"]["layout"]["title"]["text"]
    ttft = {t["name"]: t["y"] for t in by_name["ttft"]["data"]}
    assert set(ttft) == {"runs.stream ttft p99", "runs.stream ttft p50"}
    assert ttft["runs.stream ttft p50"][0] == pytest.approx(200.0, rel=0.01)
    assert ttft["runs.stream ttft p99"][0] == pytest.approx(400.0, rel=0.01)
    assert ttft["runs.stream ttft p50"][seconds - 1] == pytest.approx(800.0, rel=0.01)
    itl = {t["name"]: t["y"] for t in by_name["itl"]["data"]}
    assert itl["runs.stream itl p50"][0] == pytest.approx(30.0, rel=0.01)
    assert itl["runs.stream itl p99"][0] == pytest.approx(30.0, rel=0.01)
    # Each stream's tokens per second, per interval: its median and its slow tail (p10),
    # not in the timings' table nor the operations'.
    assert "tokens per second" in by_name["tokens-per-s"]["layout"]["title"]["text"]
    rates = {t["name"]: t["y"] for t in by_name["tokens-per-s"]["data"]}
    assert set(rates) == {"runs.stream tokens/s p50", "runs.stream tokens/s p10"}
    assert rates["runs.stream tokens/s p50"][0] == pytest.approx(40.0, rel=0.01)
    assert rates["runs.stream tokens/s p10"][0] == pytest.approx(8.0, rel=0.01)
    page = build_report(run_dir).read_text(encoding="utf-8")
    assert "runs.stream.tokens_per_s</code>" not in page
    # Intervals past the hlog's last one (the run lasted longer) are gaps, not zeros.
    assert itl["runs.stream itl p99"][seconds:] == [None] * (
        len(itl["runs.stream itl p99"]) - seconds
    )

    del stream["reply_tokens"]
    (run_dir / "summary.json").write_text(json.dumps(summary))
    assert "chat replies" not in build_report(run_dir).read_text(encoding="utf-8")


def test_the_report_shows_latency_and_errors_per_user(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    summary = synthetic_run(run_dir)
    summary["tags"] = {
        f"user=user-{n}": {
            "threads.get": {
                "count": 100,
                "errors": 5 * n,
                "latency_ms": {"p50": 10.0 * n, "p99": 30.0 * n},
            },
            "runs.wait": {"count": 50, "errors": 0, "latency_ms": {"p50": 5.0, "p99": 400.0}},
        }
        for n in (1, 2, 10)
    }
    (run_dir / "summary.json").write_text(json.dumps(summary))
    document = build_report(run_dir).read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", document))
    assert "Users" in text
    # In user order (user-10 last), with the slowest operation named.
    assert text.index("user-2") < text.index("user-10")
    assert "user-10 150 50 33.3% 100.0 threads.get 400.0 runs.wait" in text
    assert "user-1 150 5 3.33% 10.00 threads.get 400.0 runs.wait" in text
    summary["tags"] = {}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    assert "slowest p99" not in build_report(run_dir).read_text(encoding="utf-8")


def test_a_killed_runs_reply_rates_are_no_operation_nor_a_timing(tmp_path: Path) -> None:
    """Without summary.json the operations come from the .hlog's tags: a reply-rate tag
    (thousandths of a token per second, not µs) is neither an operation nor a timing, and
    still plotted as a rate."""
    run_dir = tmp_path / "run"
    synthetic_run(run_dir)
    (run_dir / "summary.json").unlink()
    write_hlog(
        run_dir / "intervals.hlog",
        {
            "runs.stream": [[500_000] * 3] * 5,
            "runs.stream.ttfe": [[100_000] * 3] * 5,
            "runs.stream.tokens_per_s": [[30_000] * 3] * 5,
        },
    )
    page = build_report(run_dir).read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", page)
    assert "runs.stream.tokens_per_s" not in text
    by_name = {spec["id"].split("-", 2)[2]: spec for spec in figures(page)}
    rates = {t["name"]: t["y"] for t in by_name["tokens-per-s"]["data"]}
    assert rates["runs.stream tokens/s p50"][0] == pytest.approx(30.0, rel=0.01)
