"""The registry of lgbench's bundled graphs: graph id, where it lives, what it does.

The embedded server registers each graph under its graph id. The server then creates one
default ("system") assistant per graph, whose ``assistant_id`` is a UUID derived from the
graph id (:func:`default_assistant_id`) and whose ``name`` is the graph id. Run requests
(the ``assistant_id`` field of ``runs.create`` / ``stream`` / ``wait``, crons) accept the
graph id itself; URL paths under ``/assistants/{assistant_id}/...`` do not (HTTP 422 on
langgraph-api 0.16): use the UUID there.

This module imports no LangGraph code: the graphs themselves are loaded by the server
process, from the ``target`` of each entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = [
    "BUNDLED_GRAPHS",
    "GRAPH_IDS",
    "BundledGraph",
    "default_assistant_id",
    "server_graphs_config",
]

# langgraph-api derives a graph's default assistant id as uuid5(namespace, graph_id) with
# this namespace (observed on langgraph-api 0.16: it is not one of the RFC 4122 ones).
_SERVER_GRAPH_NAMESPACE: Final = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


@dataclass(frozen=True, slots=True)
class BundledGraph:
    """One bundled graph.

    Attributes:
        graph_id: the id the server registers it under (also its assistant's name).
        target: ``module:attribute`` of the compiled graph, as the server imports it.
        description: one line shown as the default assistant's description.
    """

    graph_id: str
    target: str
    description: str


_registry: dict[str, BundledGraph] = {}


def _register(graph_id: str, module: str, description: str) -> None:
    # A duplicate id would silently shadow a graph on the server: refuse it.
    if graph_id in _registry:
        raise ValueError(f"bundled graph {graph_id!r} is registered twice")
    _registry[graph_id] = BundledGraph(graph_id, f"lgbench.graphs.{module}:graph", description)


_register(
    "sleepy",
    "_sleepy",
    "Sleeps `seconds` (input, else configurable, default 0.1) between start/end tokens.",
)
_register(
    "streamer",
    "_streamer",
    "Emits `n` updates, values, messages and custom events, `gap_s` apart.",
)
_register(
    "interrupting",
    "_interrupting",
    "Stops at a human-in-the-loop interrupt; resume with command={'resume': value}.",
)
_register(
    "failing",
    "_failing",
    "Raises IntentionalFailure after `seconds` (default 0): run and thread end in error.",
)
_register(
    "subgraph",
    "_subgraph",
    "A parent graph whose node `child` is a compiled two-step subgraph.",
)
_register(
    "storing",
    "_storing",
    "Writes `value` to the store at (`namespace`, `key`) and returns what it read back.",
)
_register(
    "chat",
    "_chat",
    "A chat model streaming `reply_tokens` tokens, `token_gap_s` apart, turn after turn.",
)
_register(
    "agent",
    "_agent",
    "A tool-calling loop: `steps` rounds of `tool_calls` tools, then a streamed answer.",
)
_register(
    "fanout",
    "_fanout",
    "Benchmark shapes: `mode` single, parallel or sequential, `expand` items of `data_size`.",
)

#: Every bundled graph by graph id (read-only).
BUNDLED_GRAPHS: Final[Mapping[str, BundledGraph]] = MappingProxyType(_registry)

#: The bundled graph ids, sorted.
GRAPH_IDS: Final[tuple[str, ...]] = tuple(sorted(_registry))


def default_assistant_id(graph_id: str) -> str:
    """The ``assistant_id`` of the default assistant the server creates for ``graph_id``.

    Run requests accept ``graph_id`` itself as ``assistant_id``; paths such as
    ``/assistants/{assistant_id}/subgraphs`` need this UUID, which is also what the server
    reports back in runs and searches.
    """
    return str(uuid.uuid5(_SERVER_GRAPH_NAMESPACE, graph_id))


def server_graphs_config() -> dict[str, dict[str, str]]:
    """The ``graphs`` mapping (as in ``langgraph.json``) that registers every bundled graph."""
    return {
        graph.graph_id: {"path": graph.target, "description": graph.description}
        for graph in _registry.values()
    }
