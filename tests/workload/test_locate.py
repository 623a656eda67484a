"""SourceMap: key paths to line and column, on the TOML shapes users write."""

from __future__ import annotations

from typing import Any

import pytest
import tomli
from hypothesis import given, settings
from hypothesis import strategies as st

from lgbench.workload._shared import KeyPath, Position, SourceMap
from tests.workload._strategies import any_toml_values, toml_document

DOCUMENT = """\
# comment with [brackets] and "quotes"
name = "x" # trailing
[target]
url = "http://a"
headers."x-y" = 'q'
[target.embedded]
port = 1

[[scenario]]
name = "a"
steps = [
  { op = "threads.create", save = "t" }, # c
  { op = "runs.wait", input = { a = [1, { b = 2 }] },
    thread = "$t" },
]
[[scenario]]
"name" = "b"
[[scenario.steps]]
op = "x"
[[scenario.steps]]
op = 'y'
[thresholds]
"runs.wait.latency.p99" = "< 2s"
"a\\\\\\"b\\u0041" = '''
x]'''
z = \"\"\"
 \\\"\"\" ] \"\"\"
after = { k = "v" }
"""


@pytest.mark.parametrize(
    ("path", "key", "value"),
    [
        pytest.param(("name",), (2, 1), (2, 8), id="top-level"),
        pytest.param(("target",), (3, 1), None, id="table-header"),
        pytest.param(("target", "url"), (4, 1), (4, 7), id="table-key"),
        pytest.param(("target", "headers"), (5, 1), None, id="dotted-prefix"),
        pytest.param(("target", "headers", "x-y"), (5, 9), (5, 17), id="dotted-quoted"),
        pytest.param(("target", "embedded"), (6, 1), None, id="sub-table"),
        pytest.param(("target", "embedded", "port"), (7, 1), (7, 8), id="sub-table-key"),
        pytest.param(("scenario", 0), (9, 1), None, id="array-of-tables"),
        pytest.param(("scenario", 0, "steps"), (11, 1), (11, 9), id="multi-line-array"),
        pytest.param(("scenario", 0, "steps", 0), None, (12, 3), id="inline-in-array"),
        pytest.param(("scenario", 0, "steps", 0, "save"), (12, 28), (12, 35), id="inline-key"),
        pytest.param(
            ("scenario", 0, "steps", 1, "input", "a", 1, "b"), (13, 43), (13, 47), id="deep"
        ),
        pytest.param(("scenario", 0, "steps", 1, "thread"), (14, 5), (14, 14), id="wrapped"),
        pytest.param(("scenario", 1), (16, 1), None, id="second-element"),
        pytest.param(("scenario", 1, "name"), (17, 1), (17, 10), id="quoted-key"),
        pytest.param(("scenario", 1, "steps", 0), (18, 1), None, id="nested-aot"),
        pytest.param(("scenario", 1, "steps", 1, "op"), (21, 1), (21, 6), id="nested-aot-2"),
        pytest.param(("thresholds", "runs.wait.latency.p99"), (23, 1), (23, 27), id="dots"),
        pytest.param(("thresholds", 'a\\"bA'), (24, 1), (24, 18), id="escapes"),
        pytest.param(("thresholds", "z"), (26, 1), (26, 5), id="after-multiline-literal"),
        pytest.param(("thresholds", "after"), (28, 1), (28, 9), id="after-multiline-basic"),
        pytest.param(("thresholds", "after", "k"), (28, 11), (28, 15), id="after-all"),
    ],
)
def test_positions(
    path: KeyPath, key: tuple[int, int] | None, value: tuple[int, int] | None
) -> None:
    document = tomli.loads(DOCUMENT)
    assert document["thresholds"]['a\\"bA'] == "x]"
    source = SourceMap(DOCUMENT)
    assert source.key(path) == (Position(*key) if key else None)
    assert source.value(path) == (Position(*value) if value else None)


def test_locate_falls_back_to_the_enclosing_table() -> None:
    source = SourceMap(DOCUMENT)
    assert source.locate(("scenario", 0, "vus")) == Position(9, 1)
    assert source.locate(("scenario", 0, "steps", 1, "assistant")) == Position(13, 3)
    assert source.locate(("nowhere", "at", "all")) == Position(1, 1)
    assert source.locate(("name",), at_key=True) == Position(2, 1)
    assert source.locate(("name",)) == Position(2, 8)


def test_positions_count_characters_not_bytes() -> None:
    source = SourceMap('a = "é€𝄞"\nb = 1\nc = { "ü" = 2, d = 3 }\n')
    assert source.value(("b",)) == Position(2, 5)
    assert source.key(("c", "d")) == Position(3, 16)


def test_windows_line_endings() -> None:
    source = SourceMap("a = 1\r\n[t]\r\nb = [\r\n  2,\r\n  3\r\n]\r\n")
    assert source.key(("t", "b")) == Position(3, 1)
    assert source.value(("t", "b", 1)) == Position(5, 3)


def test_toml_1_1_inline_tables_over_several_lines() -> None:
    text = 'step = {\n  op = "x", # first\n  save = "y",\n}\n'
    assert tomli.loads(text) == {"step": {"op": "x", "save": "y"}}
    assert SourceMap(text).key(("step", "save")) == Position(3, 3)


def _paths(value: Any, path: KeyPath = ()) -> list[KeyPath]:
    found: list[KeyPath] = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


top_keys = st.text(min_size=1, max_size=6)


@settings(max_examples=200)
@given(st.dictionaries(top_keys, any_toml_values, max_size=5))
def test_every_parsed_path_has_a_position(document: dict[str, Any]) -> None:
    text = toml_document(document)
    parsed = tomli.loads(text)
    source = SourceMap(text)
    lines = text.split("\n")
    for path in _paths(parsed):
        if isinstance(path[-1], int):
            in_array_of_tables = source.key(path) is not None
            assert in_array_of_tables or source.value(path) is not None, path
            continue
        key = source.key(path)
        assert key is not None, path
        written = lines[key.line - 1][key.column - 1 :]
        assert written.startswith(('"', "[", str(path[-1]))), (path, written)


@given(st.text(max_size=200))
def test_never_raises_on_anything(text: str) -> None:
    source = SourceMap(text)
    assert source.locate(("a", 0, "b")).line >= 1
