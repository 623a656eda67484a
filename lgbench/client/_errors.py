"""Errors of the LangGraph client, one tree under :class:`lgbench.errors.LgbenchError`::

    ClientError
    ├── TransportError              the exchange itself failed (no usable response)
    │   ├── ConnectError            connection refused / unreachable / DNS
    │   ├── NetworkError            reset or closed mid-exchange
    │   ├── TimeoutError            (also a subclass of builtins.TimeoutError)
    │   │   ├── ConnectTimeout
    │   │   ├── ReadTimeout         no byte within the read timeout
    │   │   └── RequestTimeout      the whole request exceeded its deadline
    │   └── ProtocolError           the peer broke HTTP/1.1 or SSE framing
    │       └── ResponseLimitError  an answer past a limit (body size, event size,
    │                               JSON depth: lgbench.client.Limits, docs/security.md)
    ├── RunError                    (lgbench.client._runs) a run's graph failed:
    │                               wait/join answered 200 with an ``__error__`` body
    └── ApiError(status_code, body) the server answered with a status >= 300
        ├── RedirectError           3xx: redirects are never followed silently
        ├── BadRequestError         400
        ├── AuthenticationError     401
        ├── PermissionDeniedError   403
        ├── NotFoundError           404
        ├── ConflictError           409 (e.g. multitask_strategy="reject")
        ├── UnprocessableEntityError 422
        ├── RateLimitError          429
        └── InternalServerError     >= 500

Foreign exceptions (OSError, anyio, httptools, h11, httpx) are translated in one
place per transport; nothing else raises them to users.
"""

from __future__ import annotations

import builtins
from typing import Any, ClassVar

from lgbench.errors import LgbenchError
from lgbench.exitcodes import ExitCode

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ClientError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeout",
    "InternalServerError",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitError",
    "ReadTimeout",
    "RedirectError",
    "RequestTimeout",
    "ResponseLimitError",
    "TimeoutError",
    "TransportError",
    "UnprocessableEntityError",
    "api_error_for_status",
]


class ClientError(LgbenchError):
    """Base of every error of :mod:`lgbench.client`."""


class TransportError(ClientError):
    """The HTTP exchange failed before a complete response arrived."""

    exit_code: ClassVar[ExitCode] = ExitCode.TARGET


class ConnectError(TransportError):
    """The connection could not be opened (refused, unreachable, bad address)."""


class NetworkError(TransportError):
    """The connection was reset or closed during the exchange."""


class TimeoutError(TransportError, builtins.TimeoutError):  # shadows the builtin on purpose
    """A timeout expired."""


class ConnectTimeout(TimeoutError):
    """Opening the connection took longer than the connect timeout."""


class ReadTimeout(TimeoutError):
    """No byte arrived within the read timeout."""


class RequestTimeout(TimeoutError):
    """The whole request took longer than its total timeout."""


class ProtocolError(TransportError):
    """The peer broke the HTTP/1.1 or SSE framing."""


class ResponseLimitError(ProtocolError):
    """An answer went past one of :class:`~lgbench.client.Limits` (a body or an event
    larger than allowed, JSON nested too deep): the operation fails, lgbench goes on."""


class ApiError(ClientError):
    """The server answered with an error status.

    ``body`` is the decoded JSON body when it is JSON, else the text.
    """

    def __init__(
        self,
        status_code: int,
        body: Any,
        *,
        method: str = "",
        path: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.method = method
        self.path = path
        self.headers = dict(headers or {})
        detail = body.get("detail", body) if isinstance(body, dict) else body
        where = f" for {method} {path}" if method else ""
        super().__init__(f"HTTP {status_code}{where}: {detail!r}")


class RedirectError(ApiError):
    """A 3xx answer; ``location`` says where the server pointed."""

    @property
    def location(self) -> str | None:
        return self.headers.get("location")


class BadRequestError(ApiError):
    """HTTP 400."""


class AuthenticationError(ApiError):
    """HTTP 401."""


class PermissionDeniedError(ApiError):
    """HTTP 403."""


class NotFoundError(ApiError):
    """HTTP 404."""


class ConflictError(ApiError):
    """HTTP 409: e.g. a run refused under ``multitask_strategy="reject"``."""


class UnprocessableEntityError(ApiError):
    """HTTP 422: the server rejected the request's content."""


class RateLimitError(ApiError):
    """HTTP 429."""


class InternalServerError(ApiError):
    """HTTP 5xx."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def api_error_for_status(status_code: int) -> type[ApiError]:
    """The most specific :class:`ApiError` subclass for an HTTP status code."""
    if 300 <= status_code < 400:
        return RedirectError
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, ApiError)
