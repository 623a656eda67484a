"""Servers that are not the reference: their /info shown as it is, operations they lack
reported once as unsupported, and iterations that stop or go on after a failed operation.

The server here is a small scripted one behind a MockTransport (:class:`PartialServer`): it
names itself as told (or has no /info), may lack ``POST /threads/{thread_id}/copy`` (a
generic 404, or a 405), answers OPTIONS as a web framework does (404 for a path it has no
route for, 405 otherwise), and may fail ``GET /threads/{thread_id}`` with a 500.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from lgbench.client import MockTransport, Request, Response
from lgbench.engine import AuditOptions
from lgbench.engine._live import print_summary
from lgbench.observe import UNKNOWN_SERVER, describe_server, server_label
from lgbench.run import RunOptions, RunResult, run_workload
from lgbench.workload import parse_workload

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """Both event loops (the engine must behave alike on each)."""
    return (request.param, {})


def _json(status: int, value: Any) -> Response:
    return Response(
        status, {"content-type": "application/json"}, content=json.dumps(value).encode()
    )


@dataclass
class PartialServer:
    """A LangGraph-like server with scripted gaps (see the module docstring)."""

    info: dict[str, Any] | None = None
    copy_status: int | None = None  # None: copy works; 404 or 405: the route is missing
    get_thread_status: int = 200
    threads: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def transport(self) -> MockTransport:
        return MockTransport(self.handle)

    def count(self, method: str, suffix: str = "") -> int:
        return sum(1 for m, path in self.requests if m == method and path.endswith(suffix))

    def handle(self, request: Request) -> Response:
        path = request.target.split("?", 1)[0]
        method = request.method
        self.requests.append((method, path))
        parts = [part for part in path.split("/") if part]
        routed = self._has_route(parts)
        if method == "OPTIONS":
            return _json(
                405 if routed else 404, {"detail": "Method Not Allowed" if routed else "Not Found"}
            )
        if not routed:
            return _json(404, {"detail": "Not Found"})
        if parts == ["info"]:
            return _json(200, self.info)
        if parts == ["threads"] and method == "POST":
            thread_id = f"thread-{len(self.threads)}"
            self.threads.add(thread_id)
            return _json(200, {"thread_id": thread_id, "status": "idle"})
        thread_id = parts[1]
        if thread_id not in self.threads:
            # As the reference does for some resources: the framework's generic answer.
            return _json(404, {"detail": "Not Found"})
        if len(parts) == 2:
            if self.get_thread_status != 200:
                return _json(self.get_thread_status, {"detail": "scripted failure"})
            return _json(200, {"thread_id": thread_id, "status": "idle"})
        if parts[2] == "copy":
            if self.copy_status == 405:
                return _json(405, {"detail": "Method Not Allowed"})
            return _json(200, {"thread_id": thread_id + "-copy", "status": "idle"})
        if parts[2] == "state":
            return _json(200, {"values": {}, "next": [], "tasks": []})
        return _json(200, [])  # runs.list

    def _has_route(self, parts: list[str]) -> bool:
        if parts == ["info"]:
            return self.info is not None
        if parts[:1] != ["threads"]:
            return False
        if len(parts) <= 2:
            return True
        if parts[2] == "copy":
            return self.copy_status != 404
        return len(parts) == 3 and parts[2] in ("state", "runs")


def _workload(steps: str, *, on_error: str | None = None, iterations: int = 3) -> Any:
    option = f'on_error = "{on_error}"\n' if on_error else ""
    text = f"""
name = "partial"
[[scenario]]
name = "users"
executor = "per-vu-iterations"
vus = 1
iterations = {iterations}
max_duration = "1m"
{option}steps = [
{steps}
]
"""
    return parse_workload(text, "partial.toml")


async def _run(server: PartialServer, workload: Any, tmp_path: Path, **options: Any) -> RunResult:
    result = await run_workload(
        workload,
        RunOptions(
            target="http://127.0.0.1:9",
            out_dir=tmp_path / "run",
            report=options.pop("report", False),
            loop_lag_interval_s=None,
            # The requests counted here are the workload's: no post-run audit.
            audit=AuditOptions(enabled=False),
            **options,
        ),
        transport=server.transport(),
    )
    assert not result.partial, result.stop_reason
    assert result.summary is not None
    return result


# -- what the server says it is ---------------------------------------------------------------

REFERENCE_INFO = {
    "version": "0.16.7",
    "langgraph_py_version": "1.2.24",
    "flags": {"assistants": True, "crons": True},
    "host": {"kind": "self-hosted"},
}


@pytest.mark.parametrize(
    ("info", "name", "label"),
    [
        pytest.param(REFERENCE_INFO, "langgraph-api", "langgraph-api 0.16.7", id="reference"),
        pytest.param(
            {"name": "acme-graph", "version": "2.1"}, "acme-graph", "acme-graph 2.1", id="named"
        ),
        pytest.param({"server": "tiny", "version": 3}, "tiny", "tiny 3", id="server-key"),
        pytest.param(
            {"version": "1.2"}, UNKNOWN_SERVER, "unknown server (version 1.2)", id="no-name"
        ),
        pytest.param(None, UNKNOWN_SERVER, UNKNOWN_SERVER, id="no-info"),
        pytest.param("<html>hello</html>", UNKNOWN_SERVER, UNKNOWN_SERVER, id="not-json"),
    ],
)
def test_the_server_is_named_by_its_own_info(info: Any, name: str, label: str) -> None:
    described = describe_server(info)
    assert (described["name"], described["label"]) == (name, label)
    assert server_label(described) == label


def test_a_huge_info_is_kept_bounded() -> None:
    info = {f"key{i}": {"nested": {"deeper": {"deepest": "x" * 10_000}}} for i in range(100)}
    info["version"] = "9"
    info["name"] = "y" * 1000
    described = describe_server(info)
    assert len(json.dumps(described)) < 4000
    assert described["name"].startswith("yyy") and len(described["name"]) <= 120
    assert described["info"]["…"] == "86 more keys"


def test_a_summary_written_before_names_were_recorded_claims_no_name() -> None:
    assert server_label({"version": "0.16.7"}) == "version 0.16.7"


async def test_a_named_server_is_shown_as_it_names_itself(tmp_path: Path) -> None:
    server = PartialServer(info={"name": "acme-graph", "version": "2.1", "extra": [1, 2]})
    workload = _workload('  { op = "threads.create" },', iterations=1)
    result = await _run(server, workload, tmp_path, report=True)
    summary = result.summary
    assert summary is not None
    assert summary["server"]["name"] == "acme-graph"
    assert summary["server"]["version"] == "2.1"
    assert summary["server"]["info"] == {"name": "acme-graph", "version": "2.1", "extra": [1, 2]}
    header = json.loads((result.run_dir / "history.jsonl").read_text().splitlines()[0])
    assert header["server"] == {"name": "acme-graph", "version": "2.1", "label": "acme-graph 2.1"}
    out = io.StringIO()
    print_summary(Console(file=out, width=200), summary)
    assert "lgbench run — partial — acme-graph 2.1" in out.getvalue()
    assert "langgraph-api" not in out.getvalue()
    report = (result.run_dir / "report.html").read_text(encoding="utf-8")
    assert "acme-graph 2.1" in report and "langgraph-api" not in report


async def test_a_server_without_info_is_an_unknown_server(tmp_path: Path) -> None:
    server = PartialServer(info=None)
    result = await _run(server, _workload('  { op = "threads.create" },', iterations=1), tmp_path)
    assert result.summary is not None
    assert result.summary["server"]["name"] == UNKNOWN_SERVER
    assert result.summary["server"]["info_status"] == 404
    assert result.summary["operations"]["threads.create"]["ok"] == 1
    assert result.summary["warnings"] == []


# -- operations the server does not implement -------------------------------------------------

COPY_STEPS = """
  { op = "threads.create", save = "thread" },
  { op = "threads.copy", thread = "$thread" },
  { op = "threads.get_state", thread = "$thread" },
"""


@pytest.mark.parametrize("status", [404, 405])
async def test_a_missing_route_family_is_reported_once_as_unsupported(
    tmp_path: Path, status: int
) -> None:
    server = PartialServer(info={"name": "partial", "version": "1"}, copy_status=status)
    result = await _run(server, _workload(COPY_STEPS, iterations=5), tmp_path, report=True)
    summary = result.summary
    assert summary is not None
    assert summary["unsupported"] == [
        {
            "operation": "threads.copy",
            "method": "POST",
            "path": "/threads/{thread_id}/copy",
            "status": status,
            "count": 5,
            "answered": 1,
            "skipped": 4,
        }
    ]
    # Sent once; OPTIONS confirmed the generic 404 (a 405 needs no confirmation).
    assert server.count("POST", "/copy") == 1
    assert server.count("OPTIONS") == (1 if status == 404 else 0)
    warnings = [w for w in summary["warnings"] if "threads.copy" in w]
    reason = {404: "404 Not Found", 405: "405 Method Not Allowed"}[status]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        f"the server does not implement threads.copy (POST /threads/{{thread_id}}/copy"
        f" answered {reason})"
    )
    copy = summary["operations"]["threads.copy"]
    assert (copy["count"], copy["errors"]) == (1, 1)
    assert copy["skipped"] == {"after_failure": 0, "unsupported": 4}
    # The first iteration stopped at the failed copy; the later ones went on without it.
    state = summary["operations"]["threads.get_state"]
    assert (state["count"], state["ok"]) == (4, 4)
    assert state["skipped"] == {"after_failure": 1, "unsupported": 0}
    assert summary["scenarios"]["users"]["iterations"]["failed"] == 1
    assert summary["scenarios"]["users"]["iterations"]["finished"] == 4
    out = io.StringIO()
    print_summary(Console(file=out, width=200), summary)
    text = out.getvalue()
    # The warning itself was printed once, as it happened; the summary's line counts.
    assert f"unsupported: threads.copy (POST /threads/{{thread_id}}/copy answered {status})" in text
    assert text.count("threads.copy never succeeded") == 1
    assert "never succeeded: 1 of 1 failed: the server does not implement it" in text
    report = (result.run_dir / "report.html").read_text(encoding="utf-8")
    assert (
        "the server does not implement <code>threads.copy</code> (POST"
        f" <code>/threads/{{thread_id}}/copy</code> answered {status}): 1 answered, 4 not sent"
    ) in report
    assert (
        "skipped after an earlier failure in scenario users: <code>threads.get_state</code> 1"
        in report
    )


async def test_a_missing_resource_behind_a_generic_404_is_not_an_unsupported_route(
    tmp_path: Path,
) -> None:
    server = PartialServer(info=None)
    steps = '  { op = "threads.get", thread = "no-such-thread" },'
    result = await _run(server, _workload(steps, iterations=4), tmp_path)
    summary = result.summary
    assert summary is not None
    assert summary["unsupported"] == []
    # Every call was sent and counted as the 404 it got; OPTIONS asked once, then trusted.
    assert summary["operations"]["threads.get"]["errors_by_kind"]["http"] == {"404": 4}
    assert server.count("GET", "/no-such-thread") == 4
    assert server.count("OPTIONS") == 1


@pytest.mark.parametrize(
    ("body", "generic"),
    [
        ({"detail": "Not Found"}, True),
        ({"detail": "Not Found."}, True),
        ("404 page not found", True),
        ("Cannot POST /threads/x/copy", True),
        ("<html><body>404</body></html>", True),
        (None, True),
        ({}, True),
        ({"message": "Route not found"}, True),
        ({"detail": "Thread with ID 00000000-0000-0000-0000-000000000001 not found"}, False),
        ({"detail": "Run not found"}, False),
        ({"detail": "No runs found to cancel."}, False),
        ({"detail": "Thread or assistant not found."}, False),
        ({"detail": ["a", "list"]}, False),
    ],
)
def test_which_404_bodies_name_no_resource(body: Any, generic: bool) -> None:
    from lgbench.engine._routes import is_generic_not_found

    assert is_generic_not_found(body) is generic


# -- iterations after a failed operation ------------------------------------------------------

FAILING_STEPS = """
  { op = "threads.create", save = "thread" },
  { op = "threads.get", thread = "$thread", save = "got"STEP_OPTION },
  { op = "threads.get_state", thread = "$thread" },
  { op = "runs.list", thread = "$got", repeat = 2 },
"""


@pytest.mark.parametrize(
    ("scenario", "step", "expected"),
    [
        pytest.param(None, None, "stop", id="default"),
        pytest.param("stop", None, "stop", id="scenario-stop"),
        pytest.param("continue", None, "continue", id="scenario-continue"),
        pytest.param("continue", "stop", "stop", id="step-overrides-continue"),
        pytest.param("stop", "continue", "continue", id="step-overrides-stop"),
    ],
)
async def test_an_iteration_stops_or_goes_on_after_a_failed_operation(
    tmp_path: Path, scenario: str | None, step: str | None, expected: str
) -> None:
    server = PartialServer(info=None, get_thread_status=500)
    option = f', on_error = "{step}"' if step else ""
    workload = _workload(FAILING_STEPS.replace("STEP_OPTION", option), on_error=scenario)
    result = await _run(server, workload, tmp_path)
    summary = result.summary
    assert summary is not None
    ops = summary["scenarios"]["users"]["operations"]
    assert (ops["threads.create"]["ok"], ops["threads.get"]["errors"]) == (3, 3)
    assert ops["threads.get"]["errors_by_kind"]["http"] == {"500": 3}
    assert server.count("GET", "/runs") == 0  # never sent: it needs what threads.get saves
    assert ops["runs.list"]["count"] == 0
    # Either way the two runs.list calls of each iteration need $got, which was never saved.
    assert ops["runs.list"]["skipped"]["after_failure"] == 6
    iterations = summary["scenarios"]["users"]["iterations"]
    assert (iterations["failed"], iterations["finished"]) == (3, 0)
    if expected == "stop":
        assert ops["threads.get_state"]["count"] == 0
        assert ops["threads.get_state"]["skipped"]["after_failure"] == 3
        assert iterations["skipped_operations"] == 9
    else:
        assert (ops["threads.get_state"]["count"], ops["threads.get_state"]["ok"]) == (3, 3)
        assert ops["threads.get_state"]["skipped"]["after_failure"] == 0
        assert iterations["skipped_operations"] == 6
    assert summary["operations"]["runs.list"]["skipped"]["after_failure"] == 6
    assert summary["unsupported"] == []
    out = io.StringIO()
    print_summary(Console(file=out, width=200), summary)
    skipped = "runs.list 6, threads.get_state 3" if expected == "stop" else "runs.list 6"
    assert f"skipped after an earlier failure in users: {skipped}" in out.getvalue()


async def test_a_successful_repeat_saves_what_a_failed_one_did_not(tmp_path: Path) -> None:
    """With continue, a step that fails and later succeeds (in its repeats) saves its value:
    the steps after it run."""
    calls = {"n": 0}
    server = PartialServer(info=None)
    plain = server.handle

    def flaky(request: Request) -> Response:
        if request.method == "GET" and request.target.count("/") == 2:
            calls["n"] += 1
            if calls["n"] % 2 == 1:  # the first of each pair of threads.get fails
                server.requests.append((request.method, request.target))
                return _json(503, {"detail": "busy"})
        return plain(request)

    steps = """
  { op = "threads.create", save = "thread" },
  { op = "threads.get", thread = "$thread", save = "got", repeat = 2 },
  { op = "threads.get_state", thread = "$got" },
"""
    result = await run_workload(
        _workload(steps, on_error="continue", iterations=2),
        RunOptions(target="http://127.0.0.1:9", out_dir=tmp_path / "run", report=False),
        transport=MockTransport(flaky),
    )
    summary = result.summary
    assert summary is not None
    ops = summary["operations"]
    assert (ops["threads.get"]["count"], ops["threads.get"]["errors"]) == (4, 2)
    assert (ops["threads.get_state"]["ok"], ops["threads.get_state"]["skipped"]) == (
        2,
        {"after_failure": 0, "unsupported": 0},
    )


def test_raw_paths_with_different_ids_are_one_route() -> None:
    from lgbench.engine._routes import path_template, route_key

    first = route_key("http.post", {"path": "/threads/0a1b2c3d-0000-4000-8000-00000000000a/x?y=1"})
    second = route_key("http.post", {"path": "/threads/0a1b2c3d-0000-4000-8000-00000000000b/x"})
    assert first == second == ("http.post", False, "/threads/{id}/x", None)
    kwargs = {"thread_id": "t-1", "run_id": "0a1b2c3d-0000-4000-8000-00000000000a"}
    assert (
        path_template("/threads/t-1/runs/0a1b2c3d-0000-4000-8000-00000000000a/join", kwargs)
        == "/threads/{thread_id}/runs/{run_id}/join"
    )
