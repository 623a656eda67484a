"""dump_workload: parse → dump → parse is the identity."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings

from lgbench.workload import Workload, dump_workload, load_workload, parse_workload
from tests.workload._strategies import workloads

ROOT = Path(__file__).parent.parent.parent
FILES = sorted(
    [*(ROOT / "workloads").glob("*.toml"), *(ROOT / "tests/data/workloads/good").glob("*.toml")]
)


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_files_round_trip(path: Path) -> None:
    workload = load_workload(path)
    text = dump_workload(workload)
    again = parse_workload(text, workload.path)
    assert again == workload
    assert dump_workload(again) == text


@settings(max_examples=150)
@given(workloads())
def test_generated_workloads_round_trip(workload: Workload) -> None:
    text = dump_workload(workload)
    again = parse_workload(text, workload.path)
    assert again == workload
    assert dump_workload(again) == text


def test_dump_is_readable() -> None:
    text = dump_workload(load_workload(ROOT / "tests/data/workloads/good/minimal.toml"))
    assert text == (
        'name = "minimal"\n'
        "\n"
        "[target]\n"
        'url = "embedded"\n'
        "\n"
        "[defaults]\n"
        'think_time = "0s"\n'
        'graceful_stop = "30s"\n'
        "\n"
        "[[scenario]]\n"
        'name = "chat"\n'
        'executor = "constant-vus"\n'
        "vus = 1\n"
        'duration = "1s"\n'
        "steps = [\n"
        '  { op = "threads.create" },\n'
        "]\n"
    )


def test_dump_escapes_strings() -> None:
    text = 'x"\\\n\t\x01\x7f é'
    workload = parse_workload(
        "[defaults]\n"
        f"tags = {{ note = {_basic(text)} }}\n"
        "[[scenario]]\n"
        'name = "a"\nexecutor = "constant-vus"\nvus = 1\nduration = 1\n'
        'steps = [{ op = "threads.create" }]\n'
    )
    assert workload.defaults.tags["note"] == text
    assert parse_workload(dump_workload(workload)) == workload


def _basic(text: str) -> str:
    import json

    return json.dumps(text).replace("\\u007f", "\\u007F")
