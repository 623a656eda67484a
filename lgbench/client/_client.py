"""The top-level async client and :func:`get_client`, shaped like the LangGraph SDK's."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Final, Literal, final
from urllib.parse import urlsplit

import lgbench
from lgbench._secrets import Secret
from lgbench.client._assistants import AssistantsClient
from lgbench.client._crons import CronClient
from lgbench.client._http import HttpClient, derived_client
from lgbench.client._models import DEFAULT_LIMITS, Limits, Timeout
from lgbench.client._runs import RunsClient
from lgbench.client._store import StoreClient
from lgbench.client._threads import ThreadsClient
from lgbench.client._transport import AsyncTransport

__all__ = ["NOT_PROVIDED", "LangGraphClient", "TransportName", "get_client"]

#: The built-in transports: ``"fast"`` (HTTP/1.1 on anyio sockets, the default) or
#: ``"httpx"`` (proxies, HTTP/2, TLS options).
TransportName = Literal["fast", "httpx"]

DEFAULT_URL = "http://localhost:8123"
API_KEY_HEADER = "x-api-key"
#: Read in this order when ``api_key`` is not given, as the LangGraph SDK does.
API_KEY_ENV_VARS = ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")


class _NotProvided(enum.Enum):
    NOT_PROVIDED = enum.auto()

    def __repr__(self) -> str:
        return "NOT_PROVIDED"


#: Default of ``api_key``: "look in the environment". ``None`` means "send no key".
NOT_PROVIDED: Final = _NotProvided.NOT_PROVIDED


def _resolve_api_key(api_key: str | _NotProvided | None) -> str | None:
    if api_key is NOT_PROVIDED:
        for name in API_KEY_ENV_VARS:
            # Keys pasted into .env files often keep their quotes; the SDK strips them too.
            value = os.environ.get(name, "").strip().strip("\"'")
            if value:
                return value
        return None
    return api_key


def _request_headers(api_key: str | None, headers: Mapping[str, str] | None) -> dict[str, str]:
    merged = {"user-agent": f"lgbench/{lgbench.__version__}"}
    for name, value in (headers or {}).items():
        if name.lower() == API_KEY_HEADER:
            # One way in for the key, so that it is never sent by accident.
            raise ValueError(f"pass the API key as api_key=, not as a {API_KEY_HEADER!r} header")
        merged[name.lower()] = value
    if api_key:
        merged[API_KEY_HEADER] = Secret(api_key)
    return merged


def _timeout(timeout: Timeout | float | None) -> Timeout:
    if timeout is None:
        return Timeout()
    if isinstance(timeout, Timeout):
        return timeout
    # A number bounds connect, each read and each write, as httpx.Timeout(n) does.
    seconds = float(timeout)
    return Timeout(connect_s=seconds, read_s=seconds, write_s=seconds)


def _origin(url: str) -> str:
    """``url`` without credentials, path or query: safe to show in a repr or a log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:  # a bad port: the transport refuses the URL, a repr must not fail
        port = ":?"
    return f"{parts.scheme}://{host}{port}"


def _make_transport(url: str, transport: TransportName | AsyncTransport) -> AsyncTransport:
    if isinstance(transport, AsyncTransport):
        return transport
    if transport == "fast":
        from lgbench.client._fast import FastTransport

        return FastTransport(url)
    if transport == "httpx":
        # Imported here: httpx is only loaded by those who ask for it. Through the package,
        # which names the class after itself when it first loads it.
        from lgbench.client import HttpxTransport

        return HttpxTransport(url)
    raise ValueError(f"transport must be 'fast', 'httpx' or an AsyncTransport, not {transport!r}")


def _client_factory(
    *,
    url: str | None,
    api_key: str | _NotProvided | None,
    headers: Mapping[str, str] | None,
    timeout: Timeout | float | None,
    transport: TransportName | AsyncTransport,
    limits: Limits = DEFAULT_LIMITS,
    secret_headers: Iterable[str] = (),
) -> Callable[[], LangGraphClient]:
    """Check every argument now; return what builds the client (maybe later, in another loop)."""
    base_url = url if url is not None else DEFAULT_URL
    request_headers = _request_headers(_resolve_api_key(api_key), headers)
    resolved_timeout = _timeout(timeout)
    secret_names = tuple(secret_headers)
    if not isinstance(transport, AsyncTransport) and transport not in ("fast", "httpx"):
        raise ValueError(
            f"transport must be 'fast', 'httpx' or an AsyncTransport, not {transport!r}"
        )

    def build() -> LangGraphClient:
        http = HttpClient(
            _make_transport(base_url, transport),
            headers=request_headers,
            timeout=resolved_timeout,
            limits=limits,
            secret_headers=secret_names,
        )
        return LangGraphClient(http, url=base_url)

    return build


@final
class LangGraphClient:
    """The LangGraph API, resource by resource: ``assistants``, ``threads``, ``runs``,
    ``crons``, ``store``, and ``http`` for any other route.

    Use as ``async with`` or call :meth:`aclose`, which closes the transport's connections.
    """

    __slots__ = ("_url", "assistants", "crons", "http", "runs", "store", "threads")

    def __init__(self, http: HttpClient, *, url: str | None = None) -> None:
        self._url = url
        self.http = http
        self.assistants = AssistantsClient(http)
        self.threads = ThreadsClient(http)
        self.runs = RunsClient(http)
        self.crons = CronClient(http)
        self.store = StoreClient(http)

    async def __aenter__(self) -> LangGraphClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def with_headers(self, headers: Mapping[str, str], *, secret: bool = False) -> LangGraphClient:
        """A client on the same connections whose requests also carry ``headers`` (e.g. one
        user's token); with ``secret`` their values are credentials whatever the headers are
        called (hidden from reprs, scrubbed from error text). It shares this client's
        transport: close this one, not the derived one."""
        return LangGraphClient(derived_client(self.http, headers, secret=secret), url=self._url)

    async def aclose(self) -> None:
        """Close every connection; the client cannot be used afterwards."""
        await self.http.aclose()

    def __repr__(self) -> str:
        # Never the headers: they carry the API key.
        where = f" {_origin(self._url)}" if self._url else ""
        return f"<LangGraphClient{where}>"


def get_client(
    *,
    url: str | None = None,
    api_key: str | _NotProvided | None = NOT_PROVIDED,
    headers: Mapping[str, str] | None = None,
    timeout: Timeout | float | None = None,
    transport: TransportName | AsyncTransport = "fast",
    limits: Limits = DEFAULT_LIMITS,
    secret_headers: Iterable[str] = (),
) -> LangGraphClient:
    """A client for the LangGraph API at ``url`` (default ``http://localhost:8123``).

    ``api_key`` is sent as ``x-api-key``. Left out, it is read from
    ``LANGGRAPH_API_KEY``, then ``LANGSMITH_API_KEY``, then ``LANGCHAIN_API_KEY``
    (as the SDK does); ``api_key=None`` sends no key whatever the environment.
    ``headers`` are added to every request (the key cannot be passed that way:
    ValueError). ``timeout`` is a :class:`Timeout` or seconds for connect, each
    read and each write. ``transport`` picks ``"fast"`` (default), ``"httpx"``
    or an :class:`AsyncTransport` instance (already bound to its origin: then
    ``url`` only names it). ``limits`` bound what an answer may hold, and
    ``secret_headers`` names headers to hide like credentials (docs/security.md).
    Opens no connection until the first request.
    """
    build = _client_factory(
        url=url,
        api_key=api_key,
        headers=headers,
        timeout=timeout,
        transport=transport,
        limits=limits,
        secret_headers=secret_headers,
    )
    return build()
