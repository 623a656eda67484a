"""What the bundled graphs share: the token state, the run id, and parameter parsing.

Imported by the graph modules only, inside the server process (needs LangGraph).
"""

from __future__ import annotations

import math
import operator
from typing import Annotated, Any, TypedDict

from langchain_core.runnables import RunnableConfig

__all__ = ["LOCAL_RUN_ID", "TokenState", "pick_float", "pick_int", "run_id_of"]

#: The run id recorded when a graph runs outside a LangGraph server (no run id in config).
LOCAL_RUN_ID = "local"


class TokenState(TypedDict, total=False):
    """State every bundled graph carries: the run tokens, appended by each step."""

    tokens: Annotated[list[str], operator.add]


def run_id_of(config: RunnableConfig) -> str:
    """The id of the server run executing this node.

    langgraph-api (0.16) puts the run id in ``configurable["run_id"]`` and copies it to
    ``metadata["run_id"]``; both are read so a graph keeps working if one of them moves.
    """
    for section in ("configurable", "metadata"):
        values: Any = config.get(section) or {}
        run_id = values.get("run_id")
        if run_id is not None:
            return str(run_id)
    return LOCAL_RUN_ID


def _from_config(config: RunnableConfig, key: str) -> object:
    configurable: Any = config.get("configurable") or {}
    return configurable.get(key)


def pick_float(
    given: object, config: RunnableConfig, key: str, default: float, *, maximum: float
) -> float:
    """A non-negative number from the input, else ``configurable[key]``, else ``default``.

    Raises:
        ValueError: the value is not a finite number in ``[0, maximum]`` (the run then
            ends in ``error`` with this message, which is what a bad input deserves).
    """
    value = given if given is not None else _from_config(config, key)
    if value is None:
        return default
    # bool is an int subclass; True seconds is a mistake, not 1 s.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= maximum:
        raise ValueError(f"{key} must be between 0 and {maximum}, got {value!r}")
    return number


def pick_int(given: object, config: RunnableConfig, key: str, default: int, *, maximum: int) -> int:
    """A non-negative integer from the input, else ``configurable[key]``, else ``default``.

    Raises:
        ValueError: the value is not an integer in ``[0, maximum]``.
    """
    value = given if given is not None else _from_config(config, key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer, got {value!r}")
    if not 0 <= value <= maximum:
        raise ValueError(f"{key} must be between 0 and {maximum}, got {value!r}")
    return value
