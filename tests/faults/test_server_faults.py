"""The embedded server's faults: kill -9, restart on the same port, SIGSTOP / SIGCONT.

Each test starts a server of its own (the session one must not be disturbed), so there
are few of them and they cover several steps each.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import anyio
import pytest

from lgbench.client import Timeout, TimeoutError, TransportError, get_client
from lgbench.errors import ServerError
from lgbench.server import EmbeddedServer, open_embedded_server
from tests.server._support import group_gone, wait_until

pytestmark = pytest.mark.server


def process_state(pid: int) -> str:
    """The one-letter state of ``pid`` from /proc (``T``: stopped)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return fields[0]


# One backend per loop family is enough here: the faults are signals and threads, and a
# server start costs seconds.
@pytest.mark.parametrize(
    "anyio_backend",
    [pytest.param(("asyncio", {}), id="asyncio"), pytest.param(("trio", {}), id="trio")],
)
@pytest.mark.anyio
async def test_kill_restart_pause_resume(tmp_path: Path, anyio_backend: Any) -> None:
    log_path = tmp_path / "server.log"
    quick = Timeout(connect_s=2.0, read_s=0.5, write_s=2.0)
    async with open_embedded_server(log_path=log_path) as server:
        port, first_pid = server.port, server.pid
        async with get_client(url=server.url, api_key=None, timeout=quick) as client:
            thread = await client.threads.create()

            # Paused: the kernel still accepts, nothing answers.
            await server.pause()
            assert server.is_paused() and server.is_running()
            assert process_state(first_pid) == "T"
            with pytest.raises(TimeoutError):
                await client.threads.get(thread["thread_id"])
            await server.resume()
            assert not server.is_paused()
            assert process_state(first_pid) != "T"
            assert (await client.threads.get(thread["thread_id"]))["thread_id"]

            # Killed: the whole group is gone, connections are refused.
            await server.kill()
            assert not server.is_running()
            # Dead, and kept unreaped until restart() or stop(), so that its group id
            # cannot be reused by a stranger while lgbench may still signal it.
            assert process_state(first_pid) == "Z"
            with pytest.raises(TransportError):
                await client.threads.create()
            await server.kill()  # nothing left to kill: no error

            # Restarted on the same port, empty (in-memory state is lost).
            await server.restart()
            assert server.is_running() and server.port == port
            assert server.pid != first_pid
            assert group_gone(first_pid)
            assert server.startup_s is not None
            with anyio.fail_after(30):
                restarted = await client.threads.search()
            assert thread["thread_id"] not in {t["thread_id"] for t in restarted}

            # A restart of a running (and paused) server stops it first.
            second_pid = server.pid
            await server.pause()
            await server.restart()
            assert group_gone(second_pid)
            assert not server.is_paused()
            assert "thread_id" in await client.threads.create()
            final_pid, workdir = server.pid, server.workdir
    assert group_gone(final_pid)
    assert workdir is not None and not workdir.exists()
    # The log covers every start; a kill is no reason to keep it, but it was given.
    assert log_path.read_text().count("starting langgraph-api") == 3


def test_sync_server_faults_and_errors(tmp_path: Path) -> None:
    server = EmbeddedServer(log_path=tmp_path / "server.log")
    with pytest.raises(ServerError, match="not started"):
        server.restart()
    with pytest.raises(ServerError, match="not running"):
        server.pause()
    server.kill()  # not started: nothing to do
    server.resume()
    with server:
        pid = server.pid
        server.pause()
        server.pause()  # idempotent
        assert process_state(pid) == "T"
        # stop() while paused: SIGCONT lets the SIGTERM act, no wait for the timeout.
    assert group_gone(pid)
    assert not server.is_paused()


def test_a_paused_server_still_dies_with_a_sigkilled_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import json, sys, time
        from pathlib import Path
        from lgbench.server import EmbeddedServer
        server = EmbeddedServer(log_path=Path(sys.argv[1]))
        server.start()
        server.pause()
        print(json.dumps([server.pid, str(server.workdir)]), flush=True)
        time.sleep(600)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "server.log")],
        stdout=subprocess.PIPE,
        text=True,
    ) as parent:
        try:
            assert parent.stdout is not None
            pid, workdir = json.loads(parent.stdout.readline())
            assert process_state(pid) == "T"
            parent.send_signal(signal.SIGKILL)
            parent.wait(timeout=30)
            # The guard continues the group; the server then sees its parent gone.
            wait_until(lambda: group_gone(pid), timeout_s=60, what="the paused orphan to exit")
            wait_until(lambda: not Path(workdir).exists(), what="its working directory removed")
        finally:
            if parent.poll() is None:
                parent.kill()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
