"""``lgbench serve``: the embedded server stays up until Ctrl-C or SIGTERM, then is gone."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = pytest.mark.server


def _free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port != 2024:
            return port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("stop_signal", "inherits_sigint_ignored"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    # The last: started like `lgbench serve &` from a script, which leaves SIGINT ignored.
    ids=["ctrl-c", "sigterm", "sigint-from-a-background-start"],
)
def test_serve_answers_until_signalled_then_leaves_no_server(
    stop_signal: signal.Signals, inherits_sigint_ignored: bool
) -> None:
    pytest.importorskip("langgraph_api", reason="needs the lgbench[server] extra")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lgbench.cli", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        preexec_fn=_ignore_sigint if inherits_sigint_ignored else None,
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C to stop" in line:
                break
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}" in output, output
        for graph in ("sleepy", "streamer", "interrupting", "failing", "subgraph", "storing"):
            assert graph in output
        match = re.search(r"server pid: (\d+)", output)
        assert match, output
        server_pid = int(match.group(1))

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/info", timeout=10) as answer:
            assert json.load(answer)["version"]

        proc.send_signal(stop_signal)
        assert proc.wait(timeout=30) == 0, proc.stderr.read() if proc.stderr else ""
        assert proc.stderr is not None
        assert "not loopback" not in proc.stderr.read()  # the default binds loopback
        deadline = time.monotonic() + 10
        while _alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(server_pid)
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ok", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("host", ["example.com", "::", "::1"])
def test_serve_refuses_a_host_that_is_no_ipv4_address(host: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lgbench.cli", "serve", "--host", host],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert host in done.stderr


def test_serve_warns_before_binding_beyond_loopback() -> None:
    """``--host 0.0.0.0`` is allowed, with a warning printed before the server starts. The
    port is held (bound, never listening) so that the server cannot start: nothing ever
    listens beyond loopback during the test."""
    pytest.importorskip("langgraph_api", reason="needs the lgbench[server] extra")
    with socket.socket() as held:
        held.bind(("0.0.0.0", 0))
        port = held.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "lgbench.cli",
                "serve",
                "--host",
                "0.0.0.0",
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "COLUMNS": "300"},
        )
    assert "Traceback" not in done.stderr
    warning = done.stderr.index("warning: binding 0.0.0.0, not loopback")
    assert "no authentication" in done.stderr
    # Warned first, then failed on the held port (exit 3: the target could not start).
    assert done.stderr.index("in use") > warning, done.stderr
    assert done.returncode == 3, done.stderr
