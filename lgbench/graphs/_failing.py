"""``failing``: a run that raises, so the run and its thread end in ``error``.

Input (all optional; each falls back to ``config["configurable"]`` / ``context``):
    ``seconds``: how long to sleep before raising, in [0, 3600] (default 0), so a failing
        run can be in flight while others are queued behind it.
    ``message``: extra text for the error message.

Steps: ``begin`` appends ``start:<run_id>``; ``explode`` sleeps, then raises
:class:`IntentionalFailure` (a ``RuntimeError``). No ``end`` token is ever written. The
server reports the error with type ``IntentionalFailure`` and a message naming the run,
which tells an intended failure apart from a server fault.

Returns: nothing, it fails (``wait``/``join`` answer HTTP 200 with an ``__error__`` body).
"""

from __future__ import annotations

# Runs in the server's asyncio loop (see _sleepy.py).
import asyncio
from typing import Annotated

from langchain_core.runnables import RunnableConfig
from langgraph.channels.ephemeral_value import EphemeralValue
from langgraph.graph import END, START, StateGraph

from lgbench.graphs._common import TokenState, pick_float, run_id_of
from lgbench.graphs._tokens import start_token

__all__ = ["MAX_SECONDS", "FailingState", "IntentionalFailure", "graph"]

MAX_SECONDS = 3600.0


class IntentionalFailure(RuntimeError):
    """Raised on purpose by the ``failing`` graph."""


class FailingState(TokenState, total=False):
    seconds: Annotated[float, EphemeralValue(float)]
    message: Annotated[str, EphemeralValue(str)]
    fail_after_s: float
    reason: str


async def begin(state: FailingState, config: RunnableConfig) -> FailingState:
    seconds = pick_float(state.get("seconds"), config, "seconds", 0.0, maximum=MAX_SECONDS)
    return {
        "tokens": [start_token(run_id_of(config))],
        "fail_after_s": seconds,
        "reason": str(state.get("message", "")),
    }


async def explode(state: FailingState, config: RunnableConfig) -> FailingState:
    await asyncio.sleep(state.get("fail_after_s", 0.0))
    reason = state.get("reason") or "failing on purpose"
    raise IntentionalFailure(f"lgbench failing graph, run {run_id_of(config)}: {reason}")


graph = (
    StateGraph(FailingState)
    .add_node("begin", begin)
    .add_node("explode", explode)
    .add_edge(START, "begin")
    .add_edge("begin", "explode")
    .add_edge("explode", END)
    .compile(name="failing")
)
