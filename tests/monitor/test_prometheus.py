"""``/metrics`` scraped while a real run goes against the embedded server, parsed with
prometheus_client's own parser: the figures grow as the run goes and, at the end, the counts
are summary.json's, operation by operation and outcome by outcome."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from lgbench.errors import UsageError
from lgbench.monitor import (
    LATENCY_BUCKETS_S,
    MetricsFeed,
    MetricsSession,
    MetricsSettings,
    PrometheusExporter,
    parse_listen_address,
)
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload
from tests.monitor._workload import MIXED, by_operation, summary_counts

parser = pytest.importorskip("prometheus_client.parser")

Samples = dict[str, list[tuple[dict[str, str], float]]]


def parse(text: str) -> Samples:
    """Every sample by its name (``lgbench_requests_total``, ``..._bucket``...)."""
    found: Samples = {}
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(
        value
        for found, value in samples.get(name, [])
        if all(found.get(key) == want for key, want in labels.items())
    )


@pytest.mark.anyio
@pytest.mark.server
async def test_a_scrape_during_and_after_a_real_run_matches_the_summary(
    langgraph_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "w.toml"
    path.write_text(MIXED, encoding="utf-8")
    feed = MetricsFeed()
    scrapes: list[Samples] = []
    with PrometheusExporter(feed, parse_listen_address("127.0.0.1:0")) as exporter:
        result: list[Any] = []

        async def run() -> None:
            result.append(
                await run_workload(
                    load_workload(path),
                    RunOptions(
                        target=langgraph_url,
                        out_dir=tmp_path / "run",
                        listeners=(feed,),
                        report=False,
                    ),
                )
            )

        async with httpx.AsyncClient() as http, anyio.create_task_group() as group:
            group.start_soon(run)
            while not result:
                answer = await http.get(exporter.url)
                assert answer.status_code == 200
                assert answer.headers["content-type"].startswith("text/plain")
                scrapes.append(parse(answer.text))
                await anyio.sleep(0.5)
            final = parse((await http.get(exporter.url)).text)
    summary: Mapping[str, Any] = result[0].summary

    # During the run: the counts grow and the run is not finished yet.
    during = [s for s in scrapes if total(s, "lgbench_run_finished") == 0]
    counts = [total(s, "lgbench_requests_total") for s in during]
    assert counts == sorted(counts) and counts[-1] > 0
    assert total(final, "lgbench_run_finished") == 1

    # At the end: summary.json's counts, per operation and outcome.
    assert by_operation(final["lgbench_requests_total"]) == summary_counts(summary)
    for name, op in summary["operations"].items():
        assert total(final, "lgbench_requests_total", operation=name, outcome="ok") == op["ok"]
        assert (
            total(final, "lgbench_requests_total", operation=name, outcome="error")
            == (op["errors"])
        )
        for status, count in op["errors_by_kind"]["http"].items():
            assert (
                total(final, "lgbench_errors_total", operation=name, kind="http", status=status)
                == count
            )
    missing = summary["operations"]["threads.get"]["errors_by_kind"]["http"]
    assert missing.get("404", 0) > 0
    assert total(final, "lgbench_errors_total", scenario="missing", status="404") == missing["404"]

    # Histograms: one bucket per bound plus +Inf, cumulative, counting every timed answer.
    created = [
        (labels, value)
        for labels, value in final["lgbench_latency_seconds_bucket"]
        if labels["operation"] == "threads.create" and labels["scenario"] == "threads"
    ]
    assert len(created) == len(LATENCY_BUCKETS_S) + 1
    values = [value for _, value in created]
    assert values == sorted(values)
    assert values[-1] == total(
        final, "lgbench_latency_seconds_count", operation="threads.create", scenario="threads"
    )
    created_op = summary["operations"]["threads.create"]
    kinds = created_op["errors_by_kind"]
    timed = created_op["count"] - sum(kinds[k] for k in ("transport", "timeout", "other"))
    latency_count = total(final, "lgbench_latency_seconds_count", operation="threads.create")
    assert latency_count == timed
    mean_s = total(final, "lgbench_latency_seconds_sum", operation="threads.create") / latency_count
    assert math.isclose(
        mean_s * 1000, summary["operations"]["threads.create"]["latency_ms"]["mean"], rel_tol=0.01
    )

    # Streams, their first events, iterations, VUs and the tool's own lags.
    stream = summary["operations"]["runs.stream"]["stream"]
    assert total(final, "lgbench_streams_total") == stream["streams"]
    assert total(final, "lgbench_stream_events_total") == stream["events"]["total"]
    # Every stream of the streamer graph has events after its metadata: each has a first one.
    assert total(final, "lgbench_time_to_first_event_seconds_count") == stream["streams"] > 0
    assert total(final, "lgbench_iterations_dropped_total") == summary["dropped_iterations"]
    assert any(total(s, "lgbench_active_vus", scenario="streams") == 2 for s in during)
    assert total(final, "lgbench_active_vus") == 0
    assert (
        total(final, "lgbench_event_loop_lag_seconds_count")
        == (summary["event_loop_lag_ms"]["count"])
    )
    assert total(final, "lgbench_threshold_passed") == 1
    assert final["lgbench_run_info"][0][0]["workload"] == "monitored"


def test_a_taken_port_is_a_usage_error_before_anything_runs() -> None:
    pytest.importorskip("prometheus_client")
    feed = MetricsFeed()
    with PrometheusExporter(feed, parse_listen_address("127.0.0.1:0")) as first:
        taken = parse_listen_address(f"127.0.0.1:{first.port}")
        with pytest.raises(UsageError, match="cannot listen there"):
            PrometheusExporter(feed, taken).start()


@pytest.mark.parametrize(
    "text",
    ["9464", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", "::1:9464", "[nope]:1", ":9464"],
)
def test_malformed_addresses_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--prometheus"):
        parse_listen_address(text)


def test_addresses_say_whether_they_are_loopback() -> None:
    assert parse_listen_address("127.0.0.1:9464").loopback
    assert parse_listen_address("[::1]:9464").loopback
    assert parse_listen_address("localhost:9464").loopback
    assert not parse_listen_address("0.0.0.0:9464").loopback
    assert parse_listen_address("[::1]:9464").url(1) == "http://[::1]:1/metrics"


def test_a_host_beyond_loopback_is_served_with_a_warning() -> None:
    notes: list[str] = []
    session = MetricsSession(MetricsSettings(prometheus="0.0.0.0:0", grace_s=0), notes.append)
    with session:
        assert session.prometheus is not None
        port = session.prometheus.port
        assert port > 0
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 200
    assert "listening beyond this machine" in notes[0]
    assert notes[1] == f"serving Prometheus metrics at http://0.0.0.0:{port}/metrics"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
