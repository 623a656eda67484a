"""Whatever a user feeds it, the parser answers with a Workload or a WorkloadError."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import tomli
from hypothesis import given, settings
from hypothesis import strategies as st

from lgbench.workload import Workload, WorkloadError, dump_workload, parse_workload
from tests.workload._strategies import any_toml_values, toml_document

ROOT = Path(__file__).parent.parent.parent
SAMPLES = sorted(
    [*(ROOT / "workloads").glob("*.toml"), *(ROOT / "tests/data/workloads").glob("*/*.toml")]
)
TEXTS = [path.read_bytes().decode("utf-8", "replace") for path in SAMPLES]
VALID = [
    tomli.loads(text) for path, text in zip(SAMPLES, TEXTS, strict=True) if "bad" not in path.parts
]
FUZZ = settings(max_examples=300)


def _check(source: str | bytes) -> None:
    try:
        workload = parse_workload(source, "fuzz.toml")
    except WorkloadError as error:
        text = str(error)
        assert text
        line_count = (source.count("\n") if isinstance(source, str) else source.count(b"\n")) + 1
        for issue in error.issues:
            assert issue.path == "fuzz.toml"
            assert 0 <= issue.line <= line_count + 1
            assert issue.column >= 0
            assert issue.message
        assert text.split("\n") == [str(issue) for issue in error.issues]
        return
    assert isinstance(workload, Workload)
    assert parse_workload(dump_workload(workload), "fuzz.toml") == workload


@FUZZ
@given(st.text(max_size=300))
def test_any_text(text: str) -> None:
    _check(text)


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes(data: bytes) -> None:
    _check(data)


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 3))):
        if not text:
            break
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start, min(len(text), start + 20)))
        action = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "swap"]))
        piece = draw(
            st.sampled_from(['"', "'", "[", "]", "{", "}", ",", "=", "\n", "#", "$", "."])
            | st.text(max_size=4)
        )
        if action == "delete":
            text = text[:start] + text[end:]
        elif action == "insert":
            text = text[:start] + piece + text[start:]
        elif action == "replace":
            text = text[:start] + piece + text[end:]
        elif action == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@FUZZ
@given(mutated_texts())
def test_mutated_sample_texts(text: str) -> None:
    _check(text)


def _containers(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _containers(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _containers(item, (*path, index))
    return found


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _containers(document) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _at(document, path[:-1])
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(any_toml_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(any_toml_values)
        else:
            parent.append(draw(any_toml_values))
    return document


@FUZZ
@given(mutated_documents())
def test_mutated_valid_workloads(document: dict[str, Any]) -> None:
    _check(toml_document(document))


def test_deeply_nested_input_is_an_error_not_a_crash() -> None:
    _check("a = " + "[" * 5000 + "]" * 5000)
    _check("x = " + "{ a = " * 3000 + "1" + " }" * 3000)
