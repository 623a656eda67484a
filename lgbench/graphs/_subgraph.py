"""``subgraph``: a parent graph with a compiled subgraph as one of its nodes.

Input: none needed (anything given is ignored).

Steps: ``begin`` appends ``start:<run_id>`` and clears ``trail``; ``child`` is a compiled
subgraph (graph name ``child``) with two nodes, ``inner_a`` and ``inner_b``, each adding
``"<node>:<run_id>"`` to ``trail``; ``finish`` appends ``end:<run_id>``. The server lists
the subgraph under the namespace ``child`` at ``GET /assistants/{id}/subgraphs``, and a run
streamed with ``stream_subgraphs=true`` yields its events with namespaced modes such as
``updates|child:<task id>``.

Returns (thread state): ``tokens`` and ``trail`` (the latest run's subgraph steps,
``["inner_a:<run_id>", "inner_b:<run_id>"]``).
"""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from lgbench.graphs._common import TokenState, run_id_of
from lgbench.graphs._tokens import end_token, start_token

__all__ = ["ChildState", "ParentState", "child", "graph"]


class ChildState(TypedDict, total=False):
    trail: Annotated[list[str], operator.add]


class ParentState(TokenState, total=False):
    # A plain value in the parent: the subgraph returns its whole (appended) trail, which
    # replaces the parent's; a reducer here would count the parent's part twice.
    trail: list[str]


async def inner_a(state: ChildState, config: RunnableConfig) -> ChildState:
    return {"trail": [f"inner_a:{run_id_of(config)}"]}


async def inner_b(state: ChildState, config: RunnableConfig) -> ChildState:
    return {"trail": [f"inner_b:{run_id_of(config)}"]}


child = (
    StateGraph(ChildState)
    .add_node("inner_a", inner_a)
    .add_node("inner_b", inner_b)
    .add_edge(START, "inner_a")
    .add_edge("inner_a", "inner_b")
    .add_edge("inner_b", END)
    .compile(name="child")
)


async def begin(state: ParentState, config: RunnableConfig) -> ParentState:
    return {"tokens": [start_token(run_id_of(config))], "trail": []}


async def finish(state: ParentState, config: RunnableConfig) -> ParentState:
    return {"tokens": [end_token(run_id_of(config))]}


graph = (
    StateGraph(ParentState)
    .add_node("begin", begin)
    .add_node("child", child)
    .add_node("finish", finish)
    .add_edge(START, "begin")
    .add_edge("begin", "child")
    .add_edge("child", "finish")
    .add_edge("finish", END)
    .compile(name="subgraph")
)
