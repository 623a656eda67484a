"""A LangGraph API client for asyncio and trio, mirroring the LangGraph Python SDK."""

from __future__ import annotations

from lgbench.client._assistants import AssistantsClient
from lgbench.client._client import LangGraphClient, get_client
from lgbench.client._crons import CronClient
from lgbench.client._errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ClientError,
    ConflictError,
    ConnectError,
    ConnectTimeout,
    InternalServerError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ReadTimeout,
    RedirectError,
    RequestTimeout,
    ResponseLimitError,
    TimeoutError,
    TransportError,
    UnprocessableEntityError,
    api_error_for_status,
)
from lgbench.client._fast import FastTransport
from lgbench.client._http import HttpClient, SSEStream
from lgbench.client._httpx_transport import HttpxTransport
from lgbench.client._models import Limits, Request, Response, StreamPart, Timeout
from lgbench.client._resource import OnConflictBehavior
from lgbench.client._runs import (
    CancelAction,
    DisconnectMode,
    IfNotExists,
    MultitaskStrategy,
    OnCompletionBehavior,
    ResumableStream,
    RunCreateMetadata,
    RunError,
    RunsClient,
    RunStatus,
    StreamMode,
    run_metadata_from_location,
)
from lgbench.client._sse import EventTuple, ServerSentEvent, SSEDecoder, iter_sse
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
from lgbench.client._threads import ThreadsClient, ThreadStatus
from lgbench.client._transport import AsyncTransport, MockTransport

__all__ = [
    "ApiError",
    "AssistantsClient",
    "AsyncTransport",
    "AuthenticationError",
    "BadRequestError",
    "CancelAction",
    "ClientError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeout",
    "CronClient",
    "DisconnectMode",
    "EventTuple",
    "FastTransport",
    "HttpClient",
    "HttpxTransport",
    "IfNotExists",
    "InternalServerError",
    "LangGraphClient",
    "Limits",
    "MockTransport",
    "MultitaskStrategy",
    "NetworkError",
    "NotFoundError",
    "OnCompletionBehavior",
    "OnConflictBehavior",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitError",
    "ReadTimeout",
    "RedirectError",
    "Request",
    "RequestTimeout",
    "Response",
    "ResponseLimitError",
    "ResumableStream",
    "RunCreateMetadata",
    "RunError",
    "RunStatus",
    "RunsClient",
    "SSEDecoder",
    "SSEStream",
    "ServerSentEvent",
    "StoreClient",
    "StreamMode",
    "StreamPart",
    "SyncAssistantsClient",
    "SyncCronClient",
    "SyncHttpClient",
    "SyncLangGraphClient",
    "SyncRunsClient",
    "SyncStoreClient",
    "SyncStream",
    "SyncThreadsClient",
    "ThreadStatus",
    "ThreadsClient",
    "Timeout",
    "TimeoutError",
    "TransportError",
    "UnprocessableEntityError",
    "api_error_for_status",
    "get_client",
    "get_sync_client",
    "iter_sse",
    "run_metadata_from_location",
]

# Public objects say they come from the package, not from its private modules (httpx does the same).
for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.client."):
        _obj.__module__ = "lgbench.client"
del _name, _obj
