"""A LangGraph API client for asyncio and trio, mirroring the LangGraph Python SDK."""

from __future__ import annotations

from lgbench.client._assistants import AssistantsClient
from lgbench.client._client import LangGraphClient, get_client
from lgbench.client._crons import CronClient
from lgbench.client._errors import *  # noqa: F403
from lgbench.client._errors import __all__ as _errors_all
from lgbench.client._fast import FastTransport
from lgbench.client._http import HttpClient, SSEStream
from lgbench.client._httpx_transport import HttpxTransport
from lgbench.client._models import Request, Response, StreamPart, Timeout
from lgbench.client._runs import RunError, RunsClient
from lgbench.client._sse import ServerSentEvent, SSEDecoder, iter_sse
from lgbench.client._store import StoreClient
from lgbench.client._sync import (
    SyncAssistantsClient,
    SyncCronClient,
    SyncHttpClient,
    SyncLangGraphClient,
    SyncRunsClient,
    SyncStoreClient,
    SyncStream,
    SyncThreadsClient,
    get_sync_client,
)
from lgbench.client._threads import ThreadsClient
from lgbench.client._transport import AsyncTransport, MockTransport

__all__ = sorted(
    [
        *_errors_all,
        "AssistantsClient",
        "AsyncTransport",
        "CronClient",
        "FastTransport",
        "HttpClient",
        "HttpxTransport",
        "LangGraphClient",
        "MockTransport",
        "Request",
        "Response",
        "RunError",
        "RunsClient",
        "SSEDecoder",
        "SSEStream",
        "ServerSentEvent",
        "StoreClient",
        "StreamPart",
        "SyncAssistantsClient",
        "SyncCronClient",
        "SyncHttpClient",
        "SyncLangGraphClient",
        "SyncRunsClient",
        "SyncStoreClient",
        "SyncStream",
        "SyncThreadsClient",
        "ThreadsClient",
        "Timeout",
        "get_client",
        "get_sync_client",
        "iter_sse",
    ]
)
