"""The embedded LangGraph server: the real in-memory langgraph-api with lgbench's graphs.

Needs the ``lgbench[server]`` extra (langgraph-api is Elastic-2.0 licensed, so it is
never a hard dependency). See :mod:`lgbench.server._embedded` for the lifecycle and
:mod:`lgbench.graphs` for the graphs it serves.
"""

from __future__ import annotations

from lgbench.server._embedded import (
    DEFAULT_N_JOBS_PER_WORKER,
    DEFAULT_STARTUP_TIMEOUT_S,
    STOP_TIMEOUT_S,
    AsyncEmbeddedServer,
    EmbeddedServer,
    ServerConfigError,
    open_embedded_server,
    probe_ready,
    server_extra_installed,
)
from lgbench.server._fixture_tokens import AUTH_SECRET_ENV, fixture_token

__all__ = [
    "AUTH_SECRET_ENV",
    "DEFAULT_N_JOBS_PER_WORKER",
    "DEFAULT_STARTUP_TIMEOUT_S",
    "STOP_TIMEOUT_S",
    "AsyncEmbeddedServer",
    "EmbeddedServer",
    "ServerConfigError",
    "fixture_token",
    "open_embedded_server",
    "probe_ready",
    "server_extra_installed",
]

# Show the public names as lgbench.server.X in reprs, docs and tracebacks.
for _obj in (
    AsyncEmbeddedServer,
    EmbeddedServer,
    ServerConfigError,
    fixture_token,
    open_embedded_server,
    probe_ready,
    server_extra_installed,
):
    _obj.__module__ = __name__
del _obj
