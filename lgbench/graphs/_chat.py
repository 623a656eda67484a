"""``chat``: a chat model streaming its reply token by token, turn after turn on a thread.

Input (all optional; each falls back to ``config["configurable"]``):
    ``message``: the user's message for this turn (a string; default ``"hello"``).
    ``reply_tokens``: how many tokens the reply has, an integer in [1, 100000] (default 20).
    ``token_gap_s``: seconds between two tokens, in [0, 10] (default 0).
    ``think_s``: seconds before the first token, in [0, 600] (default 0).

Steps: ``begin`` appends ``start:<run_id>`` and the user's message; ``respond`` calls a
scripted chat model (:mod:`lgbench.graphs._fake_model`) that streams the reply
(:func:`lgbench.graphs._reply.reply_tokens` of the run id and the turn: the number of
replies already in the conversation, plus one), one token per chunk; ``finish`` appends
``end:<run_id>``. In ``messages-tuple`` mode a run yields ``reply_tokens`` message chunks of
the reply (plus the user's message); the reply's message id is ``reply:<run_id>``.

Returns (thread state): ``tokens``, ``messages`` (the whole conversation: it grows by two
messages a turn, and so do the thread's checkpoints), ``turn`` (this run's turn number).
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels.ephemeral_value import EphemeralValue
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from lgbench.graphs._common import TokenState, pick_float, pick_int, run_id_of
from lgbench.graphs._fake_model import Script, ScriptedChatModel
from lgbench.graphs._reply import reply_tokens
from lgbench.graphs._tokens import end_token, start_token

__all__ = ["ChatState", "graph", "pick_message", "reply_script"]

DEFAULT_REPLY_TOKENS = 20
MAX_REPLY_TOKENS = 100_000

_MODEL = ScriptedChatModel()


class ChatState(TokenState, total=False):
    # Inputs are ephemeral so the next turn does not inherit them.
    message: Annotated[str, EphemeralValue(str)]
    reply_tokens: Annotated[int, EphemeralValue(int)]
    token_gap_s: Annotated[float, EphemeralValue(float)]
    think_s: Annotated[float, EphemeralValue(float)]
    messages: Annotated[list[AnyMessage], add_messages]
    turn: int
    # This run's reply, resolved by its first step (inputs do not outlive it).
    reply: dict[str, Any]


def pick_message(state: ChatState, config: RunnableConfig) -> str:
    """The user's message of this turn (input, else configurable, else ``"hello"``)."""
    given = state.get("message")
    if given is None:
        given = (config.get("configurable") or {}).get("message")
    if given is None:
        return "hello"
    if not isinstance(given, str):
        raise ValueError(f"message must be a string, got {given!r}")
    return given


def turn_of(messages: list[AnyMessage]) -> int:
    """This turn's number: the replies already in the conversation, plus one."""
    return sum(1 for m in messages if isinstance(m, AIMessage) and not m.tool_calls) + 1


def reply_script(state: ChatState, config: RunnableConfig, turn: int) -> Script:
    """The scripted model's answer for this turn (parameters checked, see module doc)."""
    run_id = run_id_of(config)
    n = pick_int(
        state.get("reply_tokens"), config, "reply_tokens", DEFAULT_REPLY_TOKENS,
        maximum=MAX_REPLY_TOKENS,
    )  # fmt: skip
    if n < 1:
        raise ValueError("reply_tokens must be at least 1")
    return Script(
        tokens=reply_tokens(run_id, turn, n),
        think_s=pick_float(state.get("think_s"), config, "think_s", 0.0, maximum=600.0),
        token_gap_s=pick_float(state.get("token_gap_s"), config, "token_gap_s", 0.0, maximum=10.0),
        message_id=f"reply:{run_id}",
    )


async def begin(state: ChatState, config: RunnableConfig) -> ChatState:
    run_id = run_id_of(config)
    turn = turn_of(state.get("messages", []))
    script = reply_script(state, config, turn)
    message = HumanMessage(content=pick_message(state, config), id=f"user:{run_id}")
    reply = {
        "tokens": list(script.tokens),
        "think_s": script.think_s,
        "token_gap_s": script.token_gap_s,
        "turn": turn,
    }
    return {"tokens": [start_token(run_id)], "messages": [message], "reply": reply}


async def respond(state: ChatState, config: RunnableConfig) -> ChatState:
    plan = state["reply"]
    script = Script(
        tokens=plan["tokens"],
        think_s=plan["think_s"],
        token_gap_s=plan["token_gap_s"],
        message_id=f"reply:{run_id_of(config)}",
    )
    answer = await _MODEL.ainvoke(state.get("messages", []), config, script=script)
    return {"messages": [answer], "turn": plan["turn"]}


async def finish(state: ChatState, config: RunnableConfig) -> ChatState:
    return {"tokens": [end_token(run_id_of(config))]}


graph = (
    StateGraph(ChatState)
    .add_node("begin", begin)
    .add_node("respond", respond)
    .add_node("finish", finish)
    .add_edge(START, "begin")
    .add_edge("begin", "respond")
    .add_edge("respond", "finish")
    .add_edge("finish", END)
    .compile(name="chat")
)
