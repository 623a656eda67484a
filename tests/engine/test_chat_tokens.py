"""Chat replies measured as LLM serving is: time to first token, inter-token latency and
tokens per second, from the bundled ``chat`` graph's streamed reply (messages-tuple mode),
against the real embedded server, on every backend. The reply is verified token by token
by the checker (``reply_mismatch``): a whole run of them is valid."""

from __future__ import annotations

import csv
from pathlib import Path

import msgspec
import pytest

from lgbench.check import check_history
from lgbench.export import export_run
from lgbench.metrics import LatencyRecorder
from lgbench.report import build_report
from lgbench.results import token_rate_stats
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload

pytestmark = [pytest.mark.anyio, pytest.mark.server]

CHATS = """
name = "chats"

[[scenario]]
name = "turns"
executor = "per-vu-iterations"
vus = 2
iterations = 1
max_duration = "1m"
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.stream", thread = "$thread", assistant = "chat",
    input = { message = "hi", reply_tokens = 6, token_gap_s = 0.03 },
    stream_mode = ["messages-tuple", "values"], repeat = 2 },
  { op = "threads.get_state", thread = "$thread" },
]

[thresholds]
"runs.stream.ttft.p95" = "< 30s"
"runs.stream.itl.p50" = "< 30s"
"runs.stream.tokens_per_s.p10" = { condition = "> 1/s in every 1s", abort_on_fail = true }
"anomalies" = "== 0"
"""


async def test_chat_streams_report_time_to_first_token_and_inter_token_latency(
    langgraph_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "w.toml"
    path.write_text(CHATS, encoding="utf-8")
    result = await run_workload(
        load_workload(path),
        RunOptions(target=langgraph_url, out_dir=tmp_path / "run", loop_lag_interval_s=None),
        checker=check_history,
    )
    assert result.summary is not None
    stream = result.summary["operations"]["runs.stream"]["stream"]
    streams = stream["streams"]
    assert streams == 4
    assert stream["reply_tokens"] == 6 * streams
    # Each run's output tokens, per reply stream: the graph's 6, every time.
    assert stream["reply_tokens_per_stream"] == {
        "min": 6, "mean": 6.0, "p50": 6, "p99": 6, "max": 6, "total": 6 * streams,
    }  # fmt: skip
    assert stream["reply_tokens_per_s"] > 0
    assert stream["ttft_ms"]["p50"] is not None and stream["itl_ms"]["p50"] is not None
    # The graph waits 30 ms between tokens. A token delivered late shortens only the gap
    # after it (and lengthens the one before), so a loaded machine can bring single gaps
    # under 30 ms but never most of them: the upper gaps stay at least the graph's sleep.
    # The first token comes after the first event (metadata aside), never before it.
    assert stream["itl_ms"]["p90"] >= 0.9 * 30
    assert stream["ttft_ms"]["p50"] >= stream["ttfe_ms"]["p50"]
    # Per stream: 6 tokens 30 ms apart can't come faster than 6 / 0.15 s, and each stream's
    # rate is its tokens over its own latency, so no stream is faster than the fastest reply.
    per_stream = stream["stream_tokens_per_s"]
    assert 0 < per_stream["min"] <= per_stream["p50"] <= per_stream["max"] <= 6 / 0.15 * 1.01
    fastest_ms = result.summary["operations"]["runs.stream"]["latency_ms"]["min"]
    assert per_stream["max"] == pytest.approx(6 / (fastest_ms / 1000), rel=0.01)
    assert result.summary["thresholds"]["passed"] is True
    # Judged second by second on the streams that ended in each, and able to abort.
    (windowed,) = [
        found
        for found in result.summary["thresholds"]["results"]
        if found["name"] == "runs.stream.tokens_per_s.p10"
    ]
    assert windowed["window_s"] == 1.0 and windowed["abort_on_fail"] is True
    assert windowed["windows"]["evaluated"] >= 1 and not windowed["aborted_run"]
    assert windowed["value"] >= per_stream["min"]
    check = result.summary["check"]
    assert check is not None and check["valid"] is True

    # Per interval, the same rates are in intervals.hlog (their own tag): merged over the
    # run, they are the summary's figures exactly; export and report read them back.
    run_dir = tmp_path / "run"
    merged = LatencyRecorder()
    for line in (run_dir / "intervals.hlog").read_text().splitlines():
        if line.startswith("Tag=runs.stream.tokens_per_s,"):
            merged.merge(LatencyRecorder.from_blob(line.rsplit(",", 1)[1]))
    assert merged.count == streams
    logged = msgspec.structs.asdict(token_rate_stats(merged))
    # The mean: the summary's is exact, a logged histogram keeps bucket values only.
    assert logged.pop("mean") == pytest.approx(per_stream["mean"], rel=0.01)
    assert logged == {stat: value for stat, value in per_stream.items() if stat != "mean"}
    rates = export_run(run_dir, "csv", tmp_path / "export")
    with rates.files["reply_rates"].open() as file:
        rows = list(csv.DictReader(file))
    assert {row["operation"] for row in rows} == {"runs.stream"}
    assert sum(int(row["streams"]) for row in rows) == streams
    with rates.files["intervals"].open() as file:
        assert not any(row["series"].endswith("tokens_per_s") for row in csv.DictReader(file))
    document = build_report(run_dir).read_text(encoding="utf-8")
    assert '-tokens-per-s"' in document
