"""Shared fixtures: the anyio backends every async test runs on, and the real servers."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Wall-clock time is not what a property test checks: on a machine shared with other CPU-heavy
# work one example can take far longer than hypothesis's default 200 ms deadline, and generating
# data can be slow enough to trip the ``too_slow`` health check. Both would fail a correct test.
# Loaded here, at conftest import, so that every ``@settings(...)`` built by a test module later
# inherits it (a test that lists its own ``suppress_health_check`` extends this one's).
settings.register_profile("lgbench", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("lgbench")

_HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None


@pytest.fixture(
    params=[
        pytest.param(("asyncio", {"debug": True}), id="asyncio"),
        pytest.param(
            ("asyncio", {"use_uvloop": True}),
            id="asyncio+uvloop",
            marks=pytest.mark.skipif(not _HAVE_UVLOOP, reason="uvloop is not installed"),
        ),
        pytest.param(("trio", {}), id="trio"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """Every async test runs on asyncio (debug), asyncio+uvloop and trio."""
    backend: tuple[str, dict[str, Any]] = request.param
    return backend


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The real embedded server (``server``: started per test or once per session) and
    headless Chromium take seconds per test: such tests are ``slow`` too, so that
    ``pytest -m "not slow"`` answers fast; a test marked ``smoke`` stays in it."""
    for item in items:
        heavy = (
            item.get_closest_marker("server") is not None
            or item.get_closest_marker("chromium") is not None
            or "embedded_server" in getattr(item, "fixturenames", ())
        )
        if heavy and item.get_closest_marker("smoke") is None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def embedded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real LangGraph in-memory server with lgbench's bundled graphs, for the session.

    Sync and session-scoped on purpose: one server serves every backend's tests.
    """
    pytest.importorskip("langgraph_api", reason="needs the lgbench[server] extra")
    from lgbench.server import EmbeddedServer

    log_dir: Path = tmp_path_factory.mktemp("embedded-server")
    with EmbeddedServer(log_path=log_dir / "server.log") as server:
        yield server


@pytest.fixture(scope="session")
def langgraph_url(embedded_server: Any) -> str:
    """Base URL of the embedded server, e.g. ``http://127.0.0.1:43817``."""
    url: str = embedded_server.url
    return url
