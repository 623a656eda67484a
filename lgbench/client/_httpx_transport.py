"""The compatibility transport: httpx for what the fast transport does not do.

:class:`HttpxTransport` wraps one ``httpx.AsyncClient`` (HTTPS, proxies,
HTTP/2, TLS quirks). It costs far more CPU per request than
:class:`~lgbench.client.FastTransport` (httpcore's pool rescans its
connections several times per request), so a load test should use it only
when it needs one of those features.

Semantics kept as close to the fast transport as httpx allows: redirects are
responses, never followed; bodies stream chunk by chunk as they arrive and
are delivered as sent (no content decoding: ``Accept-Encoding: identity`` is
sent unless the request says otherwise); ``connect_s``, ``read_s`` (per
network read) and ``write_s`` go to httpx, and ``total_s`` is a deadline of
our own over waiting for a connection, the head and the body. Every httpx
exception is translated by :func:`translate_httpx_error`, and nowhere else.
"""

from __future__ import annotations

import functools
import math
import os
import ssl
from collections.abc import AsyncIterator
from typing import Final, final

import anyio
import httpx

from lgbench import __version__
from lgbench._secrets import scrub, secret_texts
from lgbench.client._errors import (
    ConnectError,
    ConnectTimeout,
    NetworkError,
    ProtocolError,
    ReadTimeout,
    RequestTimeout,
    TimeoutError,
    TransportError,
)
from lgbench.client._models import Request, Response
from lgbench.client._transport import AsyncTransport

__all__ = ["HTTPX_ERRORS", "HttpxTransport", "translate_httpx_error"]

#: Every exception class httpx exports, and what it becomes.
HTTPX_ERRORS: Final[dict[type[Exception], type[TransportError]]] = {
    httpx.HTTPError: TransportError,
    httpx.RequestError: TransportError,
    httpx.TransportError: TransportError,
    httpx.TimeoutException: TimeoutError,
    httpx.ConnectTimeout: ConnectTimeout,
    httpx.ReadTimeout: ReadTimeout,
    # Our tree has no write timeout of its own: the base class says "a timeout".
    httpx.WriteTimeout: TimeoutError,
    # Waiting for a pooled connection is part of the request's total time.
    httpx.PoolTimeout: RequestTimeout,
    httpx.NetworkError: NetworkError,
    httpx.ConnectError: ConnectError,
    httpx.ReadError: NetworkError,
    httpx.WriteError: NetworkError,
    httpx.CloseError: NetworkError,
    httpx.ProxyError: ConnectError,
    # No connection can be opened for a scheme httpx does not speak.
    httpx.UnsupportedProtocol: ConnectError,
    httpx.ProtocolError: ProtocolError,
    httpx.LocalProtocolError: ProtocolError,
    httpx.RemoteProtocolError: ProtocolError,
    httpx.DecodingError: ProtocolError,
    # Redirects are never followed, and statuses never raised, but both are mapped.
    httpx.TooManyRedirects: ProtocolError,
    httpx.HTTPStatusError: TransportError,
    # A request target httpx refuses to send (the fast transport says the same).
    httpx.InvalidURL: ProtocolError,
    httpx.CookieConflict: TransportError,
    # Misuse of a response stream: a bug of ours, reported inside the tree.
    httpx.StreamError: TransportError,
    httpx.StreamConsumed: TransportError,
    httpx.StreamClosed: NetworkError,
    httpx.ResponseNotRead: TransportError,
    httpx.RequestNotRead: TransportError,
}

_CAUGHT: Final[tuple[type[Exception], ...]] = tuple(HTTPX_ERRORS)

# httpcore reports a peer that closed the connection as a "remote protocol
# error"; the fast transport (and our tree) call that a network error.
_CLOSED_BY_PEER_HINTS: Final = ("disconnected", "peer closed")


def translate_httpx_error(exc: Exception, secrets: tuple[str, ...] = ()) -> TransportError:
    """Our error for an httpx exception: the mapping of its most specific class.

    ``secrets`` are scrubbed from the message (h11 quotes a header value it refuses).
    """
    target: type[TransportError] = TransportError
    for cls in type(exc).__mro__:
        found = HTTPX_ERRORS.get(cls)
        if found is not None:
            target = found
            break
    detail = scrub(str(exc), secrets)
    if isinstance(exc, httpx.RemoteProtocolError) and any(
        hint in detail.lower() for hint in _CLOSED_BY_PEER_HINTS
    ):
        target = NetworkError
    return target(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)


@functools.lru_cache(maxsize=64)
def _httpx_timeout(
    connect_s: float | None, read_s: float | None, write_s: float | None
) -> httpx.Timeout:
    # The pool wait has no limit of its own: total_s bounds it.
    return httpx.Timeout(connect=connect_s, read=read_s, write=write_s, pool=None)


def _ssl_verify(verify: bool | str) -> bool | ssl.SSLContext:
    # httpx deprecates verify=<path>; build the context it would have built.
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return verify


@final
class HttpxTransport(AsyncTransport):
    """Requests through ``httpx.AsyncClient``; see the module docstring.

    ``proxy`` is a proxy URL; with ``trust_env`` (httpx's default) the usual
    environment variables (``HTTPS_PROXY``, ``SSL_CERT_FILE``…) apply too.
    ``verify`` is a bool or the path of a CA bundle file or directory.
    ``http2`` needs the ``h2`` package.
    """

    __slots__ = ("_client",)

    def __init__(
        self,
        base_url: str,
        *,
        http2: bool = False,
        proxy: str | None = None,
        verify: bool | str = True,
        max_connections: int = 256,
        trust_env: bool = True,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, not {max_connections}")
        self._client = httpx.AsyncClient(
            base_url=base_url,
            http2=http2,
            proxy=proxy,
            verify=_ssl_verify(verify),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            follow_redirects=False,
            trust_env=trust_env,
            timeout=None,
            headers={"user-agent": f"lgbench/{__version__}", "accept-encoding": "identity"},
        )

    def __repr__(self) -> str:
        return f"<HttpxTransport {self._client.base_url}>"

    async def handle(self, request: Request) -> Response:
        """Send ``request``; return once the response head has arrived."""
        timeout = request.timeout
        total_s = timeout.total_s
        deadline = math.inf if total_s is None else anyio.current_time() + total_s
        with anyio.CancelScope(deadline=deadline) as scope:
            try:
                httpx_request = self._client.build_request(
                    request.method,
                    request.target,
                    headers=request.headers,
                    content=request.content,
                    timeout=_httpx_timeout(timeout.connect_s, timeout.read_s, timeout.write_s),
                )
                if request.content:
                    httpx_request.stream = _RequestBody(request.content)
                response = await self._client.send(httpx_request, stream=True)
            except _CAUGHT as exc:
                raise translate_httpx_error(exc, secret_texts(request.headers)) from None
        if scope.cancelled_caught:
            raise RequestTimeout(f"the request did not finish within {total_s} s")
        return Response(
            response.status_code,
            response.headers.multi_items(),
            stream=_HttpxBody(response, deadline, total_s),
        )

    async def aclose(self) -> None:
        """Close the httpx client and its connections."""
        await self._client.aclose()


@final
class _RequestBody(httpx.AsyncByteStream):
    """A request body as one chunk, through a plain iterator.

    httpx's own body stream is an async generator; httpcore drops it
    unfinished when a send fails or is cancelled, and trio then warns about an
    async generator collected before it was exhausted.
    """

    __slots__ = ("_content",)

    def __init__(self, content: bytes) -> None:
        self._content = content

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _OneChunk(self._content)


@final
class _OneChunk:
    __slots__ = ("_content",)

    def __init__(self, content: bytes) -> None:
        self._content: bytes | None = content

    def __aiter__(self) -> _OneChunk:
        return self

    async def __anext__(self) -> bytes:
        content, self._content = self._content, None
        if content is None:
            raise StopAsyncIteration
        return content


@final
class _HttpxBody:
    """An httpx response's raw body, chunk by chunk, under the request's deadline."""

    __slots__ = ("_chunks", "_deadline", "_done", "_response", "_total_s")

    def __init__(self, response: httpx.Response, deadline: float, total_s: float | None) -> None:
        self._response = response
        self._chunks: AsyncIterator[bytes] = response.aiter_raw()
        self._deadline = deadline
        self._total_s = total_s
        self._done = False

    async def receive_some(self) -> bytes:
        if self._done:
            return b""
        chunk = b""
        try:
            with anyio.CancelScope(deadline=self._deadline) as scope:
                try:
                    chunk = await anext(self._chunks)
                except StopAsyncIteration:
                    self._done = True
                except _CAUGHT as exc:
                    raise translate_httpx_error(exc) from exc
        except BaseException:
            await self.aclose()
            raise
        if scope.cancelled_caught:
            await self.aclose()
            raise RequestTimeout(f"the request did not finish within {self._total_s} s")
        if self._done:
            await self.aclose()
        return chunk

    async def aclose(self) -> None:
        unfinished = not self._done
        self._done = True
        # httpx closes the connection (not back to the pool) if the body is unread.
        with anyio.CancelScope(shield=True):
            try:
                if unfinished:
                    await self._abandon_chunks()
                await self._response.aclose()
            except _CAUGHT:
                pass  # closing a connection that already failed: nothing left to report

    async def _abandon_chunks(self) -> None:
        """Finish httpx's chain of nested async generators, half-way through a body.

        ``aclose()`` on the outer one would leave the inner ones suspended for the garbage
        collector (trio then warns about each); a cancellation thrown in at the innermost
        read finishes every one of them. Bytes already buffered may come out first.
        """
        with anyio.CancelScope() as scope:
            scope.cancel()
            while True:
                try:
                    await anext(self._chunks)
                except StopAsyncIteration:
                    return
                except _CAUGHT:
                    return
