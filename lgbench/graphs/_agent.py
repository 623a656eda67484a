"""``agent``: a tool-calling loop — a chat model asks for tools, round after round, then answers.

Input (all optional; each falls back to ``config["configurable"]``):
    ``message``: the user's message (default ``"hello"``).
    ``steps``: rounds of tool calls before the answer, an integer in [0, 100] (default 2).
    ``tool_calls``: tool calls the model asks for per round, in [1, 100] (default 2).
    ``tool_s``: seconds each tool call takes, in [0, 60] (default 0.01); a round's calls run
    at the same time.
    ``payload_bytes``: bytes each tool returns, in [0, 10 MiB] (default 256).
    ``reply_tokens``, ``token_gap_s``, ``think_s``: the final answer, as for ``chat``
    (``think_s`` also comes before each round's tool calls).

Steps: ``begin`` appends ``start:<run_id>`` and the user's message; then ``model`` and
``tools`` alternate ``steps`` times (the model's message carries ``tool_calls`` tool calls
``call:<run_id>:<round>:<j>``; ``tools`` answers each with a ``ToolMessage``); then ``model``
streams the answer (the same tokens as ``chat`` for the same run and turn) and ``finish``
appends ``end:<run_id>``. Checkpoints grow with every round: a realistic mix of model, tool
and checkpoint work per run.

Returns (thread state): ``tokens``, ``messages`` (the conversation, tool messages included),
``turn``, ``round`` (tool rounds done in the latest run).
"""

from __future__ import annotations

# Runs in the server's asyncio loop (see _sleepy.py).
import asyncio
from typing import Annotated, Any, Literal

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels.ephemeral_value import EphemeralValue
from langgraph.graph import END, START, StateGraph

from lgbench.graphs._chat import ChatState, pick_message, reply_script, turn_of
from lgbench.graphs._common import pick_float, pick_int, run_id_of
from lgbench.graphs._fake_model import Script, ScriptedChatModel
from lgbench.graphs._tokens import end_token, start_token

__all__ = ["AgentState", "graph"]

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024

_MODEL = ScriptedChatModel()


class AgentState(ChatState, total=False):
    steps: Annotated[int, EphemeralValue(int)]
    tool_calls: Annotated[int, EphemeralValue(int)]
    tool_s: Annotated[float, EphemeralValue(float)]
    payload_bytes: Annotated[int, EphemeralValue(int)]
    # This run's resolved plan, kept while it loops (inputs are gone after the first step).
    plan: dict[str, Any]
    round: int


async def begin(state: AgentState, config: RunnableConfig) -> AgentState:
    run_id = run_id_of(config)
    plan: dict[str, Any] = {
        "steps": pick_int(state.get("steps"), config, "steps", 2, maximum=100),
        "tool_calls": max(1, pick_int(state.get("tool_calls"), config, "tool_calls", 2,
                                      maximum=100)),
        "tool_s": pick_float(state.get("tool_s"), config, "tool_s", 0.01, maximum=60.0),
        "payload_bytes": pick_int(
            state.get("payload_bytes"), config, "payload_bytes", 256, maximum=MAX_PAYLOAD_BYTES
        ),
    }  # fmt: skip
    # The answer's parameters are read now: inputs do not outlive the first step.
    turn = turn_of(state.get("messages", []))
    script = reply_script(state, config, turn)
    plan.update(reply=list(script.tokens), think_s=script.think_s, token_gap_s=script.token_gap_s)
    message = HumanMessage(content=pick_message(state, config), id=f"user:{run_id}")
    return {"tokens": [start_token(run_id)], "messages": [message], "plan": plan, "round": 0}


async def model(state: AgentState, config: RunnableConfig) -> AgentState:
    run_id = run_id_of(config)
    plan = state["plan"]
    done = state.get("round", 0)
    messages = state.get("messages", [])
    if done < plan["steps"]:
        calls = [
            {
                "name": "lookup",
                "args": {"round": done, "call": j},
                "id": f"call:{run_id}:{done}:{j}",
            }
            for j in range(plan["tool_calls"])
        ]
        script = Script(
            tool_calls=calls, think_s=plan["think_s"], message_id=f"ask:{run_id}:{done}"
        )
    else:
        script = Script(
            tokens=plan["reply"],
            think_s=plan["think_s"],
            token_gap_s=plan["token_gap_s"],
            message_id=f"reply:{run_id}",
        )
    answer = await _MODEL.ainvoke(messages, config, script=script)
    update: AgentState = {"messages": [answer]}
    if not script.tool_calls:
        update["turn"] = turn_of(messages)
    return update


async def tools(state: AgentState, config: RunnableConfig) -> AgentState:
    plan = state["plan"]
    asked = state["messages"][-1]
    assert isinstance(asked, AIMessage)

    async def call(tool_call: dict[str, Any]) -> ToolMessage:
        await asyncio.sleep(plan["tool_s"])
        head = f"{tool_call['id']}:"
        body = head + "x" * max(0, plan["payload_bytes"] - len(head))
        return ToolMessage(content=body, tool_call_id=tool_call["id"], name=tool_call["name"])

    results = await asyncio.gather(*(call(dict(c)) for c in asked.tool_calls))
    return {"messages": list(results), "round": state.get("round", 0) + 1}


async def finish(state: AgentState, config: RunnableConfig) -> AgentState:
    return {"tokens": [end_token(run_id_of(config))]}


def _after_model(state: AgentState) -> Literal["tools", "finish"]:
    last = state["messages"][-1]
    return "tools" if isinstance(last, AIMessage) and last.tool_calls else "finish"


graph = (
    StateGraph(AgentState)
    .add_node("begin", begin)
    .add_node("model", model)
    .add_node("tools", tools)
    .add_node("finish", finish)
    .add_edge(START, "begin")
    .add_edge("begin", "model")
    .add_conditional_edges("model", _after_model)
    .add_edge("tools", "model")
    .add_edge("finish", END)
    .compile(name="agent")
)
