"""The HTTP layer the resource clients sit on: JSON requests and SSE streams over a transport.

:class:`HttpClient` turns ``get``/``post``/``put``/``patch``/``delete`` calls
into :class:`~lgbench.client.Request` values for its
:class:`~lgbench.client.AsyncTransport`, decodes JSON answers and raises
:class:`~lgbench.client.ApiError` subclasses for statuses >= 300 (redirects are
never followed). :meth:`HttpClient.stream` returns an :class:`SSEStream`, an
async iterator of :class:`~lgbench.client.StreamPart` that is also an async
context manager::

    async for part in http.stream("/runs/stream", "POST", json=payload):
        ...
    async with http.stream("/runs/stream", "POST", json=payload) as parts:
        async for part in parts:
            break  # leaving the block closes the connection

Only anyio primitives are used, so the same code runs on asyncio and trio.

Secrets: the values of headers that look like credentials (``x-api-key``,
``authorization``, cookies, anything named like a key, token or secret) are
wrapped in :class:`lgbench._secrets.Secret`, so their ``str``/``repr`` is
``[redacted]``, and error messages and bodies built here have those values
replaced by ``[redacted]`` (a server that echoes the token back included); the
API key never reaches an exception message or a repr through this layer.
"""

from __future__ import annotations

import json as _json
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice, repeat
from operator import length_hint
from types import TracebackType
from typing import Any, Final, TypeAlias, final
from urllib.parse import quote, urlencode

import anyio

from lgbench._secrets import Secret, protect_headers, scrub, secret_texts
from lgbench.client._errors import (
    ApiError,
    ProtocolError,
    RequestTimeout,
    ResponseLimitError,
    api_error_for_status,
)
from lgbench.client._json_depth import loads_strict, loads_within_depth
from lgbench.client._models import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    AsyncByteStream,
    Limits,
    Request,
    Response,
    StreamPart,
    Timeout,
)
from lgbench.client._sse import EventColumns, SSEDecoder
from lgbench.client._transport import AsyncTransport

__all__ = ["HttpClient", "QueryParams", "ResponseHook", "SSEStream"]

QueryScalar: TypeAlias = str | int | float | bool | None
#: Query parameters: ``None`` values are dropped, booleans sent as ``true``/``false``,
#: sequences as the key repeated once per item.
QueryParams: TypeAlias = Mapping[str, QueryScalar | Sequence[QueryScalar]]
#: Called with a 2xx response as soon as its status and headers arrive, before its body
#: is read (as the SDK's ``on_response``): e.g. to read ``Content-Location``.
ResponseHook: TypeAlias = Callable[[Response], None]

_JSON: Final = "application/json"
_EVENT_STREAM: Final = "text/event-stream"
# Closing a response discards its connection; it should be immediate, but a
# cleanup await must not hang a cancelled task forever.
_CLOSE_TIMEOUT_S: Final = 5.0
# How much of a malformed body to quote in an error message.
_SNIPPET_CHARS: Final = 200

_new_part: Final = tuple.__new__
# The first argument of every _new_part in an SSEStream's chain (endless, stateless: shared).
_PART_TYPE: Final = repeat(StreamPart)
# An SSEStream's parts, columns and data when it holds no batch (exhausted or empty: shared).
_NO_PARTS: Final[Iterator[StreamPart]] = iter(())
_NO_COLUMNS: Final[EventColumns] = ((), (), ())
_NO_DATA: Final[Iterator[str]] = iter(())
_encoder: Final = _json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=True
)


def _query_value(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value if isinstance(value, str) else str(value)


def _encode_query(params: QueryParams) -> str:
    """``params`` as a query string (without ``?``), percent-encoded."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            pairs.append((key, _query_value(value)))
        else:
            pairs.extend((key, _query_value(item)) for item in value if item is not None)
    return urlencode(pairs, quote_via=quote)


def _target(path: str, params: QueryParams | None) -> str:
    if not params:
        return path
    query = _encode_query(params)
    if not query:
        return path
    return f"{path}{'&' if '?' in path else '?'}{query}"


def _decode_error_body(body: bytes, secrets: tuple[str, ...], max_depth: int) -> Any:
    """The body of an error answer: JSON when it parses (within ``max_depth``), else the
    text ('' when empty)."""
    text = scrub(body.decode("utf-8", "replace"), secrets)
    if not text.strip():
        return text
    try:
        return loads_within_depth(text, max_depth)
    except (ValueError, ResponseLimitError):
        return text


def _api_error(
    response: Response,
    body: bytes,
    method: str,
    path: str,
    secrets: tuple[str, ...],
    max_depth: int = DEFAULT_LIMITS.max_json_depth,
) -> ApiError:
    headers = {name: scrub(value, secrets) for name, value in response.headers.items()}
    error_class = api_error_for_status(response.status_code)
    return error_class(
        response.status_code,
        _decode_error_body(body, secrets, max_depth),
        method=method,
        path=path,
        headers=headers,
    )


def _snippet(body: bytes, secrets: tuple[str, ...]) -> str:
    text = scrub(body[: _SNIPPET_CHARS * 4].decode("utf-8", "replace"), secrets)
    return repr(text[:_SNIPPET_CHARS])


async def _discard(response: Response) -> None:
    """Close ``response`` (dropping its connection) even while the task is being cancelled."""
    if not response.closed:
        with anyio.move_on_after(_CLOSE_TIMEOUT_S, shield=True):
            await response.aclose()


@final
class HttpClient:
    """JSON over HTTP to one LangGraph server, through ``transport``.

    ``headers`` are sent with every request (per-call headers override them);
    ``timeout`` goes with every request to the transport, which enforces the
    connect, read and write limits; this layer bounds a JSON request by
    ``timeout.total_s`` from sending to the end of its body. Streams have no
    total limit (a run may stream for hours), only the per-read one.
    ``limits`` bound what an answer may hold (body and event size, JSON depth):
    past one, the operation raises :class:`~lgbench.client.ResponseLimitError`.
    ``secret_headers`` names more headers whose values are credentials, beyond
    those named like one (``authorization``, ``x-api-key``, ``cookie``...).

    Every method may raise :class:`~lgbench.client.TransportError` (from the
    transport), :class:`~lgbench.client.ApiError` subclasses (status >= 300),
    and :class:`~lgbench.client.ProtocolError` when a 2xx body is not JSON.
    """

    __slots__ = (
        "_headers",
        "_protocol_headers",
        "_secret_headers",
        "limits",
        "timeout",
        "transport",
    )

    def __init__(
        self,
        transport: AsyncTransport,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        limits: Limits = DEFAULT_LIMITS,
        secret_headers: Iterable[str] = (),
    ) -> None:
        self.transport = transport
        self.timeout = timeout
        self.limits = limits
        self._secret_headers = tuple(secret_headers)
        self._headers = protect_headers(headers, self._secret_headers)
        # The header lists of calls without per-call headers, built once: (stream, has body).
        self._protocol_headers: dict[tuple[bool, bool], list[tuple[str, str]]] = {
            (stream, has_body): list(
                {**self._headers, **_protocol_headers(stream=stream, has_body=has_body)}.items()
            )
            for stream in (False, True)
            for has_body in (False, True)
        }

    def __repr__(self) -> str:
        # Header names only: values may be credentials.
        transport = type(self.transport).__name__
        return f"<HttpClient transport={transport} headers={sorted(self._headers)}>"

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def get(
        self,
        path: str,
        *,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """``GET path``; the decoded JSON answer (``None`` for an empty body)."""
        if params is None and headers is None:
            # The load generator's commonest call: no merging, no query to encode.
            request = Request(
                "GET", path, self._protocol_headers[False, False].copy(), None, self.timeout
            )
        else:
            request = self._request("GET", path, None, params, headers, stream=False)
        return await self._send(request, path, decode=True)

    async def post(
        self,
        path: str,
        *,
        json: Any | None,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        on_response: ResponseHook | None = None,
    ) -> Any:
        """``POST path`` with ``json`` as the body (no body when ``None``)."""
        request = self._request("POST", path, json, params, headers, stream=False)
        return await self._send(request, path, decode=True, on_response=on_response)

    async def put(
        self,
        path: str,
        *,
        json: Any,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """``PUT path`` with ``json`` as the body."""
        request = self._request("PUT", path, json, params, headers, stream=False)
        return await self._send(request, path, decode=True)

    async def patch(
        self,
        path: str,
        *,
        json: Any,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """``PATCH path`` with ``json`` as the body."""
        request = self._request("PATCH", path, json, params, headers, stream=False)
        return await self._send(request, path, decode=True)

    async def delete(
        self,
        path: str,
        *,
        json: Any | None = None,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """``DELETE path``; the answer's body, if any, is read and ignored."""
        request = self._request("DELETE", path, json, params, headers, stream=False)
        await self._send(request, path, decode=False)

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        json: Any | None = None,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        on_response: ResponseHook | None = None,
    ) -> Any:
        """Send ``method path`` with an optional JSON body; return the decoded JSON answer.

        An empty body gives ``None``; whitespace before the JSON (the ``\\n``
        keep-alives LangGraph's ``wait``/``join`` send while a run is going) is
        skipped. ``on_response`` is called with a 2xx answer once its headers are in,
        before the body (which may take as long as a run) is read; if it raises, the
        response is discarded and the exception propagates.
        """
        request = self._request(method, path, json, params, headers, stream=False)
        return await self._send(request, path, decode=True, on_response=on_response)

    def stream(
        self,
        path: str,
        method: str,
        *,
        json: Any | None = None,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        on_response: ResponseHook | None = None,
    ) -> SSEStream:
        """A server-sent event stream; the request is sent on first iteration or ``async with``.

        ``json`` is encoded now: a value JSON cannot represent (NaN too)
        raises ``TypeError``/``ValueError`` here, as it does in every method.
        ``on_response`` is called with a 2xx answer once its headers are in.
        """
        request = self._request(method, path, json, params, headers, stream=True)
        return SSEStream(request, path, self.transport, on_response, self.limits)

    async def aclose(self) -> None:
        """Close the transport and its connections."""
        await self.transport.aclose()

    def _request(
        self,
        method: str,
        path: str,
        json: Any | None,
        params: QueryParams | None,
        headers: Mapping[str, str] | None,
        *,
        stream: bool,
    ) -> Request:
        content = None if json is None else _encoder.encode(json).encode()
        has_body = content is not None
        if headers:
            merged = {
                **self._headers,
                **_protocol_headers(stream=stream, has_body=has_body),
                **protect_headers(headers, self._secret_headers),
            }
            header_list = list(merged.items())
        else:
            # A copy: a transport may add its own headers to the list.
            header_list = self._protocol_headers[stream, has_body].copy()
        return Request(
            method.upper(),
            _target(path, params),
            header_list,
            content,
            self.timeout,
        )

    def _send(
        self,
        request: Request,
        path: str,
        *,
        decode: bool,
        on_response: ResponseHook | None = None,
    ) -> Awaitable[Any]:
        """:meth:`_exchange` within the request's total time limit. Without one, the
        exchange itself is returned to be awaited: no coroutine of its own per request."""
        total_s = request.timeout.total_s
        if total_s is None:
            return self._exchange(request, path, decode, on_response)
        return self._exchange_within(request, path, decode, on_response, total_s)

    async def _exchange_within(
        self,
        request: Request,
        path: str,
        decode: bool,
        on_response: ResponseHook | None,
        total_s: float,
    ) -> Any:
        with anyio.move_on_after(total_s):
            return await self._exchange(request, path, decode, on_response)
        raise RequestTimeout(f"{request.method} {path} took longer than {total_s} s in total")

    async def _exchange(
        self, request: Request, path: str, decode: bool, on_response: ResponseHook | None
    ) -> Any:
        response = await self.transport.handle(request)
        if on_response is not None and 200 <= response.status_code < 300:
            try:
                on_response(response)
            except BaseException:
                await _discard(response)
                raise
        limits = self.limits
        # A body that came with the head is there already (the connection is back in the
        # pool): no read. Else read it whole (up to the limit), which closes the response.
        body = response._content
        if body is None:
            body = await response.aread(limits.max_body_bytes)
        status = response.status_code
        if not 200 <= status < 300:
            raise _api_error(
                response,
                body,
                request.method,
                path,
                secret_texts(request.headers),
                limits.max_json_depth,
            )
        if not decode or not body or body.isspace():
            return None
        try:
            return loads_within_depth(body, limits.max_json_depth)
        except ResponseLimitError as exc:
            raise ResponseLimitError(f"{request.method} {path}: {exc}") from None
        except ValueError:
            raise ProtocolError(
                f"{request.method} {path}: the {status} response is not JSON: "
                f"{_snippet(body, secret_texts(request.headers))}"
            ) from None


def _protocol_headers(*, stream: bool, has_body: bool) -> dict[str, str]:
    headers = (
        {"accept": _EVENT_STREAM, "cache-control": "no-store"} if stream else {"accept": _JSON}
    )
    if has_body:
        headers["content-type"] = _JSON
    return headers


def _event_value(data: str, max_depth: int) -> Any:
    """An event's data decoded: ``None`` when empty, the text itself when it is not JSON."""
    if not data:
        return None
    try:
        return loads_within_depth(data, max_depth)
    except ValueError:  # not JSON: the text itself
        return data


@final
class SSEStream:
    """The parts of one server-sent event stream, as :class:`~lgbench.client.StreamPart`.

    Iterate it with ``async for`` (the request is sent on the first
    ``__anext__``), or enter it with ``async with`` first (the request is sent
    on entry, and leaving the block closes the stream, e.g. after a ``break``).
    Each event's data is decoded from JSON (``None`` when empty, the raw text
    when it is not JSON). An ``error`` event is yielded like any other part.
    The iteration ends when the server closes the stream.

    Errors: a status >= 300 raises the matching :class:`~lgbench.client.ApiError`
    at the first iteration (or on entry); a 2xx answer whose content type is
    not ``text/event-stream`` raises :class:`~lgbench.client.ProtocolError`;
    transport errors pass through. Any error or cancellation while reading
    closes the stream, discarding its connection.

    Breaking out of a bare ``async for`` does not close the stream (Python
    tells an iterator nothing then): use ``async with`` or call :meth:`aclose`.
    """

    __slots__ = (
        "_batch",
        "_batch_data",
        "_body",
        "_closed",
        "_decoder",
        "_max_depth",
        "_method",
        "_on_response",
        "_parts",
        "_path",
        "_request",
        "_response",
        "_short_json",
        "_transport",
    )

    def __init__(
        self,
        request: Request,
        path: str,
        transport: AsyncTransport,
        on_response: ResponseHook | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._request: Request | None = request
        self._method = request.method
        self._on_response = on_response
        self._path = path
        self._transport = transport
        self._response: Response | None = None
        self._body: AsyncByteStream | None = None
        self._decoder = SSEDecoder(max_event_bytes=limits.max_event_bytes)
        self._max_depth = limits.max_json_depth
        # Data no longer than this cannot nest past the depth limit.
        self._short_json = 2 * limits.max_json_depth
        self._parts = _NO_PARTS
        self._batch = _NO_COLUMNS
        self._batch_data = _NO_DATA
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._response is not None else "not sent"
        return f"<SSEStream {self._method} {self._path} {state}>"

    @property
    def response(self) -> Response | None:
        """The response (status and headers), once the request has been sent."""
        return self._response

    @property
    def last_event_id(self) -> str:
        """The last event id the server sent (``""`` if none): resume from it on reconnect."""
        return self._decoder.last_event_id

    def __aiter__(self) -> SSEStream:
        return self

    async def __anext__(self) -> StreamPart:
        while True:
            try:
                part = next(self._parts, None)
            except (ValueError, RecursionError, ResponseLimitError) as exc:
                part = await self._failed(exc)
            if part is not None:
                return part
            if self._closed:
                raise StopAsyncIteration
            # The batch read before: not kept while waiting (as _release_batch, inline).
            self._parts = _NO_PARTS
            self._batch = _NO_COLUMNS
            self._batch_data = _NO_DATA
            body = self._body
            if body is None:
                body = await self._open()
            decoder = self._decoder
            # The read is inline rather than in a helper coroutine: a stream spends its
            # life suspended here, and each level of the await chain holds a frame
            # (≈ 250 B) per open stream.
            try:
                while chunk := await body.receive_some():
                    columns = decoder.feed_columns(chunk)
                    if columns[1]:
                        break
                else:
                    # The server ended the stream; a final CR may still complete an event.
                    columns = decoder.close_columns()
            except BaseException:
                # A failed or cancelled read leaves the connection mid-body: drop it.
                await self.aclose()
                raise
            if not chunk:
                await self.aclose()
                if not columns[1]:
                    raise StopAsyncIteration
            datas = columns[1]
            if len(datas) == 1:
                # One event (as when the server flushes each one): no chain when msgspec
                # takes its data.
                data = datas[0]
                if data and len(data) <= self._short_json:
                    try:
                        part = _new_part(
                            StreamPart, (columns[0][0], loads_strict(data), columns[2][0])
                        )
                    except (ValueError, RecursionError):
                        pass
                    else:
                        return part
            self._start_batch(columns)

    def _release_batch(self) -> None:
        """Let go of the batch read before: not kept while waiting for the next."""
        self._parts = _NO_PARTS
        self._batch = _NO_COLUMNS
        self._batch_data = _NO_DATA

    def _start_batch(self, columns: EventColumns) -> None:
        """Make ``self._parts`` the parts of a batch of events: a chain of C iterators that
        yields them one at a time, with no Python between one event and the next.

        msgspec decodes each event's data (data no longer than twice the depth limit
        cannot nest past it: no depth check then), and each part is built from the
        columns. What msgspec refuses, _refused decodes with _event_value. One event at
        a time: decoding a whole batch at once keeps a batch's worth of containers alive,
        which the garbage collector then walks. (A batch of one event comes here only when
        msgspec refused it, or when it is long or empty.)
        """
        types, datas, ids = columns
        decode: Callable[[str], Any] = self._value
        if len(datas) > 1 and max(map(len, datas)) <= self._short_json:
            decode = loads_strict
        self._batch = columns
        self._batch_data = data_iter = iter(datas)
        rows = zip(types, map(decode, data_iter), ids, strict=True)
        self._parts = map(_new_part, _PART_TYPE, rows)

    async def _failed(self, error: Exception) -> StreamPart:
        """The part of the event whose decoding raised ``error`` in the batch's chain."""
        try:
            if isinstance(error, ResponseLimitError):
                raise error
            return self._refused()
        except ResponseLimitError:
            # The stream is refused as a whole: nothing after this event can be trusted.
            await self.aclose()
            raise

    def _refused(self) -> StreamPart:
        """msgspec refused an event of the batch: decode it with _event_value, and the
        rest of the batch likewise (one switch per batch at most, whatever follows)."""
        types, datas, ids = self._batch
        data_iter = self._batch_data
        # The chain took the refused data from data_iter: it is the one before the rest.
        index = len(datas) - length_hint(data_iter) - 1
        rest = index + 1
        rows = zip(
            islice(types, rest, None),
            map(self._value, data_iter),
            islice(ids, rest, None),
            strict=True,
        )
        self._parts = map(_new_part, _PART_TYPE, rows)
        part: StreamPart = _new_part(
            StreamPart, (types[index], self._value(datas[index]), ids[index])
        )
        return part

    def _value(self, data: str) -> Any:
        """An event's data decoded (see _event_value) within this stream's depth limit."""
        return _event_value(data, self._max_depth)

    async def __aenter__(self) -> SSEStream:
        if self._response is None and not self._closed:
            await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop: close the response, discarding its connection if the body was not read whole."""
        self._closed = True
        self._release_batch()
        self._body = None
        if self._response is not None:
            await _discard(self._response)

    async def _open(self) -> AsyncByteStream:
        request = self._request
        assert request is not None  # sent once only: _response is set from here on
        try:
            response = await self._transport.handle(request)
        except BaseException:
            self._closed = True
            raise
        self._response = response
        status = response.status_code
        if not 200 <= status < 300:
            self._closed = True
            try:
                body = await response.aread(self._decoder.max_event_bytes)
            finally:
                await _discard(response)
            secrets = secret_texts(request.headers)
            raise _api_error(response, body, request.method, self._path, secrets, self._max_depth)
        content_type = response.headers.get("content-type")
        if content_type is not None:
            media_type = content_type.partition(";")[0].strip().lower()
            if media_type != _EVENT_STREAM:
                self._closed = True
                await _discard(response)
                raise ProtocolError(
                    f"{request.method} {self._path}: expected a {_EVENT_STREAM} answer, "
                    f"got {media_type!r}"
                )
        if self._on_response is not None:
            self._on_response(response)
        # What an open stream keeps is kept for as long as it stays open: not the request
        # (its body and header list), and the body read directly rather than through the
        # Response (one level of coroutine frames less). The stream closes the Response
        # itself at the end (aclose), as Response.receive_some would.
        self._request = None
        self._on_response = None
        self._body = response.body_stream()
        return self._body


def derived_client(http: HttpClient, headers: Mapping[str, str], *, secret: bool) -> HttpClient:
    """A client on ``http``'s transport (the same connections) whose requests also carry
    ``headers``; with ``secret`` their values are credentials whatever the headers are called:
    hidden from reprs and scrubbed from error text."""
    extra = {name: Secret(value) if secret else value for name, value in headers.items()}
    return HttpClient(
        http.transport,
        headers={**http._headers, **extra},
        timeout=http.timeout,
        limits=http.limits,
        secret_headers=http._secret_headers,
    )
