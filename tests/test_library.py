"""docs/library.md's examples run as written: the library surface a program uses."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import pytest

import lgbench

DOC = Path(__file__).resolve().parents[1] / "docs" / "library.md"
ROOT = DOC.parents[1]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def example(marker: str) -> str:
    (block,) = [block for block in python_blocks() if marker in block]
    return block


@pytest.mark.smoke
@pytest.mark.anyio
async def test_the_run_example_runs_against_the_embedded_server(
    langgraph_url: str, tmp_path: Path
) -> None:
    namespace: dict[str, Any] = {"__name__": "library_example"}
    exec(compile(example("async def main"), str(DOC), "exec"), namespace)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = await namespace["main"](target=langgraph_url, reports_dir=tmp_path)
    assert isinstance(result, lgbench.RunResult)
    assert result.run_dir.parent == tmp_path and (result.run_dir / "summary.json").is_file()
    assert not result.partial
    summary = result.results
    assert isinstance(summary, lgbench.Summary)
    # 2 VUs x 3 iterations, each one threads.create and one runs.wait.
    assert {name: op.ok for name, op in summary.operations.items()} == {
        "runs.wait": 6,
        "threads.create": 6,
    }
    assert isinstance(result.check, lgbench.CheckResult) and result.check.valid is True
    printed = out.getvalue()
    assert "runs.wait: 6/6 ok" in printed and "history valid: True" in printed
    # The saved summary reads back as the model (the "Results saved earlier" example).
    saved = lgbench.Summary.read(result.run_dir / "summary.json")
    assert saved.workload.name == "library-example"
    assert {name: op.ok for name, op in saved.operations.items()} == {
        "runs.wait": 6,
        "threads.create": 6,
    }


def test_the_validate_example_prints_nothing_for_a_valid_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(example("validate_workload"), {"lgbench": lgbench})
    assert out.getvalue() == ""


def test_validate_workload_returns_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[[scenario]]\nname = "a"\nexecutor = "constant-vus"\nvus = 0\nduration = "1x"\n'
        'steps = [{ op = "runs.wiat" }]\n',
        encoding="utf-8",
    )
    issues = lgbench.validate_workload(path)
    assert len(issues) >= 3
    assert issues == sorted(issues)
    assert all(issue.path == str(path) and issue.line > 0 for issue in issues)
    with pytest.raises(lgbench.WorkloadError) as raised:
        lgbench.load_workload(path)
    assert list(raised.value.issues) == issues
    assert lgbench.validate_workload(ROOT / "workloads" / "quickstart.toml") == []


def test_an_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    (issue,) = lgbench.validate_workload(tmp_path / "missing.toml")
    assert "cannot read the workload file" in issue.message


def test_the_error_tree_is_one_tree() -> None:
    for name in lgbench.__all__:
        value = getattr(lgbench, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, lgbench.LgbenchError), name
            assert isinstance(value.exit_code, lgbench.ExitCode)
