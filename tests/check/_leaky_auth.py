"""A deliberately leaky Auth for the embedded server: lgbench's bundled owner-only handlers,
except that ``threads.search`` forgets its owner filter (every user sees every thread)."""

from __future__ import annotations

from lgbench.server._auth import build_auth

auth = build_auth(leak={"threads.search"})
