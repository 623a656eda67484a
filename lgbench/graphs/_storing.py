"""``storing``: a run that writes an item to the server's store and reads it back.

Input (all optional):
    ``namespace``: list of strings (default ``["lgbench"]``).
    ``key``: the item key (default ``"item"``).
    ``value``: any JSON value (default ``null``).

Steps: ``begin`` appends ``start:<run_id>``; ``store_item`` reads the item at
(``namespace``, ``key``), writes ``{"value": value, "run_id": <run_id>}`` there, reads it
again, and appends ``end:<run_id>``. The item is then visible at
``GET /store/items?namespace=...&key=...`` (namespace joined with ``.``).

Returns (thread state): ``tokens``, ``previous`` (the item's value before this run wrote,
or ``null``) and ``read`` (the value read back after writing).
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.runnables import RunnableConfig
from langgraph.channels.ephemeral_value import EphemeralValue
from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore

from lgbench.graphs._common import TokenState, run_id_of
from lgbench.graphs._tokens import end_token, start_token

__all__ = ["DEFAULT_KEY", "DEFAULT_NAMESPACE", "StoringState", "graph"]

DEFAULT_NAMESPACE = ("lgbench",)
DEFAULT_KEY = "item"


class StoringState(TokenState, total=False):
    # Inputs are ephemeral so the next run does not inherit them.
    namespace: Annotated[list[str], EphemeralValue(list)]
    key: Annotated[str, EphemeralValue(str)]
    value: Annotated[Any, EphemeralValue(object)]
    # This run's resolved item address and value.
    target: dict[str, Any]
    previous: Any
    read: Any


async def begin(state: StoringState, config: RunnableConfig) -> StoringState:
    namespace = state.get("namespace")
    if namespace is None:
        namespace = list(DEFAULT_NAMESPACE)
    elif not namespace or not all(isinstance(label, str) for label in namespace):
        raise ValueError(f"namespace must be a non-empty list of strings, got {namespace!r}")
    key = state.get("key", DEFAULT_KEY)
    if not isinstance(key, str) or not key:
        raise ValueError(f"key must be a non-empty string, got {key!r}")
    return {
        "tokens": [start_token(run_id_of(config))],
        "target": {"namespace": namespace, "key": key, "value": state.get("value")},
    }


async def store_item(
    state: StoringState, config: RunnableConfig, *, store: BaseStore
) -> StoringState:
    run_id = run_id_of(config)
    target = state.get("target") or {}
    namespace = tuple(target.get("namespace", DEFAULT_NAMESPACE))
    key = str(target.get("key", DEFAULT_KEY))
    before = await store.aget(namespace, key)
    await store.aput(namespace, key, {"value": target.get("value"), "run_id": run_id})
    after = await store.aget(namespace, key)
    return {
        "tokens": [end_token(run_id)],
        "previous": None if before is None else before.value,
        "read": None if after is None else after.value,
    }


graph = (
    StateGraph(StoringState)
    .add_node("begin", begin)
    .add_node("store_item", store_item)
    .add_edge(START, "begin")
    .add_edge("begin", "store_item")
    .add_edge("store_item", END)
    .compile(name="storing")
)
