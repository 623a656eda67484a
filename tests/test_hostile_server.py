"""lgbench's own security, end to end with the real CLI and the real embedded server.

- A secret canary: runs with a known fake API key (from the environment) and a known fake
  bearer token (a header the server ignores), one with the live view and one without, one
  through a proxy that echoes both credentials back inside error answers. Neither value may
  appear in any file of the run folders (history and its gzip segments, summary, check.json,
  junit, report.html, hlog, timeseries, server log), in the ``--json``/``--junit`` copies,
  in what lgbench printed, or in the messages about bad input that holds them.
- A JSON bomb (the proxy answers every state read with 100,000 nested arrays) is an error
  of that operation, recorded as such, and the run goes on.
- A hostile server (the proxy again): its error messages and its ``/info`` version carry
  ``<script>``, an ``onerror`` handler, a ``javascript:`` link, rich markup, ANSI and
  OSC 8 escapes and a bidi override. The terminal gets them as visible escapes, never as
  control sequences; report.html, in headless Chromium, shows them as text and runs none
  of them (no global set, no dialog, no such element in the page).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests._rewriting_proxy import rewriting_proxy

pytestmark = pytest.mark.server

API_KEY = "key-CANARY-51d0e2-apikey"
TOKEN = "tok-CANARY-7f3a9c-bearer"
CANARIES = (API_KEY, TOKEN, "CANARY")
KEY_ENV = "LGBENCH_TEST_CANARY_KEY"
MISSING_THREAD = "00000000-0000-0000-0000-000000000000"

#: What a hostile server answers with: each piece would act if rendered raw. Early pieces
#: survive the 80-character cut of terminal warnings.
HOSTILE = (
    "\x1b[2J\u202e<script>window.__pwned=1</script>"
    "\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07"
    '<img src=x onerror="window.__pwned=2">'
    '<a href="javascript:window.__pwned=3">j</a>'
    "[link=javascript:alert(3)]m[/link]"
)
HOSTILE_VERSION = "9.9<script>window.__pwned=4</script>\x1b[38;5;201m"

WORKLOAD = f"""
name = "canary"
[target]
url = "embedded"
api_key_env = "{KEY_ENV}"
headers = {{ authorization = "Bearer {TOKEN}", "x-tenant" = "plain-tenant" }}
[defaults]
seed = 1
graceful_stop = "5s"
[[scenario]]
name = "mix"
executor = "constant-vus"
vus = 2
on_error = "continue"
duration = "3s"
steps = [
  {{ op = "threads.create", save = "thread" }},
  {{ op = "runs.stream", thread = "$thread", assistant = "streamer",
     input = {{ n = 3, gap_s = 0.01 }}, stream_mode = ["values"] }},
  {{ op = "threads.get", thread = "{MISSING_THREAD}" }},
  {{ op = "threads.get_state", thread = "$thread" }},
]
"""
BOMB_LEVELS = 100_000


@dataclass
class Run:
    folder: Path
    copies: list[Path]
    stdout: str
    stderr: str
    returncode: int


def _hostile(method: str, path: str, body: bytes) -> bytes:
    if path.startswith("/info"):
        info: dict[str, Any] = json.loads(body)
        info["version"] = HOSTILE_VERSION
        return json.dumps(info).encode()
    if method == "GET" and urlsplit(path).path.endswith("/state"):
        return b"[" * BOMB_LEVELS + b"]" * BOMB_LEVELS  # a JSON bomb
    if MISSING_THREAD in path:
        # A server that echoes the credentials it got back in its error message.
        detail = f"bad credentials {API_KEY} / Bearer {TOKEN} {HOSTILE}"
        return json.dumps({"detail": detail}).encode()
    return body


def _lgbench(
    *args: str, env: dict[str, str] | None = None, timeout_s: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lgbench.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        timeout=timeout_s,
        env={**os.environ, "COLUMNS": "160", **(env or {})},
        check=False,
    )


def _run(tmp: Path, name: str, *extra: str, live: bool) -> Run:
    workload = tmp / "canary.toml"
    workload.write_text(WORKLOAD, encoding="utf-8")
    folder = tmp / name
    copies = [tmp / f"{name}-summary.json", tmp / f"{name}-junit.xml"]
    env = {KEY_ENV: API_KEY, **({"FORCE_COLOR": "1"} if live else {})}
    done = _lgbench(
        "run",
        str(workload),
        "--out",
        str(folder),
        "--json",
        str(copies[0]),
        "--junit",
        str(copies[1]),
        *(() if live else ("--no-live",)),
        *extra,
        env=env,
    )
    return Run(folder, copies, done.stdout, done.stderr, done.returncode)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, langgraph_url: str) -> dict[str, Run]:
    tmp = tmp_path_factory.mktemp("canary")
    # Checkpoints every second: the partial summaries written mid-run are outputs too.
    embedded = _run(tmp, "embedded-live", "--checkpoint-every", "1s", live=True)
    with rewriting_proxy(langgraph_url, _hostile, rewrite_errors=True) as url:
        hostile = _run(tmp, "hostile-plain", "--target", url, live=False)
        hostile_live = _run(tmp, "hostile-live", "--target", url, live=True)
    return {"embedded": embedded, "hostile": hostile, "hostile-live": hostile_live}


def _texts(run: Run) -> Iterator[tuple[str, str]]:
    """Every output of ``run`` as text: each file of its folder (gzip segments
    decompressed), the copies, and what it printed."""
    files = [p for p in run.folder.rglob("*") if p.is_file()]
    for path in [*files, *run.copies]:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        yield str(path), data.decode("utf-8", "replace")
    yield "stdout", run.stdout
    yield "stderr", run.stderr


def test_the_runs_happened(runs: dict[str, Run]) -> None:
    for run in runs.values():
        # threads.get never succeeds (exit 4, never_succeeded): the run itself completed.
        assert run.returncode in (0, 4), run.stderr
        assert (run.folder / "summary.json").exists()
        assert (run.folder / "report.html").exists()
    names = {p.name for p in runs["embedded"].folder.iterdir()}
    assert {"history.jsonl", "summary.json", "check.json", "junit.xml", "server.log"} <= names
    assert {"intervals.hlog", "timeseries.jsonl", "report.html"} <= names
    # The live view was on where asked: rich redraws it with cursor movements.
    assert "\x1b[2K" in runs["embedded"].stdout
    assert "\x1b[2K" not in runs["hostile"].stdout


@pytest.mark.parametrize("name", ["embedded", "hostile", "hostile-live"])
def test_the_canary_appears_nowhere(runs: dict[str, Run], name: str) -> None:
    checked = 0
    for where, text in _texts(runs[name]):
        checked += 1
        for canary in CANARIES:
            assert canary not in text, f"{canary!r} leaked into {where}"
    assert checked >= 10


def test_echoed_credentials_are_recorded_redacted(runs: dict[str, Run]) -> None:
    summary = json.loads((runs["hostile"].folder / "summary.json").read_text())
    messages = [e["message"] for e in summary["operations"]["threads.get"]["top_errors"]]
    assert messages
    assert all("[redacted]" in message for message in messages)


def test_a_json_bomb_is_an_error_of_its_operation(runs: dict[str, Run]) -> None:
    run = runs["hostile"]
    summary = json.loads((run.folder / "summary.json").read_text())
    state = summary["operations"]["threads.get_state"]
    assert state["count"] > 0
    assert state["errors"] == state["count"]
    assert {e["kind"] for e in state["top_errors"]} == {"transport"}
    assert all("nested deeper than 128 levels" in e["message"] for e in state["top_errors"])
    failed = [
        json.loads(line)
        for line in (run.folder / "history.jsonl").read_text().splitlines()
        if '"threads.get_state"' in line and '"fail"' in line
    ]
    assert failed
    assert {line["error"]["class"] for line in failed} == {"ResponseLimitError"}
    # Everything else went on: the streams still succeeded.
    assert summary["operations"]["runs.stream"]["ok"] > 0


@pytest.mark.parametrize(
    ("toml", "flags"),
    [
        pytest.param(f'headers = {{ authorization = "Bearer {TOKEN}\\nX" }}', (), id="line-break"),
        pytest.param(f'headers = {{ "bad header" = "{TOKEN}" }}', (), id="bad-header-name"),
        pytest.param(f'headers = {{ "x-api-key" = "{API_KEY}" }}', (), id="key-in-header"),
        pytest.param(f'api_key_env = "{API_KEY}"', (), id="key-as-env-name"),
        pytest.param(f'api_key_env = "lsv2_pt_{API_KEY}"', (), id="lsv2-key-as-env-name"),
        pytest.param(f'url = "http://user:{API_KEY}@127.0.0.1:9"', (), id="url-credentials"),
        pytest.param(f'url = "http://127.0.0.1:9/?key={API_KEY}"', (), id="url-query"),
        pytest.param(f'url = "ftp://user:{API_KEY}@h"', (), id="unusable-url"),
        pytest.param("", ("--target", f"http://u:{API_KEY}@127.0.0.1:9"), id="target-credentials"),
        pytest.param("", ("--target", f"http://127.0.0.1:9/#{TOKEN}"), id="target-fragment"),
    ],
)
def test_bad_input_never_quotes_a_credential(
    tmp_path: Path, toml: str, flags: tuple[str, ...]
) -> None:
    workload = tmp_path / "bad.toml"
    workload.write_text(
        f'name = "bad"\n[target]\n{toml}\n[[scenario]]\nname = "a"\nexecutor = "constant-vus"\n'
        'vus = 1\nduration = "1s"\nsteps = [{ op = "threads.create" }]\n',
        encoding="utf-8",
    )
    for verb in ("validate", "run"):
        done = _lgbench(verb, str(workload), *flags, "--out", str(tmp_path / "out"), timeout_s=60)
        if verb == "validate" and flags:
            continue  # validate takes no --target
        assert done.returncode == 2, (verb, done.stdout, done.stderr)
        assert "error" in done.stderr
        for canary in CANARIES:
            assert canary not in done.stdout + done.stderr, (verb, done.stderr)


@pytest.mark.parametrize("name", ["hostile", "hostile-live"])
def test_the_terminal_gets_escapes_not_control_sequences(runs: dict[str, Run], name: str) -> None:
    printed = runs[name].stdout + runs[name].stderr
    # The message was shown...
    assert "\\x1b[2J" in printed
    assert "\\u202e" in printed
    # ...but none of it acted: no screen clear, no hyperlink, no bidi override, no colour
    # from the server (a 256-colour code lgbench's own styles never use).
    assert "\x1b[2J" not in printed
    assert "\x1b]8" not in printed
    assert "\u202e" not in printed
    assert "javascript:alert(3)" not in printed.replace("[link=javascript:alert(3)]", "")
    assert "\x1b[38;5;201m" not in printed
    assert "\\x1b[38;5;201m" in printed  # the version, shown escaped


@pytest.mark.chromium
def test_the_report_shows_server_text_and_runs_none_of_it(
    runs: dict[str, Run], tmp_path: Path
) -> None:
    from tests.report._chromium import open_chromium

    report = runs["hostile"].folder / "report.html"
    source = report.read_text(encoding="utf-8")
    assert "<script>window.__pwned" not in source
    with open_chromium(tmp_path / "profile") as page:
        page.send("Page.enable")
        load = page.load(report)
        assert load.plots_state == "ready", load
        assert not load.problems, load.problems
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert not [e for e in page.events if e["method"] == "Page.javascriptDialogOpening"]
        found = page.evaluate(
            """({
                 injected: document.querySelectorAll(
                   'img[onerror], [onerror], a[href^="javascript:"], [href^="javascript:"]'
                 ).length,
                 text: document.body.textContent
               })"""
        )
        assert found["injected"] == 0
        # Shown as text, where the report shows errors and the server's version.
        assert "<script>window.__pwned=1</script>" in found["text"]
        assert "window.__pwned=4" in found["text"]


@pytest.mark.parametrize(
    ("source", "content"),
    [
        pytest.param("env", f'["{TOKEN}"', id="env-not-json"),
        pytest.param("env", f'{{"user": "{TOKEN}"}}', id="env-not-a-list"),
        pytest.param("env", f'["{TOKEN}", 7]', id="env-not-strings"),
        pytest.param("file", "", id="file-not-utf8"),
        pytest.param("folder", "", id="file-is-a-folder"),
    ],
)
def test_a_bad_token_source_never_quotes_a_token(tmp_path: Path, source: str, content: str) -> None:
    """Users' tokens ([target.auth]) that cannot be used are refused by where they come from,
    never by what they hold."""
    env_name = "LGBENCH_TEST_USER_TOKENS"
    tokens = tmp_path / "tokens.txt"
    if source == "file":
        tokens.write_bytes(TOKEN.encode() + b"\n\xff\n")
    elif source == "folder":
        tokens.mkdir()
    where = f'tokens_env = "{env_name}"' if source == "env" else f'tokens_file = "{tokens}"'
    workload = tmp_path / "users.toml"
    workload.write_text(
        'name = "users"\n[target]\nurl = "http://127.0.0.1:9"\n'
        f"[target.auth]\n{where}\n"
        '[[scenario]]\nname = "a"\nexecutor = "constant-vus"\nvus = 1\nduration = "1s"\n'
        'steps = [{ op = "threads.create" }]\n',
        encoding="utf-8",
    )
    env = {env_name: content} if source == "env" else {}
    done = _lgbench("run", str(workload), "--out", str(tmp_path / "out"), timeout_s=60, env=env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "[target.auth]" in done.stderr or "tokens" in done.stderr
    for canary in CANARIES:
        assert canary not in done.stdout + done.stderr, done.stderr
