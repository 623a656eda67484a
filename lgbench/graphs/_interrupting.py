"""``interrupting``: a human-in-the-loop run that stops at ``interrupt(...)``.

Input (optional):
    ``question``: the text put in the interrupt's value (default ``"continue?"``).

Steps: ``begin`` appends ``start:<run_id>`` and ``ask`` calls ``interrupt(...)`` with
``{"question": ..., "run_id": <the interrupted run>}``. That run then ends ``success`` and
the thread becomes ``interrupted``, with one pending interrupt. A later run on the thread
with ``command={"resume": value}`` re-executes ``ask``: ``interrupt`` returns ``value``,
``ask`` appends ``start:<resuming run>`` and stores the value as ``answer``, and
``finish`` appends ``end:<resuming run>``; the thread goes back to ``idle``.

So the interrupted run leaves ``start`` without ``end``, and the resuming run leaves both.

Returns (thread state): ``tokens``, ``asked`` (the question of the latest run),
``answer`` (the latest resume value).
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.runnables import RunnableConfig
from langgraph.channels.ephemeral_value import EphemeralValue
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from lgbench.graphs._common import TokenState, run_id_of
from lgbench.graphs._tokens import end_token, start_token

__all__ = ["DEFAULT_QUESTION", "InterruptingState", "graph"]

DEFAULT_QUESTION = "continue?"


class InterruptingState(TokenState, total=False):
    question: Annotated[str, EphemeralValue(str)]
    asked: str
    answer: Any


async def begin(state: InterruptingState, config: RunnableConfig) -> InterruptingState:
    question = state.get("question")
    if question is None:
        question = DEFAULT_QUESTION
    elif not isinstance(question, str):
        raise ValueError(f"question must be a string, got {question!r}")
    return {"tokens": [start_token(run_id_of(config))], "asked": question}


async def ask(state: InterruptingState, config: RunnableConfig) -> InterruptingState:
    # The first execution stops here; on resume the node runs again from the top and
    # interrupt() returns the resume value, under the resuming run's id.
    answer = interrupt(
        {"question": state.get("asked", DEFAULT_QUESTION), "run_id": run_id_of(config)}
    )
    return {"tokens": [start_token(run_id_of(config))], "answer": answer}


async def finish(state: InterruptingState, config: RunnableConfig) -> InterruptingState:
    return {"tokens": [end_token(run_id_of(config))]}


graph = (
    StateGraph(InterruptingState)
    .add_node("begin", begin)
    .add_node("ask", ask)
    .add_node("finish", finish)
    .add_edge(START, "begin")
    .add_edge("begin", "ask")
    .add_edge("ask", "finish")
    .add_edge("finish", END)
    .compile(name="interrupting")
)
