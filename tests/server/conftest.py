"""Fixtures for tests against the real embedded server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest


@pytest.fixture(scope="session")
def client(langgraph_url: str) -> Iterator[httpx.Client]:
    """A plain httpx client on the session's embedded server (no proxies from the env)."""
    with httpx.Client(base_url=langgraph_url, timeout=60.0, trust_env=False) as http:
        yield http
