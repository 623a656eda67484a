"""``fanout``: the graph shapes of server benchmarks — one node, parallel branches, a chain.

Input (all optional; each falls back to ``config["configurable"]``):
    ``mode``: ``"single"`` (one node does all the work), ``"parallel"`` (``expand`` branches
    run at the same time, fanned out with ``Send``) or ``"sequential"`` (``expand`` nodes one
    after another, one superstep and one checkpoint each); default ``"parallel"``.
    ``expand``: how many work items, an integer in [1, 1000] (default 3).
    ``data_size``: bytes each work item writes into the state, in [0, 10 MiB] (default 100).
    ``delay_s``: seconds each work item waits, in [0, 60] (default 0).

Steps: ``begin`` appends ``start:<run_id>``; the work items each append one string of
``data_size`` bytes to ``data`` (``single`` writes all of them in one node, waiting
``expand * delay_s``); ``finish`` appends ``end:<run_id>``. State size, checkpoint writes and
parallel branches can be dialled up independently.

Returns (thread state): ``tokens``, ``data`` (the latest run's items only), ``mode``.
"""

from __future__ import annotations

# Runs in the server's asyncio loop (see _sleepy.py).
import asyncio
from typing import Annotated, Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.channels.ephemeral_value import EphemeralValue
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from lgbench.graphs._common import TokenState, pick_float, pick_int, run_id_of
from lgbench.graphs._tokens import end_token, start_token

__all__ = ["MODES", "FanoutState", "graph"]

MODES = ("single", "parallel", "sequential")
MAX_DATA_SIZE = 10 * 1024 * 1024


def _items(left: list[str], right: list[str] | None) -> list[str]:
    # None resets the list at the start of a run; otherwise items accumulate.
    return [] if right is None else left + right


def _count(left: int, right: int | None) -> int:
    return 0 if right is None else left + right


class FanoutState(TokenState, total=False):
    mode: Annotated[str, EphemeralValue(str)]
    expand: Annotated[int, EphemeralValue(int)]
    data_size: Annotated[int, EphemeralValue(int)]
    delay_s: Annotated[float, EphemeralValue(float)]
    plan: dict[str, Any]
    data: Annotated[list[str], _items]
    done: Annotated[int, _count]


def _pick_mode(state: FanoutState, config: RunnableConfig) -> str:
    mode = state.get("mode")
    if mode is None:
        mode = (config.get("configurable") or {}).get("mode", "parallel")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return str(mode)


async def begin(state: FanoutState, config: RunnableConfig) -> dict[str, Any]:
    plan = {
        "mode": _pick_mode(state, config),
        "expand": max(1, pick_int(state.get("expand"), config, "expand", 3, maximum=1000)),
        "data_size": pick_int(
            state.get("data_size"), config, "data_size", 100, maximum=MAX_DATA_SIZE
        ),
        "delay_s": pick_float(state.get("delay_s"), config, "delay_s", 0.0, maximum=60.0),
    }
    return {"tokens": [start_token(run_id_of(config))], "plan": plan, "data": None, "done": None}


def _item(run_id: str, i: int, size: int) -> str:
    head = f"{run_id}:{i}:"
    return head + "x" * max(0, size - len(head))


async def work(state: FanoutState, config: RunnableConfig) -> dict[str, Any]:
    """One work item (``parallel``, ``sequential``) or all of them (``single``).

    A parallel branch gets ``{"plan", "item"}`` from its ``Send`` instead of the state.
    """
    plan = state["plan"]
    run_id = run_id_of(config)
    count = plan["expand"] if plan["mode"] == "single" else 1
    item: Any = state.get("item")
    first = item if isinstance(item, int) else state.get("done", 0)
    if plan["delay_s"]:
        await asyncio.sleep(plan["delay_s"] * count)
    items = [_item(run_id, first + k, plan["data_size"]) for k in range(count)]
    return {"data": items, "done": count}


async def finish(state: FanoutState, config: RunnableConfig) -> dict[str, Any]:
    return {"tokens": [end_token(run_id_of(config))]}


def _fan(state: FanoutState) -> list[Send] | Literal["work"]:
    plan = state["plan"]
    if plan["mode"] == "parallel":
        return [Send("work", {"plan": plan, "item": i}) for i in range(plan["expand"])]
    return "work"


def _after_work(state: FanoutState) -> Literal["work", "finish"]:
    plan = state["plan"]
    if plan["mode"] == "sequential" and state.get("done", 0) < plan["expand"]:
        return "work"
    return "finish"


graph = (
    StateGraph(FanoutState)
    .add_node("begin", begin)
    .add_node("work", work)
    .add_node("finish", finish)
    .add_edge(START, "begin")
    .add_conditional_edges("begin", _fan, ["work"])
    .add_conditional_edges("work", _after_work, ["work", "finish"])
    .add_edge("finish", END)
    .compile(name="fanout")
)
