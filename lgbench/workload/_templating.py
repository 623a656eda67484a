"""Templates in step values: saved objects, their fields, and seeded random inputs.

Any string in a step (at any depth of its tables and arrays) is a template when it
contains ``$``. The grammar, kept small on purpose::

    template  := { text | "$$" | reference | "${" expr "}" }
    reference := "$" name { "." field }
    expr      := name { "." field }                      a saved variable, or vu, iteration, uuid
               | "random.int(" int "," int ")"           uniform integer, both ends included
               | "random.float(" number "," number ")"   uniform float between the two
               | "random.choice(" word { "," word } ")"  one of the words
    name      := [A-Za-z_][A-Za-z0-9_]*
    field     := [A-Za-z0-9_]+                           a key of a table, or an array index
    word      := text without "," or ")", spaces around it dropped;
                 an integer or decimal literal becomes a number

``$$`` is a literal ``$``, and so is a ``$`` followed by anything but a letter, ``_``,
``{`` or ``$``. Spaces are allowed inside ``${ ... }`` around names, dots, commas and
parentheses.

Built-in names: ``vu`` (the virtual user's number, from 1), ``iteration`` (the VU's
iteration, from 0), ``uuid`` (a version-4 UUID drawn from the workload's seeded
random generator) and ``random`` (only through its functions). Every other name
must be saved by an earlier step (``save = "thread"``).

Rendering: a template that is exactly one reference or ``${...}`` stands for the
value itself (``"$thread"`` is the saved thread object, ``"${random.int(1,10)}"`` an
integer); otherwise the pieces are joined as text (strings as they are, anything
else as JSON). Id parameters given a whole object take its id (:func:`resolve_id`).

Failure modes: :class:`TemplateError` from :func:`parse_template` for a malformed
template, and from :func:`render` / :func:`resolve_id` for a name that is not
defined, a missing field, or an object without the wanted id.
"""

from __future__ import annotations

import functools
import json
import random
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from lgbench._toml import TemplateError, quote

__all__ = [
    "BUILTIN_NAMES",
    "Expression",
    "Template",
    "parse_template",
    "render",
]

#: Names a template may use without a step saving them.
BUILTIN_NAMES = frozenset({"vu", "iteration", "uuid", "random", "user"})

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_REFERENCE = re.compile(rf"\$({_NAME})((?:\.[A-Za-z0-9_]+)*)")
_PATH = re.compile(rf"\s*({_NAME})((?:\s*\.\s*[A-Za-z0-9_]+)*)\s*")
_CALL = re.compile(r"\s*random\s*\.\s*([A-Za-z_]+)\s*\((.*)\)\s*", re.DOTALL)
_INT = re.compile(r"[+-]?\d{1,18}")
_FLOAT = re.compile(r"[+-]?(?:\d{1,18}(?:\.\d{0,18})?|\.\d{1,18})")
_RANDOM_FORMS = '"${random.int(1,10)}", "${random.float(0.1,0.5)}" or "${random.choice(a,b)}"'
_TEMPLATE_FORMS = '"$name", "$name.field", "${name.field}", "${vu}" or ' + _RANDOM_FORMS

ExpressionKind: TypeAlias = Literal["variable", "random.int", "random.float", "random.choice"]


@dataclass(frozen=True)
class Expression:
    """One ``$...`` piece: a variable with fields, or a random draw with its arguments."""

    kind: ExpressionKind
    name: str = ""
    fields: tuple[str, ...] = ()
    args: tuple[int | float | str, ...] = ()

    def __str__(self) -> str:
        if self.kind == "variable":
            return "$" + ".".join((self.name, *self.fields))
        return "${" + self.kind + "(" + ",".join(str(arg) for arg in self.args) + ")}"


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and :class:`Expression` pieces, in order."""

    parts: tuple[str | Expression, ...]

    @property
    def whole(self) -> Expression | None:
        """The expression when the template is exactly one, so it renders to a value."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Expression):
            return self.parts[0]
        return None

    @property
    def is_text(self) -> bool:
        """True when the template has no expression at all."""
        return all(isinstance(part, str) for part in self.parts)

    def variables(self) -> frozenset[str]:
        """Names this template reads that are not built in (must be saved earlier)."""
        return frozenset(
            part.name
            for part in self.parts
            if isinstance(part, Expression)
            and part.kind == "variable"
            and part.name not in BUILTIN_NAMES
        )


def _number(word: str) -> int | float | str:
    if _INT.fullmatch(word):
        return int(word)
    if _FLOAT.fullmatch(word):
        return float(word)
    return word


def _parse_call(function: str, arguments: str, source: str) -> Expression:
    words = [word.strip() for word in arguments.split(",")]
    if function == "choice":
        if any(not word for word in words):
            raise TemplateError(
                f"random.choice has an empty choice in {quote(source)}", _RANDOM_FORMS
            )
        return Expression("random.choice", args=tuple(_number(word) for word in words))
    if function not in ("int", "float"):
        raise TemplateError(f"unknown function random.{function} in {quote(source)}", _RANDOM_FORMS)
    pattern = _INT if function == "int" else _FLOAT
    if len(words) != 2 or not all(pattern.fullmatch(word) for word in words):
        raise TemplateError(
            f"random.{function} takes two {'integers' if function == 'int' else 'numbers'},"
            f" got {quote(source)}",
            _RANDOM_FORMS,
        )
    low, high = (int(word) if function == "int" else float(word) for word in words)
    if low > high:
        raise TemplateError(
            f"random.{function} bounds are reversed in {quote(source)} ({low} > {high})",
            _RANDOM_FORMS,
        )
    kind: ExpressionKind = "random.int" if function == "int" else "random.float"
    return Expression(kind, args=(low, high))


def _parse_braced(body: str, source: str) -> Expression:
    call = _CALL.fullmatch(body)
    if call is not None:
        return _parse_call(call.group(1), call.group(2), source)
    path = _PATH.fullmatch(body)
    if path is None:
        piece = quote("${" + body + "}")
        where = "" if "${" + body + "}" == source else f" in {quote(source)}"
        raise TemplateError(f"cannot read {piece}{where}", _TEMPLATE_FORMS)
    fields = tuple(field.strip() for field in path.group(2).split(".")[1:])
    return _check_variable(Expression("variable", path.group(1), fields), source)


def _check_variable(expression: Expression, source: str) -> Expression:
    if expression.name == "random":
        raise TemplateError(f"random needs a function in {quote(source)}", _RANDOM_FORMS)
    if expression.name in BUILTIN_NAMES and expression.fields:
        raise TemplateError(
            f"{expression.name} has no fields in {quote(source)}", f'"${{{expression.name}}}"'
        )
    return expression


@functools.lru_cache(maxsize=4096)
def parse_template(text: str) -> Template:
    """Parse ``text`` (see the module docstring). Raises :class:`TemplateError`."""
    parts: list[str | Expression] = []
    literal: list[str] = []
    position = 0
    while True:
        dollar = text.find("$", position)
        if dollar < 0:
            literal.append(text[position:])
            break
        literal.append(text[position:dollar])
        following = text[dollar + 1 : dollar + 2]
        if following == "$":
            literal.append("$")
            position = dollar + 2
            continue
        if following == "{":
            end = text.find("}", dollar + 2)
            if end < 0:
                raise TemplateError(f"unclosed ${{ in {quote(text)}", _TEMPLATE_FORMS)
            expression = _parse_braced(text[dollar + 2 : end], text)
            position = end + 1
        else:
            match = _REFERENCE.match(text, dollar)
            if match is None:
                literal.append("$")
                position = dollar + 1
                continue
            fields = tuple(match.group(2).split(".")[1:])
            expression = _check_variable(Expression("variable", match.group(1), fields), text)
            position = match.end()
        if literal:
            joined = "".join(literal)
            if joined:
                parts.append(joined)
            literal = []
        parts.append(expression)
    joined = "".join(literal)
    if joined or not parts:
        parts.append(joined)
    return Template(tuple(parts))


_MISSING = object()


def _field(value: Any, field: str, expression: Expression) -> Any:
    if isinstance(value, Mapping):
        if field in value:
            return value[field]
    elif isinstance(value, Sequence) and not isinstance(value, str) and field.isdigit():
        index = int(field)
        if index < len(value):
            return value[index]
    elif not isinstance(value, str | bytes | int | float) and not field.startswith("_"):
        found = getattr(value, field, _MISSING)
        if found is not _MISSING and not callable(found):
            return found
    raise TemplateError(f"{expression} has no field {quote(field)} in {_preview(value)}")


def _preview(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


#: A VU's generator, or a function that makes it when a template first draws from it: a
#: generator's state is 2.5 KiB, which a VU whose templates draw nothing need not hold.
RandomSource: TypeAlias = random.Random | Callable[[], random.Random]


def _generator(rng: RandomSource) -> random.Random:
    return rng if isinstance(rng, random.Random) else rng()


def _evaluate(
    expression: Expression,
    variables: Mapping[str, Any],
    rng: RandomSource,
    vu: int,
    iteration: int,
) -> Any:
    if expression.kind == "random.int":
        low, high = expression.args
        return _generator(rng).randint(int(low), int(high))
    if expression.kind == "random.float":
        low, high = expression.args
        return _generator(rng).uniform(float(low), float(high))
    if expression.kind == "random.choice":
        return _generator(rng).choice(expression.args)
    name = expression.name
    if name == "vu":
        return vu
    if name == "iteration":
        return iteration
    if name == "uuid":
        return str(uuid.UUID(int=_generator(rng).getrandbits(128), version=4))
    if name == "user":
        # The VU's user label (the engine puts it among the variables: no step can save
        # to a built-in name).
        if "user" not in variables:
            raise TemplateError("$user needs users", "[target.auth] in the workload")
        return variables["user"]
    if name not in variables:
        raise TemplateError(f"undefined variable ${name}", "a variable saved by an earlier step")
    value = variables[name]
    for field in expression.fields:
        value = _field(value, field, expression)
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def render(
    value: Any,
    variables: Mapping[str, Any],
    rng: RandomSource,
    vu: int,
    iteration: int,
) -> Any:
    """``value`` with every template in it replaced, tables and arrays rebuilt.

    ``variables`` holds what earlier steps saved; ``rng`` is the VU's generator seeded
    from the workload seed, or a function returning it (draws happen in document order,
    so a run is repeatable);
    ``vu`` counts from 1 and ``iteration`` from 0. Values that are not strings, lists
    or tables come back unchanged. Raises :class:`TemplateError`.
    """
    if isinstance(value, str):
        if "$" not in value:
            return value
        template = parse_template(value)
        whole = template.whole
        if whole is not None:
            return _evaluate(whole, variables, rng, vu, iteration)
        return "".join(
            part
            if isinstance(part, str)
            else _as_text(_evaluate(part, variables, rng, vu, iteration))
            for part in template.parts
        )
    if isinstance(value, Mapping):
        return {key: render(item, variables, rng, vu, iteration) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render(item, variables, rng, vu, iteration) for item in value]
    return value
