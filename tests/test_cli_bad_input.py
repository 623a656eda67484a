"""Bad input to every verb, as a user types it: a clear error naming the file (with line and
column for TOML) or the flag, a non-zero exit (2 for usage), never a traceback or a hang.

Each case is a row: the command (``{tmp}`` is the test's folder, where :func:`_inputs` puts
the files below), the exit code, and the words the message must hold. Nearly every row fails
before any traffic; the few that need a finished run use the embedded server.
"""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_cli_run import ROOT, lgbench, write

HISTORIES = ROOT / "tests" / "data" / "histories"
UNREACHABLE = "http://127.0.0.1:9"  # refused before anything connects, in every row below
LONG_NAME = "missing/" + "x" * 300  # pathlib's exists() raises on it, it does not say False

WORKLOAD = """
name = "bad-input"

[defaults]
seed = 1

[[scenario]]
name = "s"
executor = "shared-iterations"
vus = 1
iterations = 2
steps = [{ op = "threads.create" }]
"""


def _rotated(folder: Path) -> Path:
    """A real history cut into a rotated set: two gzip segments and the live file."""
    lines = (HISTORIES / "stream_clean.jsonl").read_text().splitlines()
    header, body = json.loads(lines[0]), lines[1:]
    folder.mkdir()
    for number, part in enumerate((body[:8], body[8:16], body[16:]), start=1):
        text = "\n".join([json.dumps({**header, "segment": number}), *part]) + "\n"
        if number < 3:
            (folder / f"history-{number:04d}.jsonl.gz").write_bytes(gzip.compress(text.encode()))
        else:
            (folder / "history.jsonl").write_text(text)
    return folder


def _inputs(tmp: Path) -> None:
    """Every file the rows name, good and bad."""
    write(tmp / "w.toml", WORKLOAD)
    (tmp / "binary.toml").write_bytes(b"\x00\x01\xff\xfe\x00")
    (tmp / "empty.toml").write_bytes(b"")
    (tmp / "bad-utf8.toml").write_bytes(b'name = "\xff\xfe"\n')
    write(tmp / "huge.toml", 'name = "' + "a" * 200_000 + '"\n')
    write(tmp / "syntax.toml", 'name = "x"\n[[scenario]\n')
    (tmp / "folder").mkdir()
    write(tmp / "afile", "not a folder\n")
    for name, text in BAD_WORKLOADS.items():
        write(tmp / name, WORKLOAD + text)
    # report
    (tmp / "empty-run").mkdir()
    (tmp / "truncated-run").mkdir()
    head = (HISTORIES / "stream_clean.jsonl").read_bytes()[:40]  # not even the header whole
    (tmp / "truncated-run" / "history.jsonl").write_bytes(head)
    damaged = tmp / "damaged-run"
    damaged.mkdir()
    (damaged / "history.jsonl").write_bytes((HISTORIES / "stream_clean.jsonl").read_bytes())
    write(damaged / "summary.json", '{"schema_version": 1, "operations": {')
    write(damaged / "intervals.hlog", "garbage\nTag=x,0.1,1.0,1.0,!!!!\n")
    (damaged / "timeseries.jsonl").write_bytes(b'{"t": 1\n[1, 2]\n\xff\n')
    # compare
    write(tmp / "summary.json", json.dumps({"schema_version": 1, "operations": {}}))
    write(tmp / "other.json", json.dumps({"results": [1, 2]}))
    write(tmp / "v2.json", json.dumps({"schema_version": 2, "operations": {}}))
    (tmp / "run").mkdir()
    write(tmp / "run" / "summary.json", json.dumps({"schema_version": 1, "operations": {}}))
    # check
    write(tmp / "fake.jsonl.gz", "this is not gzip\n")
    _rotated(tmp / "rotated")
    gap = _rotated(tmp / "gap")
    (gap / "history-0002.jsonl.gz").unlink()
    damaged_set = _rotated(tmp / "damaged-set")
    write(damaged_set / "history-0002.jsonl.gz", "garbage, not gzip\n")


BAD_WORKLOADS = {
    "fault-kind.toml": '\n[[fault]]\nkind = 3\nat = "1s"\n',
    "fault-key.toml": '\n[[fault]]\nkind = "latency"\nat = "1s"\nlatency = "5ms"\nbogus = 1\n',
    "fault-values.toml": '\n[[fault]]\nkind = "throttle"\nat = -1\nbytes_per_s = nan\n',
    "fault-table.toml": '\n[fault]\nkind = "latency"\n',
    "fault-overlap.toml": (
        '\n[[fault]]\nkind = "pause"\nat = "1s"\nfor = "10s"\n'
        '\n[[fault]]\nkind = "restart"\nat = "2s"\n'
    ),
    "thresholds-type.toml": '\n[thresholds]\n"threads.create.latency.p99" = 5\n',
    "thresholds-metric.toml": '\n[thresholds]\n"nope.latency.p99" = "< 1s"\n',
    "thresholds-keys.toml": (
        '\n[thresholds]\n"errors.rate" = { condition = "< 1%", abort_on_fail = "yes", x = 1 }\n'
    ),
    "https-faults.toml": (
        '\n[target]\nurl = "https://127.0.0.1:9"\ntransport = "httpx"\n'
        '\n[[fault]]\nkind = "latency"\nat = "0s"\nlatency = "10ms"\n'
    ),
    "https-fast.toml": '\n[target]\nurl = "https://127.0.0.1:9"\n',
    "users.toml": (
        '\n[target]\nurl = "http://127.0.0.1:9"\n'
        '\n[target.auth]\ntokens_env = "LGBENCH_TEST_TOKENS"\n'
        '\n[[scenario]]\nname = "a"\nexecutor = "constant-vus"\nvus = 2\nduration = "2s"\n'
        'steps = [{ op = "threads.create" }]\n'
    ),
    "split.toml": (
        '\n[[scenario]]\nname = "a"\nexecutor = "constant-arrival-rate"\nrate = 5\n'
        'duration = "2s"\npre_allocated_vus = 1\nmax_vus = 1\nsteps = [{ op = "threads.create" }]\n'
    ),
}

RUN = ("run", "{tmp}/w.toml", "--target", UNREACHABLE, "--out", "{tmp}/out")

CASES = [
    # -- files ------------------------------------------------------------------------------
    pytest.param(("validate", "{tmp}/nope.toml"), 2, ["nope.toml"], id="missing-file"),
    pytest.param(("validate", "{tmp}/folder"), 2, ["folder", "directory"], id="a-directory"),
    pytest.param(("validate", "{tmp}/binary.toml"), 2, ["binary.toml:1:3", "UTF-8"], id="binary"),
    pytest.param(("validate", "{tmp}/empty.toml"), 2, ["empty.toml:1:1"], id="empty-file"),
    pytest.param(("validate", "{tmp}/bad-utf8.toml"), 2, ["bad-utf8.toml:1:9"], id="bad-utf8"),
    pytest.param(("validate", "{tmp}/huge.toml"), 2, ["huge.toml:1:"], id="huge-line"),
    pytest.param(("validate", "{tmp}/syntax.toml"), 2, ["syntax.toml:2:"], id="toml-syntax"),
    pytest.param(("run", "{tmp}/folder"), 2, ["folder"], id="run-a-directory"),
    pytest.param(("validate", ""), 2, ["FILE.toml", "empty path"], id="empty-path"),
    *(
        pytest.param((*argv, LONG_NAME), 2, [flag, "too long"], id=f"name-too-long-{argv[0]}")
        for argv, flag in [
            (("validate",), "FILE.toml"),
            (("report",), "RUN_DIR"),
            (("check",), "HISTORY"),
            (("compare", "{tmp}/summary.json"), "NEW"),
            (("serve", "--log"), "--log"),
            ((*RUN[:-2], "--out"), "--out"),
        ]
    ),
    # -- override flags ---------------------------------------------------------------------
    pytest.param(
        ("validate", "{tmp}/w.toml", "--duration", "-1s"),
        2,
        ["--duration", "--duration=-1s"],
        id="duration-dash",
    ),
    pytest.param(
        ("validate", "{tmp}/w.toml", "--duration=-1s"),
        2,
        ["--duration", "negative"],
        id="duration-negative",
    ),
    pytest.param(("validate", "{tmp}/w.toml", "--duration", "10x"), 2, ["--duration"], id="10x"),
    pytest.param(("validate", "{tmp}/w.toml", "--vus", "0"), 2, ["--vus"], id="vus-0"),
    pytest.param(("validate", "{tmp}/w.toml", "--vus", "x"), 2, ["--vus"], id="vus-x"),
    pytest.param(("validate", "{tmp}/w.toml", "--rate", "nan"), 2, ["--rate"], id="rate-nan"),
    pytest.param(("validate", "{tmp}/w.toml", "--rate", "inf"), 2, ["--rate"], id="rate-inf"),
    pytest.param(
        ("validate", "{tmp}/w.toml", "--iterations", "0"), 2, ["--iterations"], id="iterations-0"
    ),
    pytest.param(
        ("validate", "{tmp}/w.toml", "--graceful-stop", "nan"),
        2,
        ["--graceful-stop"],
        id="graceful-stop-nan",
    ),
    # -- run's own flags, refused before anything connects ----------------------------------
    pytest.param(
        (*RUN, "--checkpoint-every", "x"), 2, ["--checkpoint-every"], id="checkpoint-every-x"
    ),
    pytest.param((*RUN, "--max-regression", "abc"), 2, ["--max-regression"], id="max-regr-abc"),
    pytest.param((*RUN, "--max-regression=-5%"), 2, ["--max-regression"], id="max-regr-neg"),
    pytest.param(
        (*RUN, "--min-difference=-3ms"), 2, ["--min-difference", "negative"], id="min-diff-neg"
    ),
    pytest.param((*RUN, "--threshold", "garbage"), 2, ["--threshold", "garbage"], id="thr-junk"),
    pytest.param(
        (*RUN, "--threshold", "nope.latency.p99<1s"),
        2,
        ["--threshold", "unknown metric"],
        id="thr-unknown-metric",
    ),
    pytest.param(
        (*RUN, "--threshold", "ünïcödé<1"), 2, ["--threshold", "ünïcödé"], id="thr-unicode"
    ),
    pytest.param(
        (*RUN, "--threshold", "threads.create.latency.p99<1ş"),
        2,
        ["--threshold", "1ş"],
        id="thr-unicode-unit",
    ),
    pytest.param((*RUN, "--backend", "nope"), 2, ["--backend"], id="backend"),
    pytest.param((*RUN, "--transport", "nope"), 2, ["--transport"], id="transport"),
    # -- output paths -----------------------------------------------------------------------
    pytest.param((*RUN[:-1], "{tmp}/afile"), 2, ["--out", "afile", "not a folder"], id="out-file"),
    pytest.param((*RUN[:-1], "{tmp}/afile/run"), 2, ["--out", "afile"], id="out-under-a-file"),
    pytest.param(
        (*RUN[:-1], "/proc/lgbench-nope/run"), 2, ["/proc/lgbench-nope/run"], id="out-unwritable"
    ),
    pytest.param((*RUN[:-1], ""), 2, ["--out", "empty path"], id="out-empty"),
    pytest.param((*RUN, "--json", "{tmp}/folder"), 2, ["--json", "folder"], id="json-a-folder"),
    pytest.param((*RUN, "--json", "{tmp}/afile/s.json"), 2, ["--json", "afile"], id="json-under"),
    pytest.param((*RUN, "--junit", ""), 2, ["--junit", "empty path"], id="junit-empty"),
    # -- --target ---------------------------------------------------------------------------
    *(
        pytest.param(
            ("run", "{tmp}/w.toml", "--target", url, "--out", "{tmp}/out"),
            2,
            ["--target", why],
            id=f"target-{name}",
        )
        for name, url, why in [
            ("no-scheme", "notaurl", "http"),
            ("no-host", "http://", "host"),
            ("port-range", "http://127.0.0.1:99999", "Port"),
            ("port-text", "http://127.0.0.1:abc", "Port"),
            ("ipv6", "http://[::1", "IPv6"),
            ("credentials", "http://u:p@127.0.0.1:9", "credentials"),
            ("query", "http://127.0.0.1:9/?x=1", "query"),
            ("empty", "", "http"),
            ("https-fast", "https://127.0.0.1:9", "--transport httpx"),
        ]
    ),
    # -- [[fault]] and [thresholds] tables --------------------------------------------------
    pytest.param(("validate", "{tmp}/fault-kind.toml"), 2, ["fault-kind.toml:15:8"], id="f-kind"),
    pytest.param(
        ("validate", "{tmp}/fault-key.toml"), 2, ["fault-key.toml:18:1", "bogus"], id="f-key"
    ),
    pytest.param(
        ("validate", "{tmp}/fault-values.toml"),
        2,
        ["fault-values.toml:16:6", "fault-values.toml:17:15", "bytes_per_s"],
        id="f-values",
    ),
    pytest.param(
        ("validate", "{tmp}/fault-table.toml"),
        2,
        ["fault-table.toml:14:1", "[[fault]]"],
        id="f-not-an-array",
    ),
    pytest.param(
        ("validate", "{tmp}/fault-overlap.toml"),
        2,
        ["fault-overlap.toml:", "overlap"],
        id="f-server-overlap",
    ),
    pytest.param(
        ("validate", "{tmp}/thresholds-type.toml"),
        2,
        ["thresholds-type.toml:15:32"],
        id="t-type",
    ),
    pytest.param(
        ("validate", "{tmp}/thresholds-metric.toml"),
        2,
        ["thresholds-metric.toml:15:1", "nope"],
        id="t-metric",
    ),
    pytest.param(
        ("validate", "{tmp}/thresholds-keys.toml"),
        2,
        ["thresholds-keys.toml:15:", "abort_on_fail", 'unknown key "x"'],
        id="t-keys",
    ),
    pytest.param(
        ("run", "{tmp}/https-faults.toml", "--out", "{tmp}/out"),
        2,
        ["plain http://"],
        id="https-with-network-faults",
    ),
    pytest.param(
        ("run", "{tmp}/https-fast.toml", "--out", "{tmp}/out"),
        2,
        ["https-fast.toml", "--transport httpx"],
        id="https-file-fast-transport",
    ),
    # -- serve (refused before the server starts) -------------------------------------------
    pytest.param(("serve", "--port", "-1"), 2, ["--port"], id="serve-port-negative"),
    pytest.param(("serve", "--port", "x"), 2, ["--port"], id="serve-port-text"),
    pytest.param(("serve", "--n-jobs-per-worker", "0"), 2, ["--n-jobs-per-worker"], id="jobs-0"),
    pytest.param(("serve", "--log", "{tmp}/folder"), 2, ["--log", "folder"], id="serve-log-dir"),
    pytest.param(("serve", "--log", "{tmp}/afile/x.log"), 2, ["--log"], id="serve-log-under"),
    # -- report -----------------------------------------------------------------------------
    pytest.param(("report", "{tmp}/empty-run"), 2, ["empty-run"], id="report-empty-folder"),
    pytest.param(("report", "{tmp}/nope"), 2, ["nope"], id="report-missing"),
    pytest.param(("report", "{tmp}/w.toml"), 2, ["w.toml", "a file"], id="report-a-file"),
    pytest.param(
        ("report", "{tmp}/truncated-run"), 2, ["truncated-run"], id="report-truncated-history"
    ),
    # -- compare ----------------------------------------------------------------------------
    pytest.param(
        ("compare", "{tmp}/summary.json", "{tmp}/other.json"),
        2,
        ["other.json", "summary"],
        id="compare-not-a-summary",
    ),
    pytest.param(
        ("compare", "{tmp}/summary.json", "{tmp}/v2.json"),
        2,
        ["v2.json", "schema_version 2"],
        id="compare-schema",
    ),
    pytest.param(
        ("compare", "{tmp}/summary.json", "{tmp}/summary.json"),
        2,
        ["same file"],
        id="compare-same-file",
    ),
    pytest.param(("compare", "{tmp}/summary.json"), 2, ["BASE... NEW"], id="compare-one-argument"),
    pytest.param(
        ("compare", "{tmp}/summary.json", "{tmp}/run", "--confidence", "100%"),
        2,
        ["--confidence", "below 100%"],
        id="compare-confidence",
    ),
    pytest.param(
        ("compare", "{tmp}/empty-run", "{tmp}/run"),
        2,
        ["empty-run", "folder of run folders"],
        id="compare-base-folder-without-runs",
    ),
    pytest.param(
        ("trend", "{tmp}/summary.json", "{tmp}/run"),
        2,
        ["at least 6 runs"],
        id="trend-too-few-runs",
    ),
    pytest.param(
        ("trend", "{tmp}/run", "--max-regression", "10"),
        2,
        ["--max-regression", "percent sign"],
        id="trend-max-regression",
    ),
    pytest.param(
        ("compare", "{tmp}/run", "{tmp}/run/summary.json"),
        2,
        ["same file"],
        id="compare-folder-and-its-summary",
    ),
    pytest.param(
        ("compare", "{tmp}/summary.json", "{tmp}/w.toml"),
        2,
        ["w.toml", "not JSON"],
        id="compare-not-json",
    ),
    pytest.param(
        ("compare", "{tmp}/summary.json", "{tmp}/binary.toml"),
        2,
        ["binary.toml"],
        id="compare-binary",
    ),
    pytest.param(
        ("compare", "{tmp}/summary.json", "{tmp}/empty-run"),
        2,
        ["empty-run"],
        id="compare-folder-without-summary",
    ),
    pytest.param(
        ("compare", "{tmp}/summary.json", "{tmp}/summary.json", "--max-regression", "5"),
        2,
        ["--max-regression"],
        id="compare-bare-number",
    ),
    # -- check ------------------------------------------------------------------------------
    pytest.param(("check", "{tmp}/empty-run"), 2, ["empty-run"], id="check-no-history"),
    pytest.param(("check", "{tmp}/w.toml"), 2, ["w.toml", "not an lgbench history"], id="chk-toml"),
    pytest.param(
        ("check", "{tmp}/binary.toml"),
        2,
        ["binary.toml", "not an lgbench history"],
        id="check-binary",
    ),
    pytest.param(
        ("check", "{tmp}/fake.jsonl.gz"),
        2,
        ["fake.jsonl.gz", "compressed stream is damaged"],
        id="check-gz-not-gzip",
    ),
    pytest.param(
        ("check", "{tmp}/gap"), 2, ["history-0002.jsonl.gz", "missing"], id="check-rotated-gap"
    ),
    pytest.param(
        ("check", "{tmp}/rotated", "--out", "{tmp}/folder"),
        2,
        ["--out", "folder"],
        id="check-out-a-folder",
    ),
    pytest.param(
        ("check", "{tmp}/rotated", "--out", "{tmp}/afile/c.json"),
        2,
        ["--out", "afile"],
        id="check-out-under-a-file",
    ),
    pytest.param(
        ("check", "{tmp}/rotated", "--stuck-after", "-1"),
        2,
        ["--stuck-after"],
        id="check-stuck-after",
    ),
    pytest.param(("check", "{tmp}/rotated", "--profile", "x"), 2, ["--profile"], id="chk-profile"),
    # -- scale-out ------------------------------------------------------------------------
    pytest.param((*RUN, "--workers", "0"), 2, ["--workers", "at least 1"], id="workers-0"),
    pytest.param((*RUN, "--workers", "many"), 2, ["--workers", "'many'"], id="workers-word"),
    pytest.param((*RUN, "--ray", " "), 2, ["--ray", "not a Ray address"], id="ray-blank"),
    pytest.param(
        (*RUN, "--require-all-workers"), 2, ["--require-all-workers", "--workers 2"], id="req-all"
    ),
    pytest.param(
        ("run", "{tmp}/split.toml", "--target", UNREACHABLE, "--workers", "2"),
        2,
        ["max_vus (1) is fewer than the 2 workers", "worker 2/2"],
        id="workers-split-too-thin",
    ),
    pytest.param(
        ("run", "{tmp}/users.toml", "--target", UNREACHABLE, "--ray", "local"),
        2,
        ["--ray", "[target.auth]", "--workers N", "never cross the network"],
        id="ray-with-users",
    ),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("bad-input")
    _inputs(tmp)
    return tmp


@pytest.mark.parametrize(("argv", "code", "words"), CASES)
def test_bad_input_exits_with_a_clear_message(
    inputs: Path, argv: tuple[str, ...], code: int, words: list[str]
) -> None:
    done = lgbench(*(arg.replace("{tmp}", str(inputs)) for arg in argv), timeout_s=30)
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ")
    message = done.stderr.replace("\n", "")  # rich wraps long lines at the terminal width
    for word in words:
        assert word in message
    assert not (inputs / "out").exists()  # nothing ran


@pytest.mark.parametrize(
    ("folder", "words"),
    [
        pytest.param(
            "damaged-run",
            ["summary.json: unreadable", "intervals.hlog: 2 damaged line(s)", "timeseries.jsonl"],
            id="report-corrupt-summary-hlog-timeseries",
        ),
    ],
)
def test_report_builds_from_what_is_whole_and_lists_what_it_skipped(
    inputs: Path, folder: str, words: list[str]
) -> None:
    done = lgbench("report", inputs / folder, timeout_s=60)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    page = (inputs / folder / "report.html").read_text()
    for word in words:
        assert word in page


def test_check_reads_around_a_damaged_segment_and_warns_naming_it(inputs: Path) -> None:
    done = lgbench("check", inputs / "damaged-set")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "warning:" in done.stderr
    assert "history-0002.jsonl.gz: the compressed stream is damaged" in done.stderr.replace(
        "\n", ""
    )
    # Lines were lost after the damage: the verdict cannot be "valid".
    assert "verdict (observed profile): unknown" in done.stdout


@pytest.mark.server
def test_json_into_the_run_folder_is_no_error_and_an_unwritable_one_keeps_the_run(
    langgraph_url: str, tmp_path: Path
) -> None:
    workload = write(tmp_path / "w.toml", WORKLOAD)
    out = tmp_path / "out"
    same = lgbench(
        "run", workload, "--target", langgraph_url, "--out", out, "--quiet", "--no-report",
        "--json", out / "summary.json",
    )  # fmt: skip
    assert same.returncode == 0, same.stderr
    assert json.loads((out / "summary.json").read_text())["schema_version"] == 1

    kept = tmp_path / "kept"
    unwritable = lgbench(
        "run", workload, "--target", langgraph_url, "--out", kept, "--quiet", "--no-report",
        "--junit", "/proc/lgbench-nope/junit.xml",
    )  # fmt: skip
    assert unwritable.returncode == 2
    assert "--junit /proc/lgbench-nope/junit.xml" in unwritable.stderr.replace("\n", "")
    assert "Traceback" not in unwritable.stderr
    assert (kept / "summary.json").is_file() and (kept / "junit.xml").is_file()


@pytest.mark.server
def test_an_interrupted_run_still_copies_its_json_and_junit(
    langgraph_url: str, tmp_path: Path
) -> None:
    workload = write(
        tmp_path / "w.toml",
        WORKLOAD.replace('executor = "shared-iterations"', 'executor = "constant-vus"')
        .replace("iterations = 2", 'duration = "30s"')
        .replace('op = "threads.create" }]', 'op = "threads.create" }, { sleep = "50ms" }]'),
    )
    out, ci = tmp_path / "out", tmp_path / "ci"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lgbench.cli",
            "run",
            str(workload),
            "--target",
            langgraph_url,
            "--out",
            str(out),
            "--no-live",
            "--no-report",
            "--json",
            str(ci / "summary.json"),
            "--junit",
            str(ci / "junit.xml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (out / "history.jsonl").exists() or (out / "history.jsonl").stat().st_size < 2000:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + signal.SIGINT, stderr
    assert "Traceback" not in stderr
    summary = json.loads((ci / "summary.json").read_text())
    assert summary["partial"] is True
    assert (ci / "junit.xml").read_text().startswith("<?xml")
