"""The embedded server's lifecycle: start, health, stop, and cleanup however lgbench ends.

These tests start their own short-lived servers; graph behaviour uses the session one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from lgbench.errors import ServerError, UsageError
from lgbench.exitcodes import ExitCode
from lgbench.graphs import GRAPH_IDS
from lgbench.server import (
    DEFAULT_N_JOBS_PER_WORKER,
    EmbeddedServer,
    ServerConfigError,
    open_embedded_server,
)
from lgbench.server._protocol import EXIT_PORT_IN_USE
from tests.server._support import group_gone, wait_until

pytestmark = pytest.mark.server

_STARTING = re.compile(r"lgbench: starting langgraph-api on \S+, pid (\d+), in (\S+)")


def get(url: str, path: str) -> httpx.Response:
    return httpx.get(f"{url}{path}", timeout=10.0, trust_env=False)


def assert_cleaned_up(pid: int, workdir: Path) -> None:
    assert group_gone(pid), f"process group {pid} is still alive"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not workdir.exists()


def test_server_starts_answers_and_leaves_nothing_behind(tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    server = EmbeddedServer(log_path=log_path, n_jobs_per_worker=3)
    with server:
        assert server.is_running()
        assert server.port != 2024
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert get(server.url, "/ok").status_code == 200
        info = server.info()
        assert isinstance(info["version"], str)
        assert "flags" in info
        assert server.graphs == GRAPH_IDS
        assert server.startup_s is not None and server.startup_s > 0
        # n_jobs_per_worker reaches the server: its worker pool has that many slots.
        metrics = get(server.url, "/metrics?format=json").json()
        assert metrics["workers"]["max"] == 3
        pid, workdir = server.pid, server.workdir
        assert workdir is not None and workdir.is_dir()
        assert os.getpgid(pid) == pid
    assert not server.is_running()
    assert_cleaned_up(pid, workdir)
    assert "starting langgraph-api" in log_path.read_text()
    server.stop()  # idempotent
    with pytest.raises(ServerError, match="not running"):
        server.info()


def test_a_stopped_server_restarts_on_the_same_port() -> None:
    server = EmbeddedServer()
    with server:
        port, first_pid = server.port, server.pid
    with server:
        assert server.port == port
        second_pid = server.pid
        assert second_pid != first_pid
        assert get(server.url, "/ok").status_code == 200
    assert group_gone(first_pid)
    assert group_gone(second_pid)


@pytest.mark.parametrize("exc_type", [RuntimeError, KeyboardInterrupt])
def test_server_stops_when_the_with_block_raises(exc_type: type[BaseException]) -> None:
    with pytest.raises(exc_type), EmbeddedServer() as server:
        pid, workdir = server.pid, server.workdir
        log_path = server.log_path
        raise exc_type("inside the with block")
    assert workdir is not None
    assert_cleaned_up(pid, workdir)
    # The default log is temporary and removed after a clean run.
    assert not log_path.exists()


def test_default_is_several_jobs_per_worker() -> None:
    assert DEFAULT_N_JOBS_PER_WORKER > 1
    assert EmbeddedServer().n_jobs_per_worker == DEFAULT_N_JOBS_PER_WORKER


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.com", "::", "::1"])
def test_only_ipv4_loopback_hosts_are_accepted(host: str) -> None:
    with pytest.raises(ServerConfigError) as caught:
        EmbeddedServer(host=host)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, UsageError)
    assert caught.value.exit_code == ExitCode.USAGE


def test_another_address_is_bound_only_when_allowed_and_then_said() -> None:
    assert not EmbeddedServer().exposed
    assert not EmbeddedServer(host="127.0.0.2").exposed
    wildcard = EmbeddedServer(host="0.0.0.0", allow_remote=True)
    assert wildcard.exposed
    assert wildcard.bind_host == "0.0.0.0"
    assert wildcard.host == "127.0.0.1"  # lgbench itself still talks over loopback
    assert EmbeddedServer(host="192.0.2.1", allow_remote=True).host == "192.0.2.1"
    for host in ("example.com", "::"):
        with pytest.raises(ServerConfigError):
            EmbeddedServer(host=host, allow_remote=True)


def test_a_given_port_in_use_is_a_server_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = EmbeddedServer(port=port, log_path=tmp_path / "server.log")
        with pytest.raises(ServerError, match="in use") as caught:
            server.start()
    assert caught.value.exit_code == ExitCode.TARGET
    assert not server.is_running()


def test_a_server_crashing_at_startup_is_a_server_error_with_its_log(tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    # An invalid setting makes langgraph-api fail while reading its configuration.
    server = EmbeddedServer(log_path=log_path, env={"BG_JOB_TIMEOUT_SECS": "soon"})
    with pytest.raises(ServerError, match="exited with code") as caught:
        server.start()
    assert "BG_JOB_TIMEOUT_SECS" in str(caught.value)
    assert str(log_path) in str(caught.value)
    match = _STARTING.search(log_path.read_text())
    assert match is not None
    assert_cleaned_up(int(match.group(1)), Path(match.group(2)))


def test_a_server_not_healthy_in_time_is_a_server_error(tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    server = EmbeddedServer(log_path=log_path, startup_timeout_s=0.05)
    with pytest.raises(ServerError, match=r"not healthy within 0\.05 s"):
        server.start()
    assert not server.is_running()
    first_line = log_path.read_text().splitlines()[0]
    workdir = Path(first_line.split("--workdir ")[1].split()[0])
    assert not workdir.exists()


def test_the_child_refuses_a_taken_port_instead_of_moving(tmp_path: Path) -> None:
    # langgraph_api's run_server would silently serve on another port; the parent must
    # learn about it to pick a new port itself.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        read_end, write_end = os.pipe()
        try:
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "lgbench.server._child",
                    *("--host", "127.0.0.1", "--port", str(port), "--n-jobs-per-worker", "1"),
                    *("--parent-pid", str(os.getpid()), "--watch-fd", str(read_end)),
                    *("--workdir", str(tmp_path)),
                ],
                pass_fds=(read_end,),
                capture_output=True,
                text=True,
                timeout=120,
                cwd=tmp_path,
            )
        finally:
            os.close(read_end)
            os.close(write_end)
    assert result.returncode == EXIT_PORT_IN_USE, result.stderr
    assert f"port {port}" in result.stderr


def test_missing_extra_is_a_server_error_with_the_install_hint() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["langgraph_api"] = None  # as if lgbench[server] were not installed
        from lgbench.errors import ServerError
        from lgbench.server import EmbeddedServer
        try:
            EmbeddedServer().start()
        except ServerError as exc:
            print(int(exc.exit_code))
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    code, message = result.stdout.split("\n", 1)
    assert int(code) == ExitCode.TARGET
    assert 'pip install "lgbench[server]"' in message


def test_server_dies_with_a_sigkilled_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import json, sys, time
        from pathlib import Path
        from lgbench.server import EmbeddedServer
        server = EmbeddedServer(log_path=Path(sys.argv[1]))
        server.start()
        print(json.dumps([server.pid, str(server.workdir), server.url]), flush=True)
        time.sleep(600)
        """
    )
    log_path = tmp_path / "server.log"
    with subprocess.Popen(
        [sys.executable, "-c", script, str(log_path)], stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            pid, workdir, url = json.loads(parent.stdout.readline())
            assert get(url, "/ok").status_code == 200
            parent.send_signal(signal.SIGKILL)
            parent.wait(timeout=30)
            wait_until(lambda: group_gone(pid), timeout_s=60, what="the orphaned server to exit")
            # It cleaned up after itself: nobody else knew its working directory.
            wait_until(lambda: not Path(workdir).exists(), what="its working directory removed")
        finally:
            if parent.poll() is None:
                parent.kill()


def test_server_stops_when_the_program_exits_without_stopping_it(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import json, sys
        from pathlib import Path
        from lgbench.server import EmbeddedServer
        server = EmbeddedServer(log_path=Path(sys.argv[1]))
        server.start()
        print(json.dumps([server.pid, str(server.workdir)]), flush=True)
        # No stop(), no with: the interpreter's exit must still stop it.
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "server.log")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    pid, workdir = json.loads(result.stdout)
    assert_cleaned_up(pid, Path(workdir))


@pytest.fixture
def server_log(tmp_path: Path) -> Iterator[Path]:
    log_path = tmp_path / "server.log"
    yield log_path
    # Whatever the test did, no server of its own may survive it.
    match = _STARTING.search(log_path.read_text()) if log_path.exists() else None
    if match:
        assert group_gone(int(match.group(1)))


@pytest.mark.anyio
async def test_async_server_stops_when_cancelled_while_serving(server_log: Path) -> None:
    with anyio.CancelScope() as scope:
        async with open_embedded_server(log_path=server_log) as server:
            assert server.is_running()
            response = await anyio.to_thread.run_sync(get, server.url, "/ok")
            assert response.status_code == 200
            pid, workdir = server.pid, server.workdir
            scope.cancel()
            await anyio.sleep_forever()
    assert scope.cancelled_caught
    assert workdir is not None
    assert_cleaned_up(pid, workdir)


@pytest.mark.anyio
async def test_async_server_stops_when_cancelled_during_startup(server_log: Path) -> None:
    async def cancel_once_launched(scope: anyio.CancelScope) -> None:
        # The child logs this line just before langgraph-api starts up (which takes a
        # while): cancel then, while open_embedded_server is still waiting for /ok.
        log = anyio.Path(server_log)
        while True:
            if await log.exists() and _STARTING.search(await log.read_text()):
                scope.cancel()
                return
            await anyio.sleep(0.01)

    async with anyio.create_task_group() as tg:
        with anyio.CancelScope() as scope:
            tg.start_soon(cancel_once_launched, scope)
            async with open_embedded_server(log_path=server_log):
                await anyio.sleep_forever()
    match = _STARTING.search(await anyio.Path(server_log).read_text())
    assert match is not None
    assert_cleaned_up(int(match.group(1)), Path(match.group(2)))
