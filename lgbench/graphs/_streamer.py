"""``streamer``: a run that emits a known number of events in every stream mode.

Input (all optional; each falls back to ``config["configurable"]`` / ``context``):
    ``n``: how many events to emit, an integer in [0, 10000] (default 5).
    ``gap_s``: seconds to wait between two events, in [0, 60] (default 0).

Steps: ``begin`` appends ``start:<run_id>``; ``emit`` runs ``n`` times (one superstep
each), and each time sends one ``custom`` event ``{"i": i, "n": n, "run_id": ...}`` and
returns one ``AIMessage`` (content ``"event i/n"``, id ``"<run_id>:<i>"``); ``finish``
appends ``end:<run_id>``. So one run yields, per stream mode (observed on langgraph-api
0.16): ``updates`` n + 2 events (one per node execution); ``values`` n + 3 (one per
superstep, plus the input); ``custom`` exactly n; ``messages-tuple`` n ``messages``
events; ``messages`` n pairs of ``messages/metadata`` + ``messages/complete``.
A run takes n + 2 supersteps: within langgraph-api's default recursion limit (10 011)
for every allowed ``n``, but a run whose config sets a lower ``recursion_limit`` fails.

Returns (thread state): ``tokens``, ``emitted`` (events the latest run emitted),
``messages`` (the latest run's last message only: the list does not grow across runs).
"""

from __future__ import annotations

# Runs in the server's asyncio loop (see _sleepy.py).
import asyncio
from typing import Annotated, Literal

from langchain_core.messages import AIMessage, AnyMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels.ephemeral_value import EphemeralValue
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

from lgbench.graphs._common import TokenState, pick_float, pick_int, run_id_of
from lgbench.graphs._tokens import end_token, start_token

__all__ = ["DEFAULT_N", "MAX_GAP_S", "MAX_N", "StreamerState", "graph"]

DEFAULT_N = 5
MAX_N = 10_000
MAX_GAP_S = 60.0


class StreamerState(TokenState, total=False):
    # Inputs are ephemeral so the next run does not inherit them.
    n: Annotated[int, EphemeralValue(int)]
    gap_s: Annotated[float, EphemeralValue(float)]
    # This run's resolved parameters and progress.
    planned: int
    gap: float
    emitted: int
    messages: list[AnyMessage]


async def begin(state: StreamerState, config: RunnableConfig) -> StreamerState:
    n = pick_int(state.get("n"), config, "n", DEFAULT_N, maximum=MAX_N)
    gap_s = pick_float(state.get("gap_s"), config, "gap_s", 0.0, maximum=MAX_GAP_S)
    return {
        "tokens": [start_token(run_id_of(config))],
        "planned": n,
        "gap": gap_s,
        "emitted": 0,
    }


async def emit(state: StreamerState, config: RunnableConfig) -> StreamerState:
    run_id = run_id_of(config)
    i = state.get("emitted", 0)
    n = state.get("planned", 0)
    if i > 0:
        await asyncio.sleep(state.get("gap", 0.0))
    get_stream_writer()({"i": i, "n": n, "run_id": run_id})
    message = AIMessage(content=f"event {i + 1}/{n}", id=f"{run_id}:{i}")
    return {"emitted": i + 1, "messages": [message]}


async def finish(state: StreamerState, config: RunnableConfig) -> StreamerState:
    return {"tokens": [end_token(run_id_of(config))]}


def _next(state: StreamerState) -> Literal["emit", "finish"]:
    return "emit" if state.get("emitted", 0) < state.get("planned", 0) else "finish"


graph = (
    StateGraph(StreamerState)
    .add_node("begin", begin)
    .add_node("emit", emit)
    .add_node("finish", finish)
    .add_edge(START, "begin")
    .add_conditional_edges("begin", _next)
    .add_conditional_edges("emit", _next)
    .add_edge("finish", END)
    .compile(name="streamer")
)
