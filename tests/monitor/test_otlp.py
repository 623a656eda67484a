"""``--otlp``: a real run's metrics pushed to a stand-in OTLP/HTTP collector on loopback that
records each request; decoded with opentelemetry-proto, the last push holds summary.json's
counts, under the same names and labels as ``/metrics``."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest

from lgbench.engine._listener import RunStart
from lgbench.errors import UsageError
from lgbench.monitor import (
    LATENCY_BUCKETS_S,
    MetricsFeed,
    MetricsSession,
    MetricsSettings,
    OtlpPusher,
    otlp_metrics_url,
)
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload
from tests.monitor._workload import MIXED, by_operation, summary_counts

pytest.importorskip("opentelemetry.sdk")
pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
service = pytest.importorskip("opentelemetry.proto.collector.metrics.v1.metrics_service_pb2")


class Collector:
    """Accepts OTLP/HTTP metric pushes and keeps each decoded request."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.paths: list[str] = []
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = service.ExportMetricsServiceRequest()
                request.ParseFromString(body)
                received.paths.append(self.path)
                received.requests.append(request)
                answer = service.ExportMetricsServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def metrics(self, index: int = -1) -> dict[str, Any]:
        request = self.requests[index]
        (resource,) = request.resource_metrics
        (scope,) = resource.scope_metrics
        return {metric.name: metric for metric in scope.metrics}


@pytest.fixture
def collector() -> Iterator[Collector]:
    found = Collector()
    found.thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()
        found.thread.join()


def attributes(point: Any) -> dict[str, str]:
    return {item.key: item.value.string_value for item in point.attributes}


@pytest.mark.anyio
@pytest.mark.server
async def test_a_real_runs_metrics_reach_the_collector(
    langgraph_url: str, tmp_path: Path, collector: Collector
) -> None:
    path = tmp_path / "w.toml"
    path.write_text(MIXED, encoding="utf-8")
    notes: list[str] = []
    session = MetricsSession(
        MetricsSettings(otlp=collector.url, push_every_s=0.5, grace_s=0), notes.append
    )
    session.start()
    try:
        result = await run_workload(
            load_workload(path),
            RunOptions(
                target=langgraph_url,
                out_dir=tmp_path / "run",
                listeners=session.listeners,
                report=False,
            ),
        )
    finally:
        await anyio.to_thread.run_sync(session.finish)
    summary = result.summary
    assert summary is not None
    assert len(collector.requests) >= 2  # periodic pushes, then the final one
    assert set(collector.paths) == {"/v1/metrics"}
    assert notes == [f"pushing OTLP metrics to {collector.url}/v1/metrics every 0.5 s"]

    metrics = collector.metrics()
    requests = metrics["lgbench_requests"]
    assert requests.sum.is_monotonic
    assert requests.sum.aggregation_temporality == 2  # cumulative
    counted = [
        (attributes(point), point.as_int or point.as_double) for point in requests.sum.data_points
    ]
    assert by_operation(counted) == summary_counts(summary)
    finished = metrics["lgbench_run_finished"].gauge.data_points[0]
    assert (finished.as_int or finished.as_double) == 1

    latency = metrics["lgbench_latency_seconds"]
    assert latency.unit == "s"
    created = [
        point
        for point in latency.histogram.data_points
        if attributes(point)["operation"] == "threads.create"
    ]
    assert sum(point.count for point in created) == summary["operations"]["threads.create"]["count"]
    for point in created:
        assert list(point.explicit_bounds) == list(LATENCY_BUCKETS_S)
        assert sum(point.bucket_counts) == point.count
        assert 0 < point.min <= point.max
    resource = {
        item.key: item.value.string_value
        for item in collector.requests[-1].resource_metrics[0].resource.attributes
    }
    assert resource["service.name"] == "lgbench"
    assert resource["lgbench.workload"] == "monitored"


def test_an_unreachable_collector_is_warned_about_once_and_the_pushes_go_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    warnings: list[str] = []
    feed = MetricsFeed()
    feed.run_started(RunStart("w", Path("run"), 1.0, 1_700_000_000.0, 1.0))
    pusher = OtlpPusher(
        feed, f"http://127.0.0.1:{port}/v1/metrics", every_s=60, warn=warnings.append,
        timeout_s=0.5,
    )  # fmt: skip
    pusher.check()
    assert pusher.push() is False
    assert pusher.push() is False
    assert pusher.failed == 2 and pusher.sent == 0
    assert len(warnings) == 1 and "a push failed" in warnings[0]
    assert capsys.readouterr().err == ""  # the SDK's own log lines stay quiet


@pytest.mark.parametrize(
    ("given", "endpoint"),
    [
        ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/metrics"),
        ("http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/metrics"),
        ("https://collector:4318/custom/path", "https://collector:4318/custom/path"),
    ],
)
def test_a_url_without_a_path_gets_the_standard_one(given: str, endpoint: str) -> None:
    assert otlp_metrics_url(given) == endpoint


@pytest.mark.parametrize(
    "given", ["127.0.0.1:4318", "ftp://h/", "http://", "http://h:port/", "http://u:p@h/"]
)
def test_bad_urls_are_usage_errors(given: str) -> None:
    with pytest.raises(UsageError, match="--otlp"):
        otlp_metrics_url(given)
