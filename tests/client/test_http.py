"""HttpClient and SSEStream over MockTransport, on every backend.

What goes out (target, headers, body), what comes back (JSON, errors by
status, streams of parts), and what must never leak (the API key).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import pytest

from lgbench.client import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    HttpClient,
    InternalServerError,
    MockTransport,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    RedirectError,
    Request,
    RequestTimeout,
    Response,
    SSEStream,
    StreamPart,
    Timeout,
    UnprocessableEntityError,
)

pytestmark = pytest.mark.anyio

API_KEY = "lsv2_sk_0123456789abcdef-never-show-me"
TOKEN = "tok-9f8e7d6c5b4a-also-secret"
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}
JSON_HEADERS = {"content-type": "application/json"}


class Body:
    """A response body delivered chunk by chunk; records whether it was closed.

    A chunk that is an exception instance is raised instead; ``None`` blocks forever.
    """

    def __init__(self, chunks: Sequence[bytes | BaseException | None]) -> None:
        self._chunks = list(chunks)
        self.closed = False
        self.reads = 0

    async def receive_some(self) -> bytes:
        self.reads += 1
        if not self._chunks:
            return b""
        chunk = self._chunks.pop(0)
        if chunk is None:
            await anyio.sleep_forever()
        if isinstance(chunk, BaseException):
            raise chunk
        assert isinstance(chunk, bytes)
        return chunk

    async def aclose(self) -> None:
        self.closed = True


class Recorder:
    """A MockTransport handler that answers with ``respond`` and keeps every request."""

    def __init__(self, respond: Callable[[Request], Response]) -> None:
        self.respond = respond
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        return self.respond(request)

    @property
    def last(self) -> Request:
        return self.requests[-1]


def json_response(value: Any, status: int = 200) -> Callable[[Request], Response]:
    return lambda _: Response(status, JSON_HEADERS, content=json.dumps(value).encode())


def client_for(
    respond: Callable[[Request], Response], **kwargs: Any
) -> tuple[HttpClient, Recorder]:
    recorder = Recorder(respond)
    return HttpClient(MockTransport(recorder), **kwargs), recorder


# --- requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "target"),
    [
        pytest.param(None, "/threads", id="none"),
        pytest.param({}, "/threads", id="empty"),
        pytest.param({"a": None}, "/threads", id="only-none-dropped"),
        pytest.param({"limit": 10, "offset": 0}, "/threads?limit=10&offset=0", id="ints"),
        pytest.param({"yes": True, "no": False}, "/threads?yes=true&no=false", id="bools"),
        pytest.param({"x": 1.5}, "/threads?x=1.5", id="float"),
        pytest.param(
            {"stream_mode": ["values", "updates"]},
            "/threads?stream_mode=values&stream_mode=updates",
            id="sequence-repeats-key",
        ),
        pytest.param({"s": ("a", None, 2)}, "/threads?s=a&s=2", id="none-in-sequence-dropped"),
        pytest.param({"q": "a b&c=d/é"}, "/threads?q=a%20b%26c%3Dd%2F%C3%A9", id="percent-encoded"),
    ],
)
async def test_query_params_encoding(params: Any, target: str) -> None:
    http, seen = client_for(json_response([]))
    await http.get("/threads", params=params)
    assert seen.last.method == "GET"
    assert seen.last.target == target


async def test_params_added_to_a_path_that_has_a_query() -> None:
    http, seen = client_for(json_response([]))
    await http.get("/threads?x=1", params={"y": 2})
    assert seen.last.target == "/threads?x=1&y=2"


async def test_json_body_is_compact_utf8_with_content_type() -> None:
    http, seen = client_for(json_response({"ok": True}))
    body = {"input": {"text": "héllo ✓", "n": [1, 2]}, "flag": None}
    assert await http.post("/runs", json=body) == {"ok": True}
    request = seen.last
    assert request.method == "POST"
    assert request.content == '{"input":{"text":"héllo ✓","n":[1,2]},"flag":null}'.encode()
    assert json.loads(request.content) == body
    headers = dict(request.headers)
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"


async def test_no_body_means_no_content_type() -> None:
    http, seen = client_for(json_response({}))
    await http.post("/runs/cancel", json=None)
    assert seen.last.content is None
    assert "content-type" not in dict(seen.last.headers)
    await http.get("/ok")
    assert seen.last.content is None
    assert dict(seen.last.headers) == {"accept": "application/json"}


@pytest.mark.parametrize("method", ["put", "patch"])
async def test_put_and_patch_send_their_body(method: str) -> None:
    http, seen = client_for(json_response({"v": 2}))
    result = await getattr(http, method)("/store/items", json={"v": 2}, params={"a": 1})
    assert result == {"v": 2}
    assert seen.last.method == method.upper()
    assert seen.last.target == "/store/items?a=1"
    assert json.loads(seen.last.content or b"") == {"v": 2}


async def test_delete_ignores_the_answer_and_may_send_a_body() -> None:
    http, seen = client_for(lambda _: Response(200, content=b"OK, not JSON"))
    await http.delete("/store/items", json={"namespace": ["a"], "key": "k"})
    assert seen.last.method == "DELETE"
    assert json.loads(seen.last.content or b"") == {"namespace": ["a"], "key": "k"}
    await http.delete("/threads/t")
    assert seen.last.content is None


async def test_request_json_is_the_shared_core() -> None:
    http, seen = client_for(json_response({"n": 1}))
    assert await http.request_json("post", "/x", json=[1], params={"p": "q"}) == {"n": 1}
    assert (seen.last.method, seen.last.target, seen.last.content) == ("POST", "/x?p=q", b"[1]")


async def test_default_headers_merge_with_per_call_headers() -> None:
    http, seen = client_for(
        json_response({}), headers={"X-Api-Key": API_KEY, "User-Agent": "lgbench-test"}
    )
    await http.post("/runs", json={}, headers={"X-Request-Id": "r1", "user-agent": "override"})
    headers = dict(seen.last.headers)
    assert headers["x-api-key"] == API_KEY
    assert headers["x-request-id"] == "r1"
    assert headers["user-agent"] == "override"
    assert headers["content-type"] == "application/json"
    # Header names are sent lower-case, each once.
    names = [name for name, _ in seen.last.headers]
    assert names == [name.lower() for name in names]
    assert len(names) == len(set(names))
    # A header of one call does not stick to the next.
    await http.get("/ok")
    assert "x-request-id" not in dict(seen.last.headers)
    assert dict(seen.last.headers)["user-agent"] == "lgbench-test"


async def test_timeout_goes_with_each_request() -> None:
    timeout = Timeout(connect_s=1.0, read_s=2.0)
    http, seen = client_for(json_response({}), timeout=timeout)
    await http.get("/ok")
    assert seen.last.timeout is timeout


async def test_total_timeout_bounds_a_json_request() -> None:
    async def never(_: Request) -> Response:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    http = HttpClient(MockTransport(never), timeout=Timeout(total_s=0.01))
    with pytest.raises(RequestTimeout, match="GET /slow"):
        await http.get("/slow")


async def test_aclose_closes_the_transport() -> None:
    closed = []

    class Transport(MockTransport):
        async def aclose(self) -> None:
            closed.append(True)

    async with HttpClient(Transport(json_response({}))) as http:
        await http.get("/ok")
    assert closed == [True]


# --- responses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "value"),
    [
        pytest.param(b"", None, id="empty-body"),
        pytest.param(b"\n\n\n", None, id="only-keep-alives"),
        pytest.param(b'\n\n\n{"status": "success"}', {"status": "success"}, id="keep-alives"),
        pytest.param(b"\r\n [1, 2]\n", [1, 2], id="whitespace-around"),
        pytest.param('{"t": "é"}'.encode(), {"t": "é"}, id="utf8"),
        pytest.param(b"null", None, id="json-null"),
        pytest.param(b"3", 3, id="scalar"),
    ],
)
async def test_response_json_decoding(content: bytes, value: Any) -> None:
    http, _ = client_for(lambda _: Response(200, JSON_HEADERS, content=content))
    assert await http.post("/runs/wait", json={}) == value


async def test_keep_alive_newlines_arriving_in_chunks() -> None:
    body = Body([b"\n", b"\n", b'{"__error__": ', b'{"error": "boom"}}'])
    http, _ = client_for(lambda _: Response(200, JSON_HEADERS, stream=body))
    assert await http.post("/runs/wait", json={}) == {"__error__": {"error": "boom"}}
    assert body.closed


async def test_a_2xx_body_that_is_not_json_is_a_protocol_error() -> None:
    http, _ = client_for(lambda _: Response(200, content=b"<html>oops</html>"))
    with pytest.raises(ProtocolError, match="not JSON") as caught:
        await http.get("/ok")
    assert "<html>oops</html>" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (418, ApiError),
        (500, InternalServerError),
        (503, InternalServerError),
        (300, RedirectError),
        (304, RedirectError),
    ],
)
async def test_each_error_status_raises_its_class(status: int, error_class: type[ApiError]) -> None:
    body = {"detail": f"status {status}"}
    http, _ = client_for(json_response(body, status=status))
    with pytest.raises(error_class) as caught:
        await http.post("/threads/t/runs", json={"x": 1}, params={"p": 1})
    error = caught.value
    assert type(error) is error_class
    assert error.status_code == status
    assert error.body == body
    assert (error.method, error.path) == ("POST", "/threads/t/runs")
    assert f"HTTP {status}" in str(error) and f"status {status}" in str(error)


async def test_an_error_body_that_is_not_json_is_kept_as_text() -> None:
    http, _ = client_for(lambda _: Response(502, content=b"Bad Gateway \xff"))
    with pytest.raises(InternalServerError) as caught:
        await http.get("/ok")
    assert caught.value.body == "Bad Gateway \ufffd"


async def test_an_empty_error_body() -> None:
    http, _ = client_for(lambda _: Response(404))
    with pytest.raises(NotFoundError) as caught:
        await http.delete("/threads/missing")
    assert caught.value.body == ""


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_not_followed(status: int) -> None:
    http, seen = client_for(
        lambda _: Response(status, {"Location": "/threads/elsewhere"}, content=b"")
    )
    with pytest.raises(RedirectError) as caught:
        await http.get("/threads/here")
    assert caught.value.status_code == status
    assert caught.value.location == "/threads/elsewhere"
    assert len(seen.requests) == 1


async def test_a_transport_error_passes_through() -> None:
    def refuse(_: Request) -> Response:
        raise NetworkError("connection reset")

    http = HttpClient(MockTransport(refuse))
    with pytest.raises(NetworkError, match="reset"):
        await http.get("/ok")


# --- streams ----------------------------------------------------------------------------------

RUN_STREAM = [
    b'event: metadata\r\ndata: {"run_id": "r1", "attempt": 1}\r\n\r\n',
    b": heartbeat\r\n\r\n",
    b'event: values\r\ndata: {"messages": []}\r\n\r\nevent: upd',  # an event cut in two
    b'ates\r\ndata: {"node": {"n": 1}}\r\n\r\n',
    b"event: custom\r\ndata: not json\r\n\r\nevent: end\r\ndata:\r\n\r\n",
    b'event: error\r\ndata: {"error": "ValueError", "message": "boom"}\r\n\r\n',
]
RUN_PARTS = [
    StreamPart("metadata", {"run_id": "r1", "attempt": 1}),
    StreamPart("values", {"messages": []}),
    StreamPart("updates", {"node": {"n": 1}}),
    StreamPart("custom", "not json"),
    StreamPart("end", None),
    StreamPart("error", {"error": "ValueError", "message": "boom"}),
]


def sse_response(body: Body, status: int = 200) -> Callable[[Request], Response]:
    return lambda _: Response(status, SSE_HEADERS, stream=body)


async def test_stream_yields_parts_like_the_sdk() -> None:
    body = Body(RUN_STREAM)
    http, seen = client_for(sse_response(body), headers={"x-api-key": API_KEY})
    stream = http.stream("/threads/t/runs/stream", "POST", json={"input": {}}, params={"a": 1})
    assert isinstance(stream, SSEStream)
    assert seen.requests == []  # sent lazily
    parts = [part async for part in stream]
    assert parts == RUN_PARTS
    assert all(type(part) is StreamPart for part in parts)
    request = seen.last
    assert (request.method, request.target) == ("POST", "/threads/t/runs/stream?a=1")
    assert json.loads(request.content or b"") == {"input": {}}
    headers = dict(request.headers)
    assert headers["accept"] == "text/event-stream"
    assert headers["content-type"] == "application/json"
    assert headers["x-api-key"] == API_KEY
    assert body.closed  # the server closed the stream: so did we
    assert [part async for part in stream] == []  # stays ended


async def test_stream_as_a_context_manager_sends_on_entry() -> None:
    body = Body(RUN_STREAM)
    http, seen = client_for(sse_response(body))
    async with http.stream("/runs/stream", "GET") as parts:
        assert len(seen.requests) == 1
        assert parts.response is not None and parts.response.status_code == 200
        assert [part async for part in parts] == RUN_PARTS
    assert body.closed
    assert seen.last.content is None
    assert "content-type" not in dict(seen.last.headers)


async def test_breaking_out_early_closes_the_response() -> None:
    body = Body([*RUN_STREAM, None])  # the server would go on forever
    http, _ = client_for(sse_response(body))
    async with http.stream("/runs/stream", "POST", json={}) as parts:
        async for part in parts:
            if part.event == "values":
                break
    assert body.closed
    reads = body.reads
    assert [part async for part in parts] == []  # closed: nothing more, nothing read
    assert body.reads == reads


async def test_aclose_on_a_bare_iterator() -> None:
    body = Body([*RUN_STREAM, None])
    http, _ = client_for(sse_response(body))
    stream = http.stream("/runs/stream", "POST", json={})
    assert await stream.__anext__() == RUN_PARTS[0]
    await stream.aclose()
    await stream.aclose()  # idempotent
    assert body.closed
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_closing_a_stream_never_sent_sends_nothing() -> None:
    http, seen = client_for(sse_response(Body([])))
    stream = http.stream("/runs/stream", "GET")
    await stream.aclose()
    assert [part async for part in stream] == []
    assert seen.requests == []


async def test_stream_ids_and_last_event_id() -> None:
    body = Body(
        [b"event: values\r\ndata: 1\r\nid: 1-0\r\n\r\n", b"event: values\r\ndata: 2\r\n\r\n"]
    )
    http, _ = client_for(sse_response(body))
    stream = http.stream("/threads/t/runs/r/stream", "GET")
    parts = [part async for part in stream]
    # The id stays in force until the server sends another (the spec's last event id).
    assert parts == [StreamPart("values", 1, "1-0"), StreamPart("values", 2, "1-0")]
    assert stream.last_event_id == "1-0"


async def test_an_unterminated_last_event_is_not_yielded() -> None:
    http, _ = client_for(
        sse_response(Body([b"event: values\ndata: 1\n\nevent: values\ndata: 2\n"]))
    )
    assert [part async for part in http.stream("/s", "GET")] == [StreamPart("values", 1)]


@pytest.mark.parametrize("status", [404, 409, 422, 500])
async def test_a_stream_error_status_raises_on_first_iteration(status: int) -> None:
    body = Body([b'{"detail": "no such run"}'])
    http, _ = client_for(lambda _: Response(status, JSON_HEADERS, stream=body))
    stream = http.stream("/threads/t/runs/stream", "POST", json={})
    with pytest.raises(ApiError) as caught:
        await stream.__anext__()
    assert caught.value.status_code == status
    assert caught.value.body == {"detail": "no such run"}
    assert (caught.value.method, caught.value.path) == ("POST", "/threads/t/runs/stream")
    assert body.closed
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_a_stream_error_status_raises_on_entry() -> None:
    http, _ = client_for(json_response({"detail": "busy"}, status=409))
    with pytest.raises(ConflictError):
        async with http.stream("/threads/t/runs/stream", "POST", json={}):
            raise AssertionError("not entered")


async def test_a_stream_redirect_is_not_followed() -> None:
    http, seen = client_for(lambda _: Response(307, {"location": "/elsewhere"}))
    with pytest.raises(RedirectError) as caught:
        async for _ in http.stream("/s", "GET"):
            pass
    assert caught.value.location == "/elsewhere"
    assert len(seen.requests) == 1


async def test_a_stream_answered_with_json_is_a_protocol_error() -> None:
    body = Body([b'{"not": "a stream"}'])
    http, _ = client_for(lambda _: Response(200, JSON_HEADERS, stream=body))
    with pytest.raises(ProtocolError, match="text/event-stream"):
        async for _ in http.stream("/s", "GET"):
            pass
    assert body.closed


async def test_a_transport_error_mid_stream_closes_it() -> None:
    body = Body([RUN_STREAM[0], NetworkError("reset by peer")])
    http, _ = client_for(sse_response(body))
    stream = http.stream("/s", "GET")
    assert await stream.__anext__() == RUN_PARTS[0]
    with pytest.raises(NetworkError):
        await stream.__anext__()
    assert body.closed
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_cancelling_a_read_closes_the_stream() -> None:
    body = Body([RUN_STREAM[0], None])
    http, _ = client_for(sse_response(body))
    stream = http.stream("/s", "GET")
    with anyio.CancelScope() as scope:
        async for part in stream:
            assert part == RUN_PARTS[0]
            scope.cancel()  # the next read is then cancelled
    assert scope.cancelled_caught
    assert body.closed


async def test_parts_across_one_byte_chunks() -> None:
    raw = b"".join(RUN_STREAM)
    http, _ = client_for(sse_response(Body([raw[i : i + 1] for i in range(len(raw))])))
    assert [part async for part in http.stream("/s", "GET")] == RUN_PARTS


# --- the API key never shows ------------------------------------------------------------------


def leaky(request: Request) -> Response:
    """A server that echoes the credentials it got, in the body and in a header."""
    sent = dict(request.headers)
    # Concatenation: a server sees the real text (an f-string would show a Secret as redacted).
    echo = "bad key " + sent.get("x-api-key", "") + " / " + sent.get("authorization", "")
    headers = {"content-type": "application/json", "x-echo": echo}
    if request.target.startswith("/text"):
        return Response(200, headers, content=echo.encode())
    return Response(401, headers, content=json.dumps({"detail": echo}).encode())


def assert_hidden(text: str) -> None:
    assert API_KEY not in text
    assert TOKEN not in text


async def test_the_api_key_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder(leaky)
    http = HttpClient(
        MockTransport(recorder),
        headers={"x-api-key": API_KEY, "Authorization": f"Bearer {TOKEN}"},
    )
    assert_hidden(repr(http))
    assert_hidden(str(http))

    with pytest.raises(AuthenticationError) as caught:
        await http.post("/threads", json={"metadata": {}})
    error = caught.value
    assert_hidden(str(error))
    assert_hidden(repr(error))
    assert_hidden(repr(error.body))
    assert_hidden(repr(error.headers))
    assert "[redacted]" in str(error)

    with pytest.raises(ProtocolError) as protocol_error:
        await http.get("/text")
    assert_hidden(str(protocol_error.value))
    assert_hidden(repr(protocol_error.value))

    stream = http.stream("/threads/t/runs/stream", "POST", json={})
    assert_hidden(repr(stream))
    with pytest.raises(AuthenticationError) as stream_error:
        await stream.__anext__()
    assert_hidden(repr(stream_error.value))
    assert_hidden(str(stream_error.value))
    assert_hidden(repr(stream))

    # A per-call key is as hidden as the client's.
    with pytest.raises(AuthenticationError) as per_call:
        await http.get("/threads", headers={"X-Api-Key": API_KEY + "-2"})
    assert_hidden(str(per_call.value))

    # The requests themselves carry the key, yet do not show it.
    for request in recorder.requests:
        sent = dict(request.headers)
        assert sent["x-api-key"].startswith(API_KEY)
        # On the wire by concatenation; formatting (logs, messages) shows the placeholder.
        assert ("x-api-key: " + sent["x-api-key"]).endswith(sent["x-api-key"].reveal())
        assert f"{sent['x-api-key']}" == str(sent["authorization"]) == "[redacted]"
        assert sent["authorization"] == f"Bearer {TOKEN}"
        assert_hidden(repr(request))
    for record in caplog.records:
        assert_hidden(record.getMessage())


async def test_a_stream_that_cannot_be_sent_raises_then_ends() -> None:
    def refuse(_: Request) -> Response:
        raise NetworkError("connection refused")

    stream = HttpClient(MockTransport(refuse)).stream("/s", "GET")
    with pytest.raises(NetworkError):
        await stream.__anext__()
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_a_final_cr_completes_the_last_event() -> None:
    http, _ = client_for(sse_response(Body([b"event: values\rdata: 1\r\r"])))
    assert [part async for part in http.stream("/s", "GET")] == [StreamPart("values", 1)]
    http, _ = client_for(sse_response(Body([b"event: values\r\ndata: 1\r\n\r"])))
    assert [part async for part in http.stream("/s", "GET")] == [StreamPart("values", 1)]


def test_no_event_loop_is_imported() -> None:
    """HttpClient and the decoder use anyio only, so they run unchanged on asyncio and trio."""
    import ast
    from pathlib import Path

    import lgbench.client._http
    import lgbench.client._sse

    for module in (lgbench.client._http, lgbench.client._sse):
        tree = ast.parse(Path(module.__file__ or "").read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        }
        assert not imported & {"asyncio", "trio", "uvloop", "sniffio"}, module.__name__


# --- the per-call shortcuts and the Response built lazily ------------------------------------

_SAME_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("get", "/ok", {}),
    ("get", "/threads", {"params": {"limit": 10, "flag": True}}),
    ("get", "/ok", {"headers": {"X-Request-Id": "r1"}}),
    ("post", "/runs", {"json": {"input": {"n": 1}, "s": "é"}}),
    ("post", "/runs", {"json": None, "params": {"x": 1}}),
    ("put", "/store/items", {"json": {"value": [1, 2]}, "headers": {"Authorization": TOKEN}}),
    ("patch", "/threads/t", {"json": {"metadata": {}}}),
    ("delete", "/threads/t", {}),
    ("delete", "/store/items", {"json": {"key": "k"}}),
]


@pytest.mark.parametrize("limits", [Timeout(), Timeout(total_s=30.0)], ids=["no-total", "total"])
async def test_each_method_sends_the_bytes_request_json_sends(limits: Timeout) -> None:
    """Every method goes to the exchange its own way (no total limit: without the cancel
    scope); the requests, down to their bytes on the wire, are request_json's."""
    from lgbench.client._http11 import encode_request

    http, seen = client_for(
        json_response({"ok": True}), headers={"X-Api-Key": API_KEY}, timeout=limits
    )

    def wire(request: Request) -> bytes:
        return encode_request(
            request.method,
            request.target,
            request.headers,
            request.content,
            host_line="host: example\r\n",
            user_agent_line="user-agent: lgbench/test\r\n",
        )

    for method, path, kwargs in _SAME_CALLS:
        answer = await getattr(http, method)(path, **kwargs)
        direct = seen.last
        on_wire = wire(direct)
        shared = await http.request_json(method.upper(), path, **kwargs)
        assert wire(seen.last) == on_wire, (method, path, kwargs)
        assert direct.timeout is seen.last.timeout is limits
        assert answer == (None if method == "delete" else {"ok": True})
        assert shared == {"ok": True}
    # The shortcut's header list is a copy: a transport may add to it.
    await http.get("/ok")
    seen.last.headers.append(("x-added", "1"))
    await http.get("/ok")
    assert ("x-added", "1") not in seen.last.headers


async def test_a_body_that_came_with_the_head_is_not_read_again() -> None:
    body = Body([b'{"n": 2}'])
    http, _ = client_for(lambda _: Response(200, JSON_HEADERS, content=b'{"n": 1}'))
    assert await http.get("/x") == {"n": 1}
    http, _ = client_for(lambda _: Response(200, JSON_HEADERS, stream=body))
    assert await http.get("/x") == {"n": 2}
    assert body.closed


def test_response_headers_are_merged_on_first_use_as_before() -> None:
    raw = [("Content-Type", "a/b"), ("Set-Cookie", "x=1"), ("set-cookie", "y=2"), ("X-N", "1")]
    response = Response(200, raw)
    raw.append(("X-Later", "no"))  # the caller's list is copied
    assert response.headers == {"content-type": "a/b", "set-cookie": "x=1, y=2", "x-n": "1"}
    assert response.headers is response.headers  # built once
    response.headers = {"x": "y"}
    assert response.headers == {"x": "y"}
    assert Response(200, (pair for pair in raw[:1])).headers == {"content-type": "a/b"}
    assert Response(200, {"A": "1"}).headers == {"a": "1"}
    assert Response(204).headers == {}


def test_response_decodes_wire_headers_as_latin_1_on_first_use() -> None:
    wire = [
        b"Content-Type",
        b"a/b",
        b"Set-Cookie",
        b"x=1",
        b"set-cookie",
        b"y=2",
        b"X-\xe9",
        b"\xfc",
    ]
    response = Response(200, wire_headers=wire)
    assert response.headers == {
        "content-type": "a/b",
        "set-cookie": "x=1, y=2",
        "x-\xe9": "\xfc",
    }
    assert response.headers is response.headers
    assert Response(200, wire_headers=[]).headers == {}
    replaced = Response(200, wire_headers=wire)
    replaced.headers = {"x": "y"}
    assert replaced.headers == {"x": "y"}
    with pytest.raises(TypeError):
        Response(200, {"a": "b"}, wire_headers=wire)


async def test_a_response_with_content_reads_streams_and_closes_as_before() -> None:
    response = Response(200, content=b"abc")
    assert await response.aread() == b"abc"
    assert not response.closed  # nothing to release: the body is in memory
    chunks = [chunk async for chunk in Response(200, content=b"abc").aiter_bytes()]
    assert chunks == [b"abc"]
    stream = Response(200, content=b"xyz").body_stream()
    assert await stream.receive_some() == b"xyz"
    assert await stream.receive_some() == b""
    closed = Response(200, content=b"abc")
    await closed.aclose()
    assert closed.closed
    assert await closed.receive_some() == b""
    assert await closed.aread() == b"abc"
    empty = Response(200)
    assert await empty.aread() == b""
    assert empty.closed
