"""lgbench's bundled test graphs for the embedded LangGraph server.

Nine real LangGraph graphs, registered on the embedded server under these graph ids (each
module's docstring lists its input keys and what it returns; docs/graphs.md has them all):

========================  ================================================================
``sleepy``                sleeps ``seconds``; the workhorse for multitask semantics
``streamer``              emits ``n`` events of every stream mode, ``gap_s`` apart
``interrupting``          stops at ``interrupt(...)``; resumed with ``command={"resume": x}``
``failing``               raises: the run and the thread end in ``error``
``subgraph``              a parent graph with a compiled subgraph node
``storing``               writes and reads the store
``chat``                  a scripted chat model streams ``reply_tokens`` tokens, turn by turn
``agent``                 a tool-calling loop: ``steps`` rounds of tools, then an answer
``fanout``                benchmark shapes: one node, ``expand`` parallel branches, a chain
========================  ================================================================

Every graph appends ``start:<run_id>`` and ``end:<run_id>`` tokens to the ``tokens`` list
in state (see :mod:`lgbench.graphs._tokens`), so the order and overlap of runs on a thread
can be read back afterwards.

Always send an input (``{}`` at least): a run created with no input resumes the thread
from its last checkpoint, which on a thread whose last run finished executes nothing, and
the run still ends ``success`` without writing a token (observed on langgraph-api 0.16).

Importing this package needs no LangGraph: the graph modules (``lgbench.graphs._sleepy``
and siblings) are imported by the server process only.
"""

from __future__ import annotations

from lgbench.graphs._registry import (
    BUNDLED_GRAPHS,
    GRAPH_IDS,
    BundledGraph,
    default_assistant_id,
    server_graphs_config,
)
from lgbench.graphs._reply import reply_text, reply_tokens
from lgbench.graphs._tokens import TOKENS_KEY, TokenKind, end_token, parse_token, start_token

__all__ = [
    "BUNDLED_GRAPHS",
    "GRAPH_IDS",
    "TOKENS_KEY",
    "BundledGraph",
    "TokenKind",
    "default_assistant_id",
    "end_token",
    "parse_token",
    "reply_text",
    "reply_tokens",
    "server_graphs_config",
    "start_token",
]

# Show the public names as lgbench.graphs.X in reprs, docs and tracebacks.
for _obj in (
    BundledGraph,
    default_assistant_id,
    end_token,
    parse_token,
    reply_text,
    reply_tokens,
    server_graphs_config,
    start_token,
):
    _obj.__module__ = __name__
del _obj
