"""The API key: where it comes from, that it is sent, and that it never shows.

A key must never reach a repr, an exception's text or a log line, even when a
server echoes the request (headers and all) back in its error answer.
"""

from __future__ import annotations

import json
import logging
import socket
import traceback
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.abc
import pytest

from lgbench.client import (
    ApiError,
    AuthenticationError,
    ClientError,
    LangGraphClient,
    MockTransport,
    Request,
    Response,
    get_client,
    get_sync_client,
)
from tests.client.test_assistants import Recorder, json_response

pytestmark = pytest.mark.anyio

KEY = "lgbench-test-key-6f1d0c"
ENV_VARS = ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")


@pytest.fixture(autouse=True)
def no_ambient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from an environment without keys, whatever the machine has."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


async def sent_key(**kwargs: Any) -> str | None:
    """The ``x-api-key`` a client built with ``kwargs`` sends, if any."""
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return json_response({})

    async with get_client(
        url="http://127.0.0.1:9", transport=MockTransport(handler), **kwargs
    ) as client:
        await client.threads.get("t")
    value = dict(seen[0].headers).get("x-api-key")
    return value  # a Secret compares equal to its text


async def test_explicit_key_is_sent() -> None:
    assert await sent_key(api_key=KEY) == KEY


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({}, None, id="none"),
        pytest.param({"LANGCHAIN_API_KEY": "c"}, "c", id="langchain"),
        pytest.param({"LANGSMITH_API_KEY": "s", "LANGCHAIN_API_KEY": "c"}, "s", id="langsmith"),
        pytest.param(
            {"LANGGRAPH_API_KEY": "g", "LANGSMITH_API_KEY": "s", "LANGCHAIN_API_KEY": "c"},
            "g",
            id="langgraph-first",
        ),
        pytest.param({"LANGGRAPH_API_KEY": "", "LANGSMITH_API_KEY": "s"}, "s", id="empty-skipped"),
        pytest.param({"LANGGRAPH_API_KEY": ' "quoted" '}, "quoted", id="quotes-stripped"),
    ],
)
async def test_key_from_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str | None
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert await sent_key() == expected


async def test_explicit_key_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGGRAPH_API_KEY", "from-env")
    assert await sent_key(api_key=KEY) == KEY


async def test_none_means_no_key_whatever_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.setenv(name, "from-env")
    assert await sent_key(api_key=None) is None


@pytest.mark.parametrize("name", ["x-api-key", "X-Api-Key"])
def test_key_cannot_be_smuggled_in_headers(name: str) -> None:
    with pytest.raises(ValueError, match="api_key"):
        get_client(url="http://127.0.0.1:9", headers={name: KEY})
    with pytest.raises(ValueError, match="api_key"):
        get_sync_client(url="http://127.0.0.1:9", headers={name: KEY})


def test_reprs_hide_the_key() -> None:
    client = get_client(url=f"http://user:{KEY}@127.0.0.1:9/base", api_key=KEY)
    sync = get_sync_client(url=f"http://user:{KEY}@127.0.0.1:9/base", api_key=KEY)
    shown = [
        repr(client),
        str(client),
        repr(client.http),
        repr(client.runs),
        repr(client.threads),
        repr(sync),
        repr(sync.runs),
        repr(sync.http),
    ]
    assert all(KEY not in text for text in shown), shown
    assert repr(client) == "<LangGraphClient http://127.0.0.1:9>"
    sync.close()


def _echo_answer(request: Request) -> Response:
    """A 401 that echoes every request header, in its body and in its own headers."""
    headers = {name: str(value) for name, value in request.headers}
    return Response(
        401,
        {"content-type": "application/json", **{f"x-echo-{k}": v for k, v in headers.items()}},
        content=json.dumps(
            {"detail": f"bad key {headers.get('x-api-key')}", "echo": headers}
        ).encode(),
    )


def assert_hidden(error: BaseException) -> None:
    text = "".join(traceback.format_exception(error))
    assert KEY not in text
    assert KEY not in repr(error)
    assert KEY not in repr(error.args)
    if isinstance(error, ApiError):
        assert KEY not in json.dumps(error.body)
        assert KEY not in json.dumps(error.headers)


async def test_echoing_401_does_not_leak_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder(_echo_answer, _echo_answer)
    async with recorder.client(api_key=KEY) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.threads.get("t")
        assert_hidden(caught.value)
        with pytest.raises(AuthenticationError) as streamed:
            async with client.runs.stream("t", "a") as stream:
                async for _ in stream:
                    pass
        assert_hidden(streamed.value)
    assert KEY not in caplog.text


# --- over real sockets: a tiny server that echoes the request head in a 401 ---------------


async def _serve_echo_401(stream: anyio.abc.ByteStream) -> None:
    async with stream:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = await stream.receive()
            if not chunk:
                return
            head += chunk
        echoed = head.split(b"\r\n\r\n")[0].decode("latin-1")
        key_line = next(
            (line for line in echoed.split("\r\n") if line.lower().startswith("x-api-key")), ""
        )
        body = json.dumps({"detail": f"unauthorized: {echoed}"}).encode()
        await stream.send(
            b"HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n"
            + f"x-echo: {key_line}\r\ncontent-length: {len(body)}\r\n".encode("latin-1")
            + b"connection: close\r\n\r\n"
            + body
        )


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, _serve_echo_401)
        yield f"http://127.0.0.1:{port}"
        tg.cancel_scope.cancel()


@pytest.mark.parametrize("transport", ["fast", "httpx"])
async def test_echoing_server_over_sockets(echo_url: str, transport: Any) -> None:
    async with get_client(url=echo_url, api_key=KEY, transport=transport) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.assistants.search(metadata={"k": 1})
        assert_hidden(caught.value)
        with pytest.raises(AuthenticationError) as streamed:
            async with client.runs.join_stream("t", "r") as stream:
                async for _ in stream:
                    pass
        assert_hidden(streamed.value)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("transport", ["fast", "httpx"])
async def test_transport_errors_do_not_leak_the_key(transport: Any) -> None:
    client: LangGraphClient = get_client(
        url=f"http://127.0.0.1:{_closed_port()}", api_key=KEY, transport=transport
    )
    async with client:
        with pytest.raises(ClientError) as caught:
            await client.threads.create(metadata={"k": 1})
    assert_hidden(caught.value)


@pytest.mark.server
async def test_key_is_accepted_by_the_embedded_server(langgraph_url: str) -> None:
    # The embedded server has no auth: a key is sent and ignored, not refused.
    async with get_client(url=langgraph_url, api_key=KEY) as client:
        assert "version" in await client.http.get("/info")


def test_repr_of_a_client_with_a_bad_url_does_not_fail() -> None:
    client = get_sync_client(url=f"http://user:{KEY}@127.0.0.1:notaport", api_key=KEY)
    assert repr(client) == "<SyncLangGraphClient http://127.0.0.1:?>"
    client.close()
