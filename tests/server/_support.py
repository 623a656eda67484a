"""Helpers for the embedded-server tests: SSE parsing, polling, process checks."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

__all__ = ["group_gone", "parse_sse", "wait_until"]

T = TypeVar("T")


def parse_sse(lines: Iterable[str]) -> list[tuple[str, Any]]:
    """(event, decoded data) pairs from SSE lines; comments and ids are skipped."""
    events: list[tuple[str, Any]] = []
    event: str | None = None
    data: list[str] = []
    for line in lines:
        if not line:
            if event is not None or data:
                payload = "\n".join(data)
                events.append((event or "message", json.loads(payload) if payload else None))
            event, data = None, []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:") :].lstrip(" "))
    if event is not None or data:
        payload = "\n".join(data)
        events.append((event or "message", json.loads(payload) if payload else None))
    return events


def wait_until(
    probe: Callable[[], T | None], *, timeout_s: float = 30.0, what: str = "condition"
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after a generous deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def group_gone(pgid: int) -> bool:
    """Whether no process of group ``pgid`` is left (``killpg(pgid, 0)`` finds none)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False
