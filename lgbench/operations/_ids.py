"""Ids from what a step holds: an id string, or a saved object such as a created thread."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from lgbench._toml import TemplateError

__all__ = ["resolve_id"]

_PREVIEW_CHARS = 80


def _preview(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 3] + "..."


def resolve_id(value: Any, kind: str) -> str:
    """The id of ``kind`` (``"thread"``, ``"run"``, ``"assistant"``, ``"cron"``) in ``value``.

    A string is an id already; a saved object (a table such as the thread that
    ``threads.create`` returned) gives its ``<kind>_id`` field. Raises
    :class:`~lgbench._toml.TemplateError` when there is no such field.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    key = kind if kind.endswith("_id") else f"{kind}_id"
    found = value.get(key) if isinstance(value, Mapping) else getattr(value, key, None)
    if isinstance(found, str):
        return found
    raise TemplateError(
        f"cannot use {_preview(value)} as a {key.removesuffix('_id')} id: it has no {key}",
        f"an id string or an object with a {key} field",
    )
