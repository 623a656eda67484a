"""Templates: the grammar, rendering with a seeded generator, and ids from saved objects."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lgbench.operations import resolve_id
from lgbench.workload import TemplateError
from lgbench.workload._templating import Expression, Template, parse_template, render
from tests.workload._strategies import NOT_SURROGATES

THREAD = {"thread_id": "t-1", "status": "idle", "metadata": {"owner": "ana"}}
RUN = {"run_id": "r-1", "thread_id": "t-1"}
VARIABLES: dict[str, Any] = {"thread": THREAD, "run": RUN, "items": [{"key": "a"}, {"key": "b"}]}


def _render(value: Any, seed: int = 0) -> Any:
    return render(value, VARIABLES, random.Random(seed), vu=3, iteration=7)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        pytest.param("plain", ("plain",), id="plain"),
        pytest.param("", ("",), id="empty"),
        pytest.param("$thread", (Expression("variable", "thread"),), id="reference"),
        pytest.param(
            "$thread.thread_id",
            (Expression("variable", "thread", ("thread_id",)),),
            id="field",
        ),
        pytest.param(
            "${run.run_id}", (Expression("variable", "run", ("run_id",)),), id="braced-field"
        ),
        pytest.param(
            "${ run . run_id }", (Expression("variable", "run", ("run_id",)),), id="spaces"
        ),
        pytest.param(
            "user-${vu}-$iteration",
            (
                "user-",
                Expression("variable", "vu"),
                "-",
                Expression("variable", "iteration"),
            ),
            id="interpolated",
        ),
        pytest.param(
            "${random.int(1,10)}", (Expression("random.int", args=(1, 10)),), id="random-int"
        ),
        pytest.param(
            "${random.int(-5, 5)}", (Expression("random.int", args=(-5, 5)),), id="negative-int"
        ),
        pytest.param(
            "${random.float(0.1,0.5)}",
            (Expression("random.float", args=(0.1, 0.5)),),
            id="random-float",
        ),
        pytest.param(
            "${random.choice(a, b, 3, 1.5)}",
            (Expression("random.choice", args=("a", "b", 3, 1.5)),),
            id="random-choice",
        ),
        pytest.param("${uuid}", (Expression("variable", "uuid"),), id="uuid"),
        pytest.param("$$thread", ("$thread",), id="escaped-dollar"),
        pytest.param("costs $5", ("costs $5",), id="dollar-digit-is-text"),
        pytest.param("end$", ("end$",), id="trailing-dollar"),
        pytest.param(
            "$thread.", (Expression("variable", "thread"), "."), id="trailing-dot-is-text"
        ),
        pytest.param("$items.1.key", (Expression("variable", "items", ("1", "key")),), id="index"),
    ],
)
def test_parse(text: str, parts: tuple[str | Expression, ...]) -> None:
    assert parse_template(text) == Template(parts)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("${vu", "unclosed ${", id="unclosed"),
        pytest.param("${}", 'cannot read "${}"', id="empty-braces"),
        pytest.param("x${a b}", 'cannot read "${a b}" in "x${a b}"', id="two-words"),
        pytest.param("${1x}", "cannot read", id="bad-name"),
        pytest.param("${random.pick(1)}", "unknown function random.pick", id="unknown-function"),
        pytest.param("${random.int(10,1)}", "bounds are reversed", id="reversed-int"),
        pytest.param("${random.float(1,0.5)}", "bounds are reversed", id="reversed-float"),
        pytest.param("${random.int(1)}", "takes two integers", id="one-argument"),
        pytest.param("${random.int(1.5,2)}", "takes two integers", id="float-for-int"),
        pytest.param("${random.float(a,b)}", "takes two numbers", id="words-for-float"),
        pytest.param("${random.choice(a,,b)}", "empty choice", id="empty-choice"),
        pytest.param("$random", "random needs a function", id="bare-random"),
        pytest.param("${vu.x}", "vu has no fields", id="builtin-field"),
    ],
)
def test_parse_rejects(text: str, problem: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(text)
    assert problem in caught.value.problem
    assert caught.value.expected


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        pytest.param("plain", "plain", id="plain"),
        pytest.param("$thread", THREAD, id="whole-object"),
        pytest.param("$thread.thread_id", "t-1", id="field"),
        pytest.param("${thread.metadata.owner}", "ana", id="nested-field"),
        pytest.param("$items.1.key", "b", id="index"),
        pytest.param("${vu}", 3, id="vu-is-an-int"),
        pytest.param("${iteration}", 7, id="iteration"),
        pytest.param("vu-${vu}/it-$iteration", "vu-3/it-7", id="interpolated"),
        pytest.param("t=$thread.status!", "t=idle!", id="text-around"),
        pytest.param("meta $thread.metadata", 'meta {"owner": "ana"}', id="object-as-json"),
        pytest.param("$$vu", "$vu", id="escaped"),
        pytest.param(
            {"thread_id": "$thread.thread_id", "list": ["$vu", 1, {"x": "${iteration}"}]},
            {"thread_id": "t-1", "list": [3, 1, {"x": 7}]},
            id="nested-containers",
        ),
        pytest.param(42, 42, id="numbers-unchanged"),
        pytest.param(None, None, id="none-unchanged"),
    ],
)
def test_render(value: Any, rendered: Any) -> None:
    assert _render(value) == rendered


def test_render_random_is_seeded() -> None:
    value = {
        "n": "${random.int(1,1000000)}",
        "f": "${random.float(0,1)}",
        "c": "${random.choice(a,b,c,d,e,f,g)}",
        "id": "${uuid}",
    }
    first, second, other = _render(value, 1), _render(value, 1), _render(value, 2)
    assert first == second
    assert first != other
    assert isinstance(first["n"], int) and 1 <= first["n"] <= 1_000_000
    assert isinstance(first["f"], float) and 0 <= first["f"] <= 1
    assert first["c"] in "abcdefg"
    assert uuid.UUID(first["id"]).version == 4


def test_render_takes_a_function_making_the_generator_on_first_draw() -> None:
    made: list[random.Random] = []

    def make() -> random.Random:
        if not made:
            made.append(random.Random(5))
        return made[0]

    assert render({"a": "x-${vu}"}, {}, make, 3, 0) == {"a": "x-3"}
    assert not made  # nothing drawn, nothing made
    value = {"n": "${random.int(1,1000000)}", "id": "${uuid}", "c": "${random.choice(a,b,c)}"}
    assert render(value, {}, make, 1, 0) == render(value, {}, random.Random(5), 1, 0)
    assert len(made) == 1


def test_render_does_not_change_its_input() -> None:
    value = {"a": ["$vu"]}
    _render(value)
    assert value == {"a": ["$vu"]}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param("$missing", "undefined variable $missing", id="undefined"),
        pytest.param("$thread.nope", 'has no field "nope"', id="missing-field"),
        pytest.param("$items.9", 'has no field "9"', id="index-out-of-range"),
        pytest.param("$run.run_id.x", 'has no field "x"', id="field-of-string"),
        pytest.param("$run.run_id.upper", 'has no field "upper"', id="no-methods"),
        pytest.param("${vu", "unclosed", id="malformed"),
    ],
)
def test_render_errors(value: str, problem: str) -> None:
    with pytest.raises(TemplateError) as caught:
        _render(value)
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("value", "kind", "found"),
    [
        pytest.param("t-9", "thread", "t-9", id="string-is-an-id"),
        pytest.param(THREAD, "thread", "t-1", id="thread-object"),
        pytest.param(RUN, "run", "r-1", id="run-object"),
        pytest.param(RUN, "thread", "t-1", id="thread-of-a-run"),
        pytest.param({"assistant_id": "a-1"}, "assistant", "a-1", id="assistant"),
        pytest.param({"cron_id": "c-1"}, "cron_id", "c-1", id="kind-with-suffix"),
        pytest.param(uuid.UUID(int=1), "thread", str(uuid.UUID(int=1)), id="uuid"),
    ],
)
def test_resolve_id(value: Any, kind: str, found: str) -> None:
    assert resolve_id(value, kind) == found


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"values": {"x": 1}}, id="wait-result-has-no-id"),
        pytest.param({"thread_id": 5}, id="id-not-a-string"),
        pytest.param(7, id="number"),
    ],
)
def test_resolve_id_errors(value: Any) -> None:
    with pytest.raises(TemplateError, match="has no thread_id"):
        resolve_id(value, "thread")


def test_render_reads_attributes_of_objects() -> None:
    class Thread:
        thread_id = "t-obj"

    rendered = render("$t.thread_id", {"t": Thread()}, random.Random(0), vu=1, iteration=0)
    assert rendered == "t-obj"


def test_variables_exclude_builtins() -> None:
    template = parse_template("$thread ${vu} ${uuid} ${random.int(1,2)} $run.run_id $iteration")
    assert template.variables() == {"thread", "run"}


no_dollar = st.text(alphabet=st.characters(blacklist_characters="$", categories=NOT_SURROGATES))


@given(no_dollar)
def test_text_without_dollar_is_itself(text: str) -> None:
    assert _render(text) == text
    assert parse_template(text).is_text


@given(st.text())
def test_escaped_text_renders_to_the_original(text: str) -> None:
    assert _render(text.replace("$", "$$")) == text


@given(st.integers(-1000, 1000), st.integers(0, 1000), st.integers(0, 2**32))
def test_random_int_stays_in_bounds(low: int, span: int, seed: int) -> None:
    value = _render(f"${{random.int({low},{low + span})}}", seed)
    assert low <= value <= low + span


@given(st.text(max_size=20))
def test_parse_never_fails_otherwise(text: str) -> None:
    try:
        template = parse_template(text)
    except TemplateError:
        return
    assert all(isinstance(part, str | Expression) for part in template.parts)
