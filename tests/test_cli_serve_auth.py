"""``lgbench serve --auth``: the bundled Auth handlers, for fixture tokens of the secret in
``LGBENCH_AUTH_SECRET``; without that secret, a usage error naming it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from lgbench.server import fixture_token
from tests.test_cli_serve import _free_port

pytestmark = pytest.mark.server


def test_serve_auth_without_a_secret_is_a_usage_error() -> None:
    env = {k: v for k, v in os.environ.items() if k != "LGBENCH_AUTH_SECRET"}
    done = subprocess.run(
        [sys.executable, "-m", "lgbench.cli", "serve", "--auth"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "--auth: set LGBENCH_AUTH_SECRET" in done.stderr
    assert "Traceback" not in done.stderr


def _status(url: str, token: str | None) -> int:
    request = urllib.request.Request(url, data=b"{}", method="POST")
    request.add_header("content-type", "application/json")
    if token is not None:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            json.load(answer)
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_serve_auth_accepts_fixture_tokens_of_its_secret_only() -> None:
    pytest.importorskip("langgraph_api", reason="needs the lgbench[server] extra")
    port = _free_port()
    secret = "serve-auth-test-secret"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lgbench.cli", "serve", "--port", str(port), "--auth"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", "LGBENCH_AUTH_SECRET": secret},
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C to stop" in line:
                break
        output = "".join(lines)
        assert "auth: owner-only" in output, output
        assert secret not in output
        threads = f"http://127.0.0.1:{port}/threads"
        assert _status(threads, fixture_token("user-1", secret)) == 200
        assert _status(threads, None) == 401
        assert _status(threads, fixture_token("user-1", "another-secret")) == 401
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
