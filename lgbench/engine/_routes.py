"""Operations the server does not implement: told apart from resources it does not have.

A LangGraph-compatible server may leave out whole route families (``POST
/threads/{thread_id}/copy``, ``POST /runs/batch``, the crons...). Sent thousands of times,
such an operation would drown the run's errors in identical 404s; lgbench reports it once,
by name, as *unsupported*, and stops sending it (:meth:`RouteSupport.unsupported`: the actor
skips the call and counts it).

A 404 alone does not say which is missing, the route or the resource: the reference server
answers ``{"detail": "Thread with ID … not found"}`` for a thread that does not exist, but
the framework's generic ``{"detail": "Not Found"}`` both for a path it has no route for and
for some missing resources (a run of an existing thread, an assistant's graph, a cron). So
an operation is judged unsupported only when

- the server answered ``405 Method Not Allowed`` (the path exists, for other methods only), or
- it answered ``404`` with a generic body (no resource named: "Not Found", an HTML page,
  "Cannot POST /…", an empty body), **and** an ``OPTIONS`` request to the same path also
  answers 404. A path that has a route answers OPTIONS otherwise (405, or 200/204 where
  OPTIONS is served), whatever resource it names: that is how the reference server behaves
  for every route an operation uses, so a missing resource there is never taken for a
  missing route.

A 404 that names the resource, or an OPTIONS that finds the path, settles that the route
exists: that operation is not probed again. An OPTIONS that cannot be sent (a transport
error) leaves the question open for later failures, up to :data:`MAX_PROBES` probes.

Routes are told apart by operation *and* shape: ``runs.wait`` on a thread (``POST
/threads/{thread_id}/runs/wait``) and stateless (``POST /runs/wait``) are separate, and so
are the raw ``http.*`` operations per path (UUIDs in it count as one). The path template
replaces every segment equal to one of the call's ids with its name
(``/threads/{thread_id}/copy``), and any other UUID segment with ``{id}``.
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias, final

from lgbench.client import ApiError

__all__ = ["MAX_PROBES", "RouteSupport", "UnsupportedRoute", "is_generic_not_found"]

MAX_PROBES: Final = 3
"""OPTIONS probes per route whose answer could not be had, before lgbench stops asking."""

_ID_PARAMS: Final = ("thread_id", "run_id", "assistant_id", "cron_id")
_GENERIC: Final = re.compile(
    r"(?:404[:\s-]*)?(?:(?:page |resource |route |endpoint |path )?not found)?"
    r"|cannot (?:get|post|put|patch|delete|options|head) \S*|no route .*|unknown (?:route|path).*",
    re.IGNORECASE,
)
_REASONS: Final = {404: "Not Found", 405: "Method Not Allowed"}
_UUID: Final = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")

#: (operation, stateless, raw path, raw method): the routes one operation may take.
RouteKey: TypeAlias = tuple[str, bool, str | None, str | None]

#: Sends ``OPTIONS path``: the status it answered, or None when no answer came.
Prober: TypeAlias = Callable[[str], Awaitable[int | None]]


def route_key(operation: str, kwargs: Mapping[str, Any]) -> RouteKey:
    """Which route family of ``operation`` a call with ``kwargs`` goes to."""
    path = kwargs.get("path")
    method = kwargs.get("method")
    return (
        operation,
        "thread_id" in kwargs and kwargs["thread_id"] is None,
        path_template(path, {}) if isinstance(path, str) else None,
        method.upper() if isinstance(method, str) else None,
    )


def path_template(path: str, kwargs: Mapping[str, Any]) -> str:
    """``path`` (no query) with each segment equal to one of the call's ids named instead,
    and any other segment that is a UUID written ``{id}`` (a raw ``http.*`` path's ids)."""
    path = path.split("?", 1)[0]
    ids = {
        str(kwargs[name]): name
        for name in _ID_PARAMS
        if isinstance(kwargs.get(name), str) and kwargs[name]
    }
    segments = path.split("/")
    for index, segment in enumerate(segments):
        name = ids.get(urllib.parse.unquote(segment))
        if name is not None:
            segments[index] = "{" + name + "}"
        elif _UUID.fullmatch(segment):
            segments[index] = "{id}"
    return "/".join(segments)


def _body_text(body: Any) -> str | None:
    """The message of an error body, or None when it has no single message."""
    if body is None:
        return ""
    if isinstance(body, str):
        text = body.strip()
        if text.startswith("<"):  # an HTML error page: a framework's, not the API's
            return ""
        return text
    if isinstance(body, Mapping):
        for key in ("detail", "message", "error", "title"):
            value = body.get(key)
            if isinstance(value, str):
                return value.strip()
        return "" if not body else None
    return None


def is_generic_not_found(body: Any) -> bool:
    """Whether a 404's body names no resource (a framework's "no such route" answer)."""
    text = _body_text(body)
    if text is None:
        return False
    return _GENERIC.fullmatch(text.rstrip(".!")) is not None


@final
@dataclass(slots=True)
class UnsupportedRoute:
    """An operation the server does not implement (one route family of it).

    ``answered``: its calls the server answered 404/405 (before lgbench knew, or while it
    probed); ``skipped``: its calls not sent since.
    """

    operation: str
    method: str
    path: str
    status: int
    answered: int = 0
    skipped: int = 0

    @property
    def count(self) -> int:
        """Every call of it: answered, and not sent."""
        return self.answered + self.skipped

    def message(self) -> str:
        """The warning: ``the server does not implement threads.copy (POST … answered 404
        Not Found)``."""
        reason = _REASONS.get(self.status, "")
        return (
            f"the server does not implement {self.operation} ({self.method} {self.path}"
            f" answered {self.status} {reason}".rstrip()
            + "); its later calls were not sent (counted as unsupported)"
        )

    def to_dict(self) -> dict[str, Any]:
        """One entry of ``summary.json``'s ``unsupported``."""
        return {
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "count": self.count,
            "answered": self.answered,
            "skipped": self.skipped,
        }


@final
class RouteSupport:
    """Which operations the server lacks, for every actor of a run (module docstring).

    ``warn(key, message)`` receives one warning per unsupported operation.
    """

    __slots__ = ("_exists", "_pending", "_probes", "_probing", "_unsupported", "_warn")

    def __init__(self, warn: Callable[[str, str], None]) -> None:
        self._warn = warn
        self._unsupported: dict[RouteKey, UnsupportedRoute] = {}
        self._exists: set[RouteKey] = set()
        self._probing: set[RouteKey] = set()
        self._probes: dict[RouteKey, int] = {}
        self._pending: dict[RouteKey, int] = {}

    def __bool__(self) -> bool:
        """True once some operation is known to be unsupported (a cheap test per call)."""
        return bool(self._unsupported)

    def unsupported(self, operation: str, kwargs: Mapping[str, Any]) -> UnsupportedRoute | None:
        """The unsupported route a call would take, or None (then send it)."""
        if not self._unsupported:
            return None
        return self._unsupported.get(route_key(operation, kwargs))

    async def judge(
        self, operation: str, kwargs: Mapping[str, Any], exc: ApiError, probe: Prober
    ) -> UnsupportedRoute | None:
        """After a call answered ``exc``: the route, when this answer shows it is missing."""
        status = exc.status_code
        if status not in (404, 405):
            return None
        key = route_key(operation, kwargs)
        found = self._unsupported.get(key)
        if found is not None:
            found.answered += 1  # sent before lgbench knew
            return found
        if key in self._exists:
            return None
        if status == 404:
            if not is_generic_not_found(exc.body):
                self._exists.add(key)  # the answer names the resource: the route is there
                return None
            self._pending[key] = self._pending.get(key, 0) + 1
            if key in self._probing or self._probes.get(key, 0) >= MAX_PROBES:
                return None
            self._probing.add(key)
            try:
                self._probes[key] = self._probes.get(key, 0) + 1
                options = await probe(exc.path.split("?", 1)[0])
            finally:
                self._probing.discard(key)
            if options is None:
                return None  # no answer: ask again after a later failure
            if options != 404:
                self._exists.add(key)
                self._pending.pop(key, None)
                return None
        else:
            self._pending[key] = self._pending.get(key, 0) + 1
        found = self._unsupported[key] = UnsupportedRoute(
            operation,
            exc.method or "?",
            path_template(exc.path, kwargs),
            status,
            answered=self._pending.pop(key, 1),
        )
        self._warn(f"unsupported:{key}", found.message())
        return found

    def routes(self) -> list[UnsupportedRoute]:
        """Every unsupported route found, by operation then path."""
        return sorted(self._unsupported.values(), key=lambda r: (r.operation, r.path, r.method))

    def to_list(self) -> list[dict[str, Any]]:
        """``summary.json``'s ``unsupported``."""
        return [route.to_dict() for route in self.routes()]

    def copy(self) -> RouteSupport:
        """What is known so far, frozen for a summary in another thread (it judges nothing)."""
        twin = RouteSupport(self._warn)
        twin._unsupported = {key: dataclasses.replace(r) for key, r in self._unsupported.items()}
        twin._exists = set(self._exists)
        return twin
