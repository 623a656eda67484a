"""The values that cross the transport interface: Timeout, Request, Response.

A transport is bound to one origin (scheme, host, port); a :class:`Request`
carries only the request target (path and encoded query). A :class:`Response`
arrives with its status and headers read and its body not yet read: read it
whole with :meth:`Response.aread` or chunk by chunk with
:meth:`Response.aiter_bytes`, and always :meth:`Response.aclose` it (reading to
the end closes it too). Closing a response whose body was not read to the end
discards its connection instead of returning it to a pool.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterable
from typing import Any, Final, NamedTuple, Protocol

from lgbench.client._errors import ResponseLimitError

__all__ = [
    "DEFAULT_LIMITS",
    "AsyncByteStream",
    "ByteStream",
    "Limits",
    "Request",
    "Response",
    "StreamPart",
    "Timeout",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Timeout:
    """Timeouts in seconds; ``None`` means no limit.

    ``connect_s`` bounds opening a connection, ``read_s`` the wait for each
    next byte of the response (so keep-alive bytes and SSE heartbeats reset
    it), ``write_s`` each send, and ``total_s`` the whole request from the
    first attempt to connect until the end of the body.
    """

    connect_s: float | None = 5.0
    read_s: float | None = 300.0
    write_s: float | None = 300.0
    total_s: float | None = None

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None and value <= 0:
                raise ValueError(f"Timeout.{field.name} must be > 0 or None, not {value!r}")


DEFAULT_TIMEOUT = Timeout()


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """How much of an answer the client takes before it refuses it (docs/security.md).

    ``max_body_bytes`` bounds a JSON (or error) body read whole; ``max_event_bytes`` one
    server-sent event, or the bytes of a stream without a blank line (an endless line);
    ``max_json_depth`` the nesting of the JSON in a body or an event. An answer past a
    limit raises :class:`~lgbench.client.ResponseLimitError` and its connection is dropped
    (the rest is never read), so memory stays bounded whatever the server sends. Response
    heads are bounded by the transports themselves (1 MiB on the fast one, httpcore's 100 KiB
    on httpx).
    """

    max_body_bytes: int = 64 << 20
    max_event_bytes: int = 64 << 20
    max_json_depth: int = 128

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{field.name} must be a positive int, not {value!r}")


DEFAULT_LIMITS = Limits()


@dataclasses.dataclass(slots=True)
class Request:
    """One HTTP request to the transport's origin.

    ``target`` is the path with its already-encoded query (``/threads?x=1``);
    header names are lower-case. ``content`` is the encoded body, if any.
    """

    method: str
    target: str
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    content: bytes | None = None
    timeout: Timeout = DEFAULT_TIMEOUT


class AsyncByteStream(Protocol):
    """A response body as a transport delivers it.

    ``receive_some`` returns the next non-empty chunk, or ``b""`` once the body
    has ended (and keeps returning ``b""`` after that). ``aclose`` is
    idempotent. No async generators here: they cannot be finalised
    deterministically on every backend.
    """

    async def receive_some(self) -> bytes: ...

    async def aclose(self) -> None: ...


class ByteStream:
    """An in-memory body, for mock transports and already-read responses."""

    __slots__ = ("_content",)

    def __init__(self, content: bytes) -> None:
        self._content = content

    async def receive_some(self) -> bytes:
        content, self._content = self._content, b""
        return content

    async def aclose(self) -> None:
        self._content = b""


# Header names and short values as text, one str per distinct bytes for every response
# (content-type, transfer-encoding...): a stream's Response keeps them all its life.
# Bounded, and only short values; emptied when full, so values that change with every
# response (dates, request ids) cost a refill now and then, never the cache itself.
_header_texts: Final[dict[bytes, str]] = {}
_MAX_HEADER_TEXTS: Final = 1024
_MAX_CACHED_HEADER_BYTES: Final = 64


def _header_text(raw: bytes) -> str:
    text = _header_texts.get(raw)
    if text is None:
        text = raw.decode("latin-1")
        if len(raw) <= _MAX_CACHED_HEADER_BYTES:
            if len(_header_texts) >= _MAX_HEADER_TEXTS:
                _header_texts.clear()
            _header_texts[raw] = text
    return text


# Header names as a response's dict keys them, one str per name for every response: an
# open stream keeps its Response (and these keys) all its life. Bounded: emptied when
# full (a server that invents names costs a refill now and then).
_lowered_names: Final[dict[str, str]] = {}
_MAX_LOWERED_NAMES: Final = 512


def _lower_name(name: str) -> str:
    key = name.lower()
    if len(_lowered_names) >= _MAX_LOWERED_NAMES:
        _lowered_names.clear()
    _lowered_names[name] = key
    return key


class Response:
    """A response whose status line and headers have arrived.

    ``headers`` maps lower-case names to values (repeated fields joined with
    ``", "``).
    """

    # The header dict and the in-memory body's stream are built on first use: a JSON
    # answer read by HttpClient needs neither, and building them cost a good share of
    # the client's own work per request.
    __slots__ = (
        "_content",
        "_headers",
        "_raw_headers",
        "_stream",
        "_wire_headers",
        "closed",
        "status_code",
    )

    def __init__(
        self,
        status_code: int,
        headers: dict[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        stream: AsyncByteStream | None = None,
        content: bytes | None = None,
        wire_headers: list[bytes] | None = None,
    ) -> None:
        """``wire_headers``, instead of ``headers``: the fields as they came off the wire,
        name and value bytes alternating, decoded as Latin-1 on first use (a transport's
        own form; the list is kept, not copied, and must not change)."""
        self.status_code = status_code
        self._raw_headers: tuple[tuple[str, str], ...] | None = None
        self._wire_headers = wire_headers
        self._headers: dict[str, str] | None
        if wire_headers is not None:
            if headers is not None:
                raise TypeError("give a Response either headers or wire_headers, not both")
            self._headers = None
        elif headers is None:
            self._headers = {}
        elif isinstance(headers, dict):
            self._headers = {k.lower(): v for k, v in headers.items()}
        else:
            # A copy: the caller may reuse its list.
            self._headers = None
            self._raw_headers = tuple(headers)
        if stream is not None and content is not None:
            raise TypeError("give a Response either stream or content, not both")
        self._content = content
        self._stream: AsyncByteStream | None = stream
        self.closed = False

    @property
    def headers(self) -> dict[str, str]:
        """The headers, names lower-cased."""
        headers = self._headers
        if headers is None:
            wire = self._wire_headers
            headers = self._headers = (
                _merged_headers(self._raw_headers or ())
                if wire is None
                else _merged_headers(
                    zip(map(_header_text, wire[::2]), map(_header_text, wire[1::2]), strict=True)
                )
            )
            self._raw_headers = self._wire_headers = None
        return headers

    @headers.setter
    def headers(self, headers: dict[str, str]) -> None:
        self._headers = headers
        self._raw_headers = self._wire_headers = None

    @property
    def content(self) -> bytes:
        """The body, once :meth:`aread` has read it."""
        if self._content is None:
            raise RuntimeError("the response body has not been read: await response.aread()")
        return self._content

    def body_stream(self) -> AsyncByteStream:
        """The body as its transport delivers it (an in-memory one for a body already read):
        for a reader that closes the response itself at the end."""
        stream = self._stream
        if stream is None:
            stream = self._stream = ByteStream(self._content or b"")
        return stream

    async def aread(self, max_bytes: int = DEFAULT_LIMITS.max_body_bytes) -> bytes:
        """Read the whole body, then close the response.

        A body longer than ``max_bytes`` raises :class:`~lgbench.client.ResponseLimitError`
        as soon as the read passes it; the rest is never read (the connection is dropped).
        """
        if self._content is None:
            if self.closed:
                raise RuntimeError("the response is closed")
            stream = self.body_stream()
            chunks = []
            size = 0
            try:
                while chunk := await stream.receive_some():
                    size += len(chunk)
                    if size > max_bytes:
                        raise ResponseLimitError(
                            f"the response body is larger than {max_bytes} bytes"
                        )
                    chunks.append(chunk)
            finally:
                await self.aclose()
            self._content = b"".join(chunks)
        return self._content

    async def receive_some(self) -> bytes:
        """The next chunk of the body, ``b""`` at its end (the response is then closed)."""
        if self.closed:
            return b""
        chunk = await self.body_stream().receive_some()
        if not chunk:
            await self.aclose()
        return chunk

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body's chunks as they arrive; the response is closed at the end."""
        return _BodyChunks(self)

    async def aclose(self) -> None:
        """Release the connection (back to the pool only if the body was read whole)."""
        if not self.closed:
            self.closed = True
            # No stream yet: the body is in memory, nothing to release.
            if self._stream is not None:
                await self._stream.aclose()

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


def _merged_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    lowered = _lowered_names
    for name, value in headers:
        key = lowered.get(name) or _lower_name(name)
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


class _BodyChunks:
    __slots__ = ("_response",)

    def __init__(self, response: Response) -> None:
        self._response = response

    def __aiter__(self) -> _BodyChunks:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._response.receive_some()
        if not chunk:
            raise StopAsyncIteration
        return chunk


class StreamPart(NamedTuple):
    """One server-sent event of a LangGraph stream: its name and decoded JSON data."""

    event: str
    data: Any
    id: str | None = None
