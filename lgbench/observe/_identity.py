"""What the target says it is: its ``GET /info`` answer, kept compact, and a name to show.

lgbench drives any server that speaks the LangGraph API, so it never assumes which one it
talks to. The name comes from ``/info`` itself: a ``name`` (or ``server``, ``server_name``,
``implementation``, ``product``) field when there is one; langgraph-api's own ``/info`` has
no name field, and is recognised by the fields it does have (``version``,
``langgraph_py_version`` and ``flags``). Anything else is an ``"unknown server"``, and so is a
target that has no ``/info`` (that is not an error: ``/info`` is optional for lgbench).

The answer itself is kept in ``summary.json`` (``server.info``) bounded, whatever the server
puts in it: at most :data:`MAX_KEYS` keys per table, :data:`MAX_ITEMS` items per array,
:data:`MAX_DEPTH` levels, strings cut at :data:`MAX_TEXT` characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "REFERENCE_SERVER",
    "UNKNOWN_SERVER",
    "compact_info",
    "describe_server",
    "server_label",
]

REFERENCE_SERVER: Final = "langgraph-api"
"""The name of the reference server (whose ``/info`` carries no name of its own)."""

UNKNOWN_SERVER: Final = "unknown server"
"""The name of a server whose ``/info`` names nothing lgbench recognises, or that has none."""

MAX_KEYS: Final = 16
MAX_ITEMS: Final = 8
MAX_DEPTH: Final = 3
MAX_TEXT: Final = 120

_NAME_KEYS: Final = ("name", "server", "server_name", "implementation", "product")
_VERSION_KEYS: Final = ("version", "server_version")
_REFERENCE_KEYS: Final = frozenset({"version", "langgraph_py_version", "flags"})


def _text(value: str) -> str:
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"


def compact_info(value: Any, depth: int = 0) -> Any:
    """``value`` (decoded JSON) cut to the bounds of the module docstring."""
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, Mapping):
        items = list(value.items())
        kept = {_text(str(key)): compact_info(item, depth + 1) for key, item in items[:MAX_KEYS]}
        if len(items) > MAX_KEYS:
            kept["…"] = f"{len(items) - MAX_KEYS} more keys"
        return kept
    if isinstance(value, list | tuple):
        kept_items = [compact_info(item, depth + 1) for item in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            kept_items.append(f"… {len(value) - MAX_ITEMS} more")
        return kept_items
    return _text(repr(value))


def _string(info: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = info.get(key)
        if isinstance(value, str) and value.strip():
            return _text(value.strip())
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return None


def describe_server(info: Any, *, status: int | None = None) -> dict[str, Any]:
    """``summary.json``'s ``server``: ``name``, ``version``, ``langgraph_py_version``,
    ``label`` (what the terminal and the report show) and ``info`` (the answer, compact).

    ``info`` is the decoded ``/info`` answer, or None when there was none; ``status`` is the
    HTTP status of a ``/info`` that answered with an error (kept as ``info_status``).
    """
    described: dict[str, Any] = {
        "name": UNKNOWN_SERVER,
        "version": None,
        "langgraph_py_version": None,
        "label": UNKNOWN_SERVER,
        "info": None if info is None else compact_info(info),
    }
    if status is not None:
        described["info_status"] = status
    if not isinstance(info, Mapping):
        return described
    name = _string(info, _NAME_KEYS)
    if name is None and info.keys() >= _REFERENCE_KEYS:
        name = REFERENCE_SERVER
    described["name"] = name or UNKNOWN_SERVER
    described["version"] = _string(info, _VERSION_KEYS)
    described["langgraph_py_version"] = _string(info, ("langgraph_py_version",))
    described["label"] = server_label(described)
    return described


def server_label(server: Any) -> str:
    """How a ``server`` entry (of ``summary.json`` or a history header) is shown:
    ``"langgraph-api 0.16.7"``, ``"my-server 2.0"``, ``"unknown server (version 1.2)"``.

    An entry written before lgbench recorded the name has only a version: it is shown as
    ``"version 0.16.7"``, never with a name it did not record.
    """
    if not isinstance(server, Mapping):
        return UNKNOWN_SERVER
    version = server.get("version")
    name = server.get("name")
    if not isinstance(name, str) or not name:
        return f"version {version}" if version else UNKNOWN_SERVER
    if not version:
        return name
    if name == UNKNOWN_SERVER:
        return f"{name} (version {version})"
    return f"{name} {version}"
