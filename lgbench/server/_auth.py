"""The embedded server's bundled Auth handlers: fixture tokens, owner-only resources.

Loaded by the server process (``langgraph.json``'s ``auth`` entry, passed to ``run_server``
as ``{"path": "lgbench.server._auth:auth"}``) when the embedded server runs with auth
(``[target.embedded] auth = true``, ``lgbench serve --auth``).

Tokens are lgbench's *fixture tokens*: ``lgbench.<identity>.<signature>``, where the
signature is the first 32 hex digits of HMAC-SHA256(secret, identity) and the secret is the
server's ``LGBENCH_AUTH_SECRET`` (lgbench makes a random one per run; ``lgbench serve
--auth`` reads it from the environment). :func:`fixture_token` mints one. A token is accepted
from ``Authorization: Bearer …`` or ``x-api-key``; anything else is a 401.

Authorization is owner-only, the way the LangGraph SDK reference's examples do it: a create
stamps ``metadata.owner = identity``; every other action on threads (their runs included),
assistants and crons returns the filter ``{"owner": identity}``, which the server applies on
reads, updates, deletes and searches (so another user's resource is a 404, and a search never
lists it); the bundled graphs' system assistants stay readable to everyone. A store namespace
belongs to the user named by its first element: any other namespace is a 403, and listing
namespaces without a prefix lists the user's own.

Deliberately leaky variants for tests are made with :func:`build_auth` (``leak=...``).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import Any, Final

from langgraph_sdk import Auth

from lgbench.server._fixture_tokens import AUTH_SECRET_ENV, identity_of

__all__ = ["AUTH_PATH", "LEAKS", "auth", "build_auth"]

#: What ``run_server(auth={"path": ...})`` loads.
AUTH_PATH: Final = "lgbench.server._auth:auth"
#: The holes :func:`build_auth` can be asked to leave, for tests of the isolation checker.
LEAKS: Final = frozenset({"threads.search", "threads.read", "store.get", "threads.owner"})

#: The bundled graphs' own assistants: made by the server, owned by nobody, readable by all.
_SYSTEM: Final = {"created_by": "system"}


def _unauthorized() -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=401, detail="invalid or missing token")


def build_auth(secret: str | None = None, *, leak: Collection[str] = ()) -> Auth:
    """Auth handlers for the fixture tokens of ``secret`` (None: read ``LGBENCH_AUTH_SECRET``
    at each request). ``leak`` names holes to leave (:data:`LEAKS`), for tests only."""
    unknown = set(leak) - LEAKS
    if unknown:
        raise ValueError(f"unknown leaks {sorted(unknown)}; known: {sorted(LEAKS)}")
    leaks = frozenset(leak)
    handlers = Auth()

    @handlers.authenticate
    async def authenticate(headers: dict[bytes, bytes]) -> Auth.types.MinimalUserDict:
        key = secret if secret is not None else os.environ.get(AUTH_SECRET_ENV, "")
        raw = headers.get(b"authorization") or b""
        scheme, _, token = raw.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer":
            token = (headers.get(b"x-api-key") or b"").decode("latin-1")
        identity = identity_of(token.strip(), key)
        if identity is None:
            raise _unauthorized()
        return {"identity": identity, "permissions": []}

    def owner(ctx: Auth.types.AuthContext) -> dict[str, Any]:
        return {"owner": ctx.user.identity}

    def stamp(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> dict[str, Any]:
        metadata = value.get("metadata")
        if not isinstance(metadata, dict):
            metadata = value["metadata"] = {}
        metadata["owner"] = ctx.user.identity
        return owner(ctx)

    @handlers.on.threads.create
    async def thread_create(ctx: Auth.types.AuthContext, value: Any) -> Any:
        if "threads.owner" in leaks:
            # Every thread stamped as the first user's: what others create is not theirs.
            metadata = value.get("metadata")
            if not isinstance(metadata, dict):
                metadata = value["metadata"] = {}
            metadata["owner"] = "user-1"
            return None
        return stamp(ctx, value)

    @handlers.on.threads.create_run
    async def thread_create_run(ctx: Auth.types.AuthContext, value: Any) -> Any:
        # The run's own metadata is stamped; the filter keeps it on the user's own thread.
        return stamp(ctx, value)

    @handlers.on.threads.search
    async def thread_search(ctx: Auth.types.AuthContext, value: Any) -> Any:
        return None if "threads.search" in leaks else owner(ctx)

    @handlers.on.threads.read
    async def thread_read(ctx: Auth.types.AuthContext, value: Any) -> Any:
        return None if "threads.read" in leaks else owner(ctx)

    @handlers.on.threads
    async def threads_other(ctx: Auth.types.AuthContext, value: Any) -> Any:
        return owner(ctx)  # update, delete

    @handlers.on.assistants.create
    async def assistant_create(ctx: Auth.types.AuthContext, value: Any) -> Any:
        return stamp(ctx, value)

    @handlers.on.assistants
    async def assistants_other(ctx: Auth.types.AuthContext, value: Any) -> Any:
        if ctx.action in ("read", "search"):
            return {"$or": [owner(ctx), dict(_SYSTEM)]}
        return owner(ctx)

    @handlers.on.crons.create
    async def cron_create(ctx: Auth.types.AuthContext, value: Any) -> Any:
        return stamp(ctx, value)

    @handlers.on.crons
    async def crons_other(ctx: Auth.types.AuthContext, value: Any) -> Any:
        return owner(ctx)

    @handlers.on.store
    async def store(ctx: Auth.types.AuthContext, value: Any) -> Any:
        identity = ctx.user.identity
        namespace = value.get("namespace")
        if ctx.action == "list_namespaces" and not namespace:
            value["namespace"] = (identity,)
            return None
        if ctx.action == "get" and "store.get" in leaks:
            return None
        if not namespace or namespace[0] != identity:
            raise Auth.exceptions.HTTPException(
                status_code=403, detail="a store namespace starts with its owner's identity"
            )
        return None

    return handlers


#: What the embedded server loads (its secret from ``LGBENCH_AUTH_SECRET``).
auth: Final = build_auth()
