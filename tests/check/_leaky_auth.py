"""Deliberately leaky Auth objects for the embedded server: lgbench's bundled owner-only
handlers, each with one hole.

- ``auth``: ``threads.search`` forgets its owner filter (every user sees every thread);
- ``owner_auth``: every thread is stamped as ``user-1``'s, whoever created it.
"""

from __future__ import annotations

from lgbench.server._auth import build_auth

auth = build_auth(leak={"threads.search"})
owner_auth = build_auth(leak={"threads.owner"})
