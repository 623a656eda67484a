"""``sleepy``: a run that takes a chosen time, for multitask and queueing semantics.

Input (all optional):
    ``seconds``: how long the run sleeps, a number in [0, 3600]; when absent,
    ``config["configurable"]["seconds"]`` (or the run's ``context``), else 0.1.

Steps: ``begin`` appends ``start:<run_id>``; ``work`` sleeps, then appends
``end:<run_id>``. The start token is checkpointed before the sleep, so a run cancelled
while sleeping leaves ``start`` without ``end`` (interrupt) or nothing at all (rollback).

Returns (thread state): ``tokens`` (every run's tokens on the thread, in order) and
``slept_s`` (the sleep of the latest run that got past ``begin``).

The input ``seconds`` lives in an ephemeral channel: it is not kept in the thread's state,
so the next run on the thread falls back to its own input, config or the default instead
of inheriting the previous run's value.
"""

from __future__ import annotations

# The server runs graphs on its asyncio loop, so awaiting asyncio here is right (the
# asyncio-only-in-_backend rule is about lgbench's own engine, not server-side code).
import asyncio
from typing import Annotated

from langchain_core.runnables import RunnableConfig
from langgraph.channels.ephemeral_value import EphemeralValue
from langgraph.graph import END, START, StateGraph

from lgbench.graphs._common import TokenState, pick_float, run_id_of
from lgbench.graphs._tokens import end_token, start_token

__all__ = ["DEFAULT_SECONDS", "MAX_SECONDS", "SleepyState", "graph"]

DEFAULT_SECONDS = 0.1
MAX_SECONDS = 3600.0


class SleepyState(TokenState, total=False):
    seconds: Annotated[float, EphemeralValue(float)]
    slept_s: float


async def begin(state: SleepyState, config: RunnableConfig) -> SleepyState:
    seconds = pick_float(
        state.get("seconds"), config, "seconds", DEFAULT_SECONDS, maximum=MAX_SECONDS
    )
    return {"tokens": [start_token(run_id_of(config))], "slept_s": seconds}


async def work(state: SleepyState, config: RunnableConfig) -> SleepyState:
    await asyncio.sleep(state.get("slept_s", DEFAULT_SECONDS))
    return {"tokens": [end_token(run_id_of(config))]}


graph = (
    StateGraph(SleepyState)
    .add_node("begin", begin)
    .add_node("work", work)
    .add_edge(START, "begin")
    .add_edge("begin", "work")
    .add_edge("work", END)
    .compile(name="sleepy")
)
