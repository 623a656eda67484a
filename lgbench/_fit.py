"""Tables that fit the terminal by leaving columns out, never by cutting cells.

rich squeezes a table wider than the console by wrapping and ellipsising its cells, which
turns ``1002`` into ``1…`` and ``runs.get`` into ``runs.g…``: a number cut short is worse
than no number. :func:`fit_table` builds a table with every column, measures it, and drops
the lowest-priority columns one by one until it fits; off a terminal (a log, a pipe, a CI
job) nothing is dropped and :func:`print_wide` prints at the table's natural width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.measure import Measurement

__all__ = ["fit_table", "natural_width", "print_wide"]

_UNBOUNDED = 100_000


def natural_width(console: Console, renderable: Any) -> int:
    """The width ``renderable`` takes when nothing limits it."""
    options = console.options.update(width=_UNBOUNDED, max_width=_UNBOUNDED)
    return Measurement.get(console, options, renderable).maximum


def fit_table(
    console: Console,
    build: Callable[[frozenset[str]], Any],
    droppable: Sequence[str],
    *,
    width: int | None = None,
) -> Any:
    """``build(dropped)`` with as few of ``droppable`` (least important first) left out as
    it takes to fit ``width`` (the console's width by default); every column is kept off a
    terminal, where :func:`print_wide` prints it whole."""
    dropped: set[str] = set()
    table = build(frozenset())
    if not console.is_terminal and width is None:
        return table
    limit = console.width if width is None else width
    for name in droppable:
        if natural_width(console, table) <= limit:
            break
        dropped.add(name)
        table = build(frozenset(dropped))
    return table


def print_wide(console: Console, renderable: Any, **kwargs: Any) -> None:
    """Print ``renderable``; off a terminal, as wide as it needs (a log line may be long,
    a number must not be cut)."""
    if console.is_terminal:
        console.print(renderable, **kwargs)
        return
    wide = max(console.width, natural_width(console, renderable))
    if wide == console.width:
        console.print(renderable, **kwargs)
        return
    saved = console.width
    console.width = wide
    try:
        console.print(renderable, **kwargs)
    finally:
        console.width = saved
