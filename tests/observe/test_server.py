"""ServerSampler: the real server's figures, parsing, and targets that lack or hang /metrics."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import anyio.abc
import pytest
from anyio.abc import SocketAttribute

from lgbench.client import get_client
from lgbench.observe import (
    FIGURES,
    ServerSampler,
    figures_from_metrics_json,
    figures_from_prometheus,
    parse_prometheus_text,
)

# --- parsing ----------------------------------------------------------------------------------

# What langgraph-api 0.16.7 (in-memory) answered to GET /metrics?format=json under load.
METRICS_JSON = {
    "queue": {
        "n_pending": 2,
        "pending_runs_wait_time_max_secs": 0.75,
        "pending_runs_wait_time_med_secs": 0.5,
        "pending_unblocked_runs_wait_time_max_secs": None,
        "n_running": 10,
    },
    "api": {
        "http_requests_total": [
            {"method": "POST", "path": "/runs/wait", "status": 200, "count": 7},
            {"method": "GET", "path": "/ok", "status": 200, "count": 3},
        ]
    },
    "workers": {"max": 10, "active": 10, "available": 0},
    "postgres": {"pool_max": 20, "pool_size": 5, "note": "strings are left out"},
    "flag": True,
}


def test_figures_from_metrics_json() -> None:
    assert figures_from_metrics_json(METRICS_JSON) == {
        "queue.n_pending": 2.0,
        "queue.n_running": 10.0,
        "queue.pending_wait_max_s": 0.75,
        "queue.pending_wait_median_s": 0.5,
        "queue.pending_unblocked_wait_max_s": None,
        "api.http_requests": 10.0,
        "workers.max": 10.0,
        "workers.active": 10.0,
        "workers.available": 0.0,
        "postgres.pool_max": 20.0,
        "postgres.pool_size": 5.0,
    }


PROMETHEUS_TEXT = r"""# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.28479232e+08
process_cpu_seconds_total 1.5 1700000000000
process_open_fds 17.0
lg_api_workers_active{project_id="p", note="a \"quoted\" } brace"} 3
lg_api_workers_active{project_id="q"} 2
lg_api_num_pending_runs 4
python_gc_objects_collected_total{generation="0"} 2919.0
weird_value NaN
not a sample at all
broken{label="unterminated 1
"""


def test_parse_prometheus_text() -> None:
    samples = parse_prometheus_text(PROMETHEUS_TEXT)
    assert samples[:6] == [
        ("process_resident_memory_bytes", {}, 128479232.0),
        ("process_cpu_seconds_total", {}, 1.5),
        ("process_open_fds", {}, 17.0),
        ("lg_api_workers_active", {"project_id": "p", "note": 'a "quoted" } brace'}, 3.0),
        ("lg_api_workers_active", {"project_id": "q"}, 2.0),
        ("lg_api_num_pending_runs", {}, 4.0),
    ]
    assert samples[6] == ("python_gc_objects_collected_total", {"generation": "0"}, 2919.0)
    assert samples[7][0] == "weird_value" and math.isnan(samples[7][2])
    assert len(samples) == 8  # the last two lines do not parse


def test_figures_from_prometheus() -> None:
    assert figures_from_prometheus(PROMETHEUS_TEXT) == {
        "process.rss_bytes": 128479232.0,
        "process.cpu_s": 1.5,
        "process.open_fds": 17.0,
        "workers.active": 5.0,  # summed over label sets
        "queue.n_pending": 4.0,
    }


def test_every_figure_is_documented() -> None:
    figures = {
        *figures_from_metrics_json(METRICS_JSON),
        *figures_from_prometheus(PROMETHEUS_TEXT),
        "process.cpu_percent",
    }
    assert figures - set(FIGURES) == {"postgres.pool_max", "postgres.pool_size"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"timeout_s": 0}, "timeout_s", id="timeout"),
        pytest.param({"max_failures": 0}, "max_failures", id="failures"),
        pytest.param({"retry_s": -1.0}, "retry_s", id="retry"),
    ],
)
def test_arguments_are_checked(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ServerSampler(get_client(url="http://127.0.0.1:9", api_key=None).http, **kwargs)  # type: ignore[arg-type]


# --- the real server --------------------------------------------------------------------------


@pytest.mark.server
@pytest.mark.anyio
async def test_real_server_figures(langgraph_url: str) -> None:
    warnings: list[str] = []
    async with (
        get_client(url=langgraph_url, api_key=None) as observer,
        get_client(url=langgraph_url, api_key=None) as client,
    ):
        sampler = ServerSampler(observer.http, on_warning=warnings.append)
        info = await sampler.read_info()
        assert info is not None and isinstance(info["version"], str)
        assert sampler.info == info

        first = await sampler.sample()
        for key in (
            "queue.n_pending",
            "queue.n_running",
            "workers.max",
            "workers.active",
            "workers.available",
            "process.rss_bytes",
            "process.cpu_s",
            "process.open_fds",
        ):
            value = first[key]
            assert isinstance(value, float) and value >= 0, key
        assert first["workers.max"] == first["workers.active"] + first["workers.available"]
        assert first["process.rss_bytes"] > 0
        assert sampler.sources == ("json", "prometheus")

        # A run in the background shows in the queue figures while it goes.
        thread = await client.threads.create()
        run = await client.runs.create(thread["thread_id"], "sleepy", input={"seconds": 1.0})
        seen_busy = False
        with anyio.fail_after(60):  # a guard against hanging, not a timing claim
            while not seen_busy:
                figures = await sampler.sample()
                seen_busy = (figures["queue.n_running"] or 0) + (
                    figures["queue.n_pending"] or 0
                ) >= 1
                got = await client.runs.get(thread["thread_id"], run["run_id"])
                if got["status"] not in ("pending", "running"):
                    break
        assert seen_busy
        await client.runs.join(thread["thread_id"], run["run_id"])

        later = await sampler.sample()
        cpu = later["process.cpu_percent"]
        assert isinstance(cpu, float) and cpu >= 0
        assert sampler.samples >= 3
        assert sampler.status == "sampling"
    assert warnings == []


# --- fake targets -----------------------------------------------------------------------------

Route = Callable[[], Awaitable[tuple[int, str, bytes]]]


def answer(status: int, body: bytes | str, content_type: str = "text/plain") -> Route:
    async def route() -> tuple[int, str, bytes]:
        return status, content_type, body.encode() if isinstance(body, str) else body

    return route


async def hang() -> tuple[int, str, bytes]:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


@dataclass
class FakeTarget:
    """A tiny HTTP/1.1 server: ``routes`` maps a request target to its answer."""

    routes: dict[str, Route]
    requests: list[str] = field(default_factory=list)
    url: str = ""

    async def handle(self, stream: anyio.abc.SocketStream) -> None:
        async with stream:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    try:
                        buffer += await stream.receive()
                    except (anyio.EndOfStream, anyio.BrokenResourceError):
                        return
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
                self.requests.append(target)
                route = self.routes.get(target, answer(404, "not found"))
                status, content_type, body = await route()
                await stream.send(
                    f"HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\n"
                    f"content-length: {len(body)}\r\n\r\n".encode()
                    + body
                )


@asynccontextmanager
async def fake_target(routes: dict[str, Route]) -> AsyncIterator[FakeTarget]:
    target = FakeTarget(routes)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    target.url = f"http://127.0.0.1:{listener.extra(SocketAttribute.local_port)}"
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, target.handle)
        yield target
        tg.cancel_scope.cancel()


@asynccontextmanager
async def sampler_for(
    routes: dict[str, Route], **kwargs: float | None
) -> AsyncIterator[tuple[ServerSampler, FakeTarget, list[str]]]:
    warnings: list[str] = []
    async with fake_target(routes) as target, get_client(url=target.url, api_key=None) as client:
        sampler = ServerSampler(client.http, on_warning=warnings.append, **kwargs)  # type: ignore[arg-type]
        yield sampler, target, warnings


JSON_PATH = "/metrics?format=json"
TEXT_PATH = "/metrics"


@pytest.mark.anyio
async def test_a_target_without_metrics_turns_sampling_off_at_once() -> None:
    async with sampler_for({}) as (sampler, target, warnings):
        assert await sampler.read_info() is None
        assert await sampler.sample() == {}
        assert not sampler.active
        assert sampler.status.startswith("off: GET /metrics?format=json answered 404")
        assert len(warnings) == 1 and "offers no metrics" in warnings[0]
        asked = len(target.requests)
        for _ in range(3):
            assert await sampler.sample() == {}
        assert len(target.requests) == asked  # it asks no more
        assert len(warnings) == 1


@pytest.mark.anyio
async def test_a_hanging_target_is_given_up_quickly_and_warned_of_once() -> None:
    routes: dict[str, Route] = {JSON_PATH: hang, TEXT_PATH: hang}
    async with sampler_for(routes, timeout_s=0.2, max_failures=3, retry_s=None) as (
        sampler,
        target,
        warnings,
    ):
        for _ in range(3):
            with anyio.fail_after(10):  # a generous guard against hanging, not a timing claim
                assert await sampler.sample() == {}
        assert target.requests == [JSON_PATH] * 3  # each sample stopped at its timeout
        assert sampler.status.startswith("off: GET /metrics?format=json: no answer in 0.2 s")
        assert len(warnings) == 1 and "after 3 failures" in warnings[0]
        assert await sampler.sample() == {}
        assert len(target.requests) == 3
        assert len(warnings) == 1


@pytest.mark.anyio
async def test_suspended_sampling_retries_and_resumes() -> None:
    state = {"up": False}

    async def flaky() -> tuple[int, str, bytes]:
        if state["up"]:
            return 200, "application/json", json.dumps(METRICS_JSON).encode()
        return 503, "text/plain", b"restarting"

    routes: dict[str, Route] = {JSON_PATH: flaky, TEXT_PATH: flaky}
    async with sampler_for(routes, max_failures=2, retry_s=0.05) as (sampler, target, warnings):
        assert await sampler.sample() == {}
        assert sampler.active
        assert await sampler.sample() == {}
        assert not sampler.active
        assert sampler.status == "suspended: GET /metrics?format=json answered 503"
        asked = len(target.requests)
        assert await sampler.sample() == {}  # before retry_s: nothing asked
        assert len(target.requests) == asked
        # Twice retry_s: uvloop's sleeps end on a millisecond clock, a shade before the
        # sampler's monotonic deadline.
        await anyio.sleep(0.1)
        assert await sampler.sample() == {}  # the retry fails: suspended again at once
        assert len(target.requests) == asked + 2
        assert not sampler.active
        state["up"] = True
        await anyio.sleep(0.1)
        figures = await sampler.sample()
        assert figures["workers.max"] == 10.0
        assert sampler.status == "sampling"
        assert len(warnings) == 1 and "suspended after 2 failures" in warnings[0]


@pytest.mark.anyio
async def test_prometheus_text_stands_in_for_missing_json() -> None:
    routes = {TEXT_PATH: answer(200, PROMETHEUS_TEXT)}
    async with sampler_for(routes) as (sampler, target, warnings):
        figures = await sampler.sample()
        assert figures == figures_from_prometheus(PROMETHEUS_TEXT)
        assert sampler.sources == ("prometheus",)
        await sampler.sample()
        assert target.requests == [JSON_PATH, TEXT_PATH, TEXT_PATH]
        assert warnings == []


@pytest.mark.anyio
async def test_json_that_is_not_json_and_text_with_nothing_known() -> None:
    routes = {
        JSON_PATH: answer(200, "<html>a web page</html>", "text/html"),
        TEXT_PATH: answer(200, "go_goroutines 12\n"),
    }
    async with sampler_for(routes) as (sampler, _target, warnings):
        assert await sampler.sample() == {}
        assert sampler.status == (
            "off: GET /metrics?format=json did not answer JSON;"
            " GET /metrics answered no figure lgbench knows"
        )
        assert len(warnings) == 1


@pytest.mark.anyio
async def test_an_endpoint_that_keeps_hanging_is_dropped_while_the_other_answers() -> None:
    routes: dict[str, Route] = {
        JSON_PATH: answer(200, json.dumps(METRICS_JSON), "application/json"),
        TEXT_PATH: hang,
    }
    async with sampler_for(routes, timeout_s=0.2, max_failures=2) as (sampler, target, warnings):
        for _ in range(2):
            assert (await sampler.sample())["queue.n_running"] == 10.0
        assert sampler.sources == ("json",)
        await sampler.sample()
        assert target.requests == [JSON_PATH, TEXT_PATH] * 2 + [JSON_PATH]
        assert warnings == []
