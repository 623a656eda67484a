"""The transport interface, and a mock transport for unit tests.

A transport sends one :class:`Request` to the origin it is bound to and returns
the :class:`Response` once its head has arrived. It raises only
:class:`~lgbench.client._errors.TransportError` subclasses; HTTP error statuses
are responses, not exceptions, at this layer.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Awaitable, Callable
from types import TracebackType

from lgbench.client._models import Request, Response

__all__ = ["AsyncTransport", "MockTransport"]


class AsyncTransport(abc.ABC):
    """Sends requests to one origin. Use as an async context manager or ``aclose`` it."""

    @abc.abstractmethod
    async def handle(self, request: Request) -> Response:
        """Send ``request``; return the response with its body still to read."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Close every connection; the transport cannot be used afterwards."""

    async def __aenter__(self) -> AsyncTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


Handler = Callable[[Request], Response | Awaitable[Response]]


class MockTransport(AsyncTransport):
    """Answers each request with ``handler(request)`` (sync or async); no network."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler

    async def handle(self, request: Request) -> Response:
        result = self._handler(request)
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, Response)
        return result
