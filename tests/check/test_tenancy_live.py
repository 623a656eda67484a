"""Tenant isolation end to end: lgbench runs as several users against the real embedded
server with Auth handlers, and the checker names a breach exactly when the handlers leak.

The server is started by the test with a known secret (the leaky handlers come from
tests/check/_leaky_auth.py) and the run reaches it as an ordinary URL, the users' fixture
tokens in an environment variable (``tokens_env``), as for a real deployment.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_cli_run import lgbench

pytestmark = pytest.mark.server

_WORKLOAD = """
name = "leak"
[target]
url = "{url}"
[target.auth]
tokens_env = "LGBENCH_TEST_TOKENS"
[[scenario]]
name = "searchers"
executor = "per-vu-iterations"
vus = 6
iterations = 3
on_error = "continue"
steps = [
  {{ op = "threads.create", save = "thread" }},
  {{ op = "threads.get", thread = "$thread", as_user = "other" }},
  {{ op = "threads.search", limit = 100 }},
  {{ op = "threads.get_state", thread = "$thread" }},
]
[expected_errors]
"threads.get" = [404]
"""


def _server(tmp_path: Path, secret: str, auth_path: str | None) -> Iterator[Any]:
    pytest.importorskip("langgraph_api", reason="needs the lgbench[server] extra")
    from lgbench.server import EmbeddedServer

    with EmbeddedServer(
        log_path=tmp_path / "server.log", auth_secret=secret, auth_path=auth_path
    ) as server:
        yield server


def _run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, auth_path: str | None
) -> tuple[dict[str, Any], str, list[str]]:
    from lgbench.server import fixture_token

    secret = secrets.token_hex(16)
    tokens = [fixture_token(f"user-{n}", secret) for n in (1, 2, 3)]
    monkeypatch.setenv("LGBENCH_TEST_TOKENS", json.dumps(tokens))
    for server in _server(tmp_path, secret, auth_path):
        workload = tmp_path / "leak.toml"
        workload.write_text(_WORKLOAD.format(url=server.url))
        out = tmp_path / "run"
        done = lgbench("run", workload, "--out", out, "--no-live", timeout_s=300)
        check = json.loads((out / "check.json").read_text())
        texts = [done.stdout, done.stderr]
        texts += [p.read_text(errors="replace") for p in out.iterdir() if p.is_file()]
        return check, done.stdout + done.stderr, [t for t in texts if any(k in t for k in tokens)]
    raise AssertionError("the server did not start")


def test_a_search_handler_that_skips_its_owner_filter_is_an_isolation_breach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check, output, leaked_tokens = _run(tmp_path, monkeypatch, "tests.check._leaky_auth:auth")
    found = check["anomalies"].get("isolation_breach")
    assert found, output[-3000:]
    breaches = found["examples"]
    assert all(a["explanation"].split("'s ")[1].startswith("threads.search") for a in breaches)
    assert all(a["thread_id"] == "tenancy" for a in breaches)
    # Witnesses: the search that returned the thread, then the create that made it.
    assert [e["what"] for e in breaches[0]["events"]] == ["threads.search ok", "threads.create ok"]
    assert check["checkers"]["isolation"]["valid"] is False
    assert "isolation_breach" in output
    # The refused probes (threads.get as another user: 404) are no breach.
    assert not any("threads.get " in a["explanation"] for a in breaches)
    assert not leaked_tokens  # labels only: no file of the run, no output holds a token


def test_a_create_handler_that_stamps_the_wrong_owner_is_a_wrong_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check, output, leaked_tokens = _run(tmp_path, monkeypatch, "tests.check._leaky_auth:owner_auth")
    found = check["anomalies"].get("wrong_owner")
    assert found, output[-3000:]
    explanations = [a["explanation"] for a in found["examples"]]
    assert any("reported owned by 'user-1'" in e for e in explanations), explanations
    assert not leaked_tokens


def test_the_bundled_owner_only_handlers_give_no_breach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check, output, leaked_tokens = _run(tmp_path, monkeypatch, None)
    assert check["checkers"]["isolation"]["valid"] is True, output[-3000:]
    assert check["checkers"]["isolation"]["anomalies"] == 0
    assert not set(check["anomalies"]) & {"isolation_breach", "wrong_owner", "auth_inconsistent"}
    assert not leaked_tokens
