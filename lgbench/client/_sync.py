"""The blocking client: the async client running in an event loop of its own.

:class:`SyncLangGraphClient` owns an anyio blocking portal, an event loop in
a thread of its own, started on first use, where the async client lives; each
blocking method is the async method with the same signature, run there. The
caller needs no event loop (and must not call from inside the portal's loop).
Streams are plain iterators: each is pumped by one task in the portal, so the
underlying connection is only ever used from one task, and is closed when
the iterator is exhausted, closed, or the client is closed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, final

import anyio
from anyio.abc import TaskStatus
from anyio.from_thread import BlockingPortal, start_blocking_portal
from anyio.streams.memory import MemoryObjectReceiveStream

from lgbench.client._assistants import AssistantsClient
from lgbench.client._client import (
    DEFAULT_URL,
    NOT_PROVIDED,
    LangGraphClient,
    TransportName,
    _client_factory,
    _NotProvided,
    _origin,
)
from lgbench.client._crons import CronClient
from lgbench.client._http import HttpClient, SSEStream
from lgbench.client._models import DEFAULT_LIMITS, Limits, StreamPart, Timeout
from lgbench.client._runs import RunsClient
from lgbench.client._store import StoreClient
from lgbench.client._threads import ThreadsClient
from lgbench.client._transport import AsyncTransport

__all__ = [
    "SyncAssistantsClient",
    "SyncCronClient",
    "SyncHttpClient",
    "SyncLangGraphClient",
    "SyncRunsClient",
    "SyncStoreClient",
    "SyncStream",
    "SyncThreadsClient",
    "get_sync_client",
]

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A")


class _Runner:
    """The portal and the async client inside it; shared by one client's resources."""

    def __init__(
        self,
        factory: Callable[[], LangGraphClient],
        backend: str,
        backend_options: Mapping[str, Any] | None,
    ) -> None:
        self._factory = factory
        self._backend = backend
        self._backend_options = dict(backend_options) if backend_options is not None else None
        self._lock = threading.Lock()
        self._exit_stack: contextlib.ExitStack | None = None
        self._portal: BlockingPortal | None = None
        self._client: LangGraphClient | None = None
        self._closed = False
        # Live streams, so that closing the client closes them (strong references:
        # an abandoned iterator's pump must still be stopped).
        self.streams: set[SyncStream] = set()

    def started(self) -> tuple[BlockingPortal, LangGraphClient]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the client is closed")
            if self._portal is None or self._client is None:
                exit_stack = contextlib.ExitStack()
                portal = exit_stack.enter_context(
                    start_blocking_portal(self._backend, self._backend_options)
                )
                try:
                    # Built inside the loop: transports may bind to the loop that creates them.
                    self._client = portal.call(self._factory)
                except BaseException:
                    exit_stack.close()
                    raise
                self._exit_stack, self._portal = exit_stack, portal
            return self._portal, self._client

    def call(self, func: Callable[[LangGraphClient], Awaitable[R]]) -> R:
        portal, client = self.started()
        return portal.call(func, client)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            portal, client, exit_stack = self._portal, self._client, self._exit_stack
        if portal is None or client is None or exit_stack is None:
            return
        with exit_stack:
            for stream in list(self.streams):
                stream.close()
            portal.call(client.aclose)

    @property
    def closed(self) -> bool:
        return self._closed


@final
class SyncStream(Iterator[StreamPart]):
    """A blocking iterator of :class:`StreamPart`; the request is sent on the first ``next``.

    Closes its connection when exhausted; call :meth:`close` (or use ``with``)
    to stop early. An error of the stream is raised by the ``next`` that meets it.
    """

    def __init__(self, runner: _Runner, open_stream: Callable[[LangGraphClient], SSEStream]):
        self._runner = runner
        self._open_stream = open_stream
        self._portal: BlockingPortal | None = None
        self._pump: concurrent.futures.Future[None] | None = None
        self._scope: anyio.CancelScope | None = None
        self._parts: MemoryObjectReceiveStream[StreamPart] | None = None
        self._done = False

    async def _run_pump(
        self,
        client: LangGraphClient,
        *,
        task_status: TaskStatus[tuple[anyio.CancelScope, MemoryObjectReceiveStream[StreamPart]]],
    ) -> None:
        # No buffer: the server's stream is read only as fast as the caller iterates.
        send, receive = anyio.create_memory_object_stream[StreamPart]()
        with anyio.CancelScope() as scope:
            task_status.started((scope, receive))
            async with send:
                stream = self._open_stream(client)
                async with stream:
                    async for part in stream:
                        await send.send(part)

    def _start(self) -> tuple[BlockingPortal, MemoryObjectReceiveStream[StreamPart]]:
        if self._portal is None or self._parts is None:
            portal, client = self._runner.started()
            self._pump, (self._scope, self._parts) = portal.start_task(self._run_pump, client)
            self._portal = portal
            self._runner.streams.add(self)
        return self._portal, self._parts

    def __iter__(self) -> SyncStream:
        return self

    def __next__(self) -> StreamPart:
        if self._done:
            raise StopIteration
        portal, parts = self._start()
        try:
            part: StreamPart = portal.call(parts.receive)
            return part
        except anyio.EndOfStream:
            pass
        except BaseException:
            self.close()
            raise
        # The pump has ended: re-raise its error, if it had one.
        self._done = True
        try:
            if self._pump is not None:
                self._pump.result()
        finally:
            self._release()
        raise StopIteration

    def close(self) -> None:
        """Stop reading and close the connection (waits until it is closed)."""
        if self._done:
            return
        self._done = True
        if self._portal is None:
            return
        try:
            if self._scope is not None:
                self._portal.call(self._scope.cancel)
            if self._pump is not None:
                concurrent.futures.wait([self._pump])
        finally:
            self._release()

    def _release(self) -> None:
        self._runner.streams.discard(self)
        if self._portal is not None and self._parts is not None:
            self._portal.call(self._parts.aclose)
        self._parts = None

    def __enter__(self) -> SyncStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _SyncResource(Generic[A]):
    """The blocking face of one async resource of the client."""

    __slots__ = ("_pick", "_runner")

    def __init__(self, runner: _Runner, pick: Callable[[LangGraphClient], A]) -> None:
        self._runner = runner
        self._pick = pick

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _blocking(
    method: Callable[Concatenate[A, P], Awaitable[R]],
) -> Callable[Concatenate[_SyncResource[A], P], R]:
    """The coroutine method ``method`` as a blocking method of the matching sync resource."""

    @functools.wraps(method)
    def blocking(self: _SyncResource[A], /, *args: P.args, **kwargs: P.kwargs) -> R:
        # The coroutine is created inside the portal's loop, where it runs.
        return self._runner.call(lambda client: method(self._pick(client), *args, **kwargs))

    return blocking


def _blocking_stream(
    method: Callable[Concatenate[A, P], SSEStream],
) -> Callable[Concatenate[_SyncResource[A], P], SyncStream]:
    """The stream-returning method ``method`` as one that returns a :class:`SyncStream`."""

    @functools.wraps(method)
    def blocking(self: _SyncResource[A], /, *args: P.args, **kwargs: P.kwargs) -> SyncStream:
        return SyncStream(self._runner, lambda client: method(self._pick(client), *args, **kwargs))

    return blocking


@final
class SyncHttpClient(_SyncResource[HttpClient]):
    """Blocking :class:`HttpClient`: any route of the API."""

    __slots__ = ()
    get = _blocking(HttpClient.get)
    post = _blocking(HttpClient.post)
    put = _blocking(HttpClient.put)
    patch = _blocking(HttpClient.patch)
    delete = _blocking(HttpClient.delete)
    request_json = _blocking(HttpClient.request_json)
    stream = _blocking_stream(HttpClient.stream)


@final
class SyncAssistantsClient(_SyncResource[AssistantsClient]):
    """Blocking :class:`AssistantsClient`."""

    __slots__ = ()
    get = _blocking(AssistantsClient.get)
    get_graph = _blocking(AssistantsClient.get_graph)
    get_schemas = _blocking(AssistantsClient.get_schemas)
    get_subgraphs = _blocking(AssistantsClient.get_subgraphs)
    create = _blocking(AssistantsClient.create)
    update = _blocking(AssistantsClient.update)
    delete = _blocking(AssistantsClient.delete)
    search = _blocking(AssistantsClient.search)
    get_versions = _blocking(AssistantsClient.get_versions)
    set_latest = _blocking(AssistantsClient.set_latest)


@final
class SyncThreadsClient(_SyncResource[ThreadsClient]):
    """Blocking :class:`ThreadsClient`."""

    __slots__ = ()
    get = _blocking(ThreadsClient.get)
    create = _blocking(ThreadsClient.create)
    update = _blocking(ThreadsClient.update)
    delete = _blocking(ThreadsClient.delete)
    search = _blocking(ThreadsClient.search)
    copy = _blocking(ThreadsClient.copy)
    get_state = _blocking(ThreadsClient.get_state)
    update_state = _blocking(ThreadsClient.update_state)
    get_history = _blocking(ThreadsClient.get_history)


@final
class SyncRunsClient(_SyncResource[RunsClient]):
    """Blocking :class:`RunsClient`; ``stream`` and ``join_stream`` give :class:`SyncStream`."""

    __slots__ = ()
    stream = _blocking_stream(RunsClient.stream)
    create = _blocking(RunsClient.create)
    create_batch = _blocking(RunsClient.create_batch)
    wait = _blocking(RunsClient.wait)
    list = _blocking(RunsClient.list)
    get = _blocking(RunsClient.get)
    cancel = _blocking(RunsClient.cancel)
    join = _blocking(RunsClient.join)
    join_stream = _blocking_stream(RunsClient.join_stream)
    delete = _blocking(RunsClient.delete)


@final
class SyncCronClient(_SyncResource[CronClient]):
    """Blocking :class:`CronClient`."""

    __slots__ = ()
    create_for_thread = _blocking(CronClient.create_for_thread)
    create = _blocking(CronClient.create)
    delete = _blocking(CronClient.delete)
    search = _blocking(CronClient.search)


@final
class SyncStoreClient(_SyncResource[StoreClient]):
    """Blocking :class:`StoreClient`."""

    __slots__ = ()
    put_item = _blocking(StoreClient.put_item)
    get_item = _blocking(StoreClient.get_item)
    delete_item = _blocking(StoreClient.delete_item)
    search_items = _blocking(StoreClient.search_items)
    list_namespaces = _blocking(StoreClient.list_namespaces)


@final
class SyncLangGraphClient:
    """The blocking LangGraph client: the same resources and methods as
    :class:`LangGraphClient`, without ``await``.

    ``client`` is a :class:`LangGraphClient` or a function that builds one
    (called inside the portal's loop on first use). ``backend`` and
    ``backend_options`` choose that loop (asyncio by default, or trio).
    Use as ``with`` or call :meth:`close`, which closes open streams, the
    connections and the portal's thread.
    """

    __slots__ = ("_runner", "_url", "assistants", "crons", "http", "runs", "store", "threads")

    def __init__(
        self,
        client: LangGraphClient | Callable[[], LangGraphClient],
        *,
        backend: str = "asyncio",
        backend_options: Mapping[str, Any] | None = None,
        url: str | None = None,
    ) -> None:
        factory = (lambda: client) if isinstance(client, LangGraphClient) else client
        self._runner = _Runner(factory, backend, backend_options)
        self._url = url
        self.http = SyncHttpClient(self._runner, lambda c: c.http)
        self.assistants = SyncAssistantsClient(self._runner, lambda c: c.assistants)
        self.threads = SyncThreadsClient(self._runner, lambda c: c.threads)
        self.runs = SyncRunsClient(self._runner, lambda c: c.runs)
        self.crons = SyncCronClient(self._runner, lambda c: c.crons)
        self.store = SyncStoreClient(self._runner, lambda c: c.store)

    def close(self) -> None:
        """Close open streams and connections, then stop the portal; idempotent."""
        self._runner.close()

    def __enter__(self) -> SyncLangGraphClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where = f" {_origin(self._url)}" if self._url else ""
        state = " closed" if self._runner.closed else ""
        return f"<SyncLangGraphClient{where}{state}>"


def get_sync_client(
    *,
    url: str | None = None,
    api_key: str | _NotProvided | None = NOT_PROVIDED,
    headers: Mapping[str, str] | None = None,
    timeout: Timeout | float | None = None,
    transport: TransportName | AsyncTransport = "fast",
    limits: Limits = DEFAULT_LIMITS,
    secret_headers: Iterable[str] = (),
) -> SyncLangGraphClient:
    """The blocking twin of :func:`~lgbench.client.get_client`, with the same arguments.

    Arguments are checked now; the portal's thread and the connections start
    with the first request.
    """
    factory = _client_factory(
        url=url,
        api_key=api_key,
        headers=headers,
        timeout=timeout,
        transport=transport,
        limits=limits,
        secret_headers=secret_headers,
    )
    return SyncLangGraphClient(factory, url=url if url is not None else DEFAULT_URL)
