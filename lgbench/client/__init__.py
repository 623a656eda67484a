"""A LangGraph API client for asyncio and trio, mirroring the LangGraph Python SDK.

The httpx transport and the synchronous client are loaded on first use (PEP 562): httpx
alone is about a tenth of a second of every ``lgbench run``'s start-up, which the fast
transport on asyncio or trio never needs.
"""

from __future__ import annotations

import typing as _typing

from lgbench._lazy import claim as _claim
from lgbench._lazy import lazy_module_functions as _lazy_module_functions
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
from lgbench.client._sse import EventColumns, EventTuple, ServerSentEvent, SSEDecoder, iter_sse
from lgbench.client._store import StoreClient
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
    "EventColumns",
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

#: The public names loaded on first use, and their private modules.
_LAZY: dict[str, str] = {
    "HttpxTransport": "lgbench.client._httpx_transport",
    "SyncAssistantsClient": "lgbench.client._sync",
    "SyncCronClient": "lgbench.client._sync",
    "SyncHttpClient": "lgbench.client._sync",
    "SyncLangGraphClient": "lgbench.client._sync",
    "SyncRunsClient": "lgbench.client._sync",
    "SyncStoreClient": "lgbench.client._sync",
    "SyncStream": "lgbench.client._sync",
    "SyncThreadsClient": "lgbench.client._sync",
    "get_sync_client": "lgbench.client._sync",
}


for _name in __all__:
    if _name not in _LAZY:
        _claim(globals()[_name], __name__)
del _name

if _typing.TYPE_CHECKING:
    from lgbench.client._httpx_transport import HttpxTransport as HttpxTransport
    from lgbench.client._sync import SyncAssistantsClient as SyncAssistantsClient
    from lgbench.client._sync import SyncCronClient as SyncCronClient
    from lgbench.client._sync import SyncHttpClient as SyncHttpClient
    from lgbench.client._sync import SyncLangGraphClient as SyncLangGraphClient
    from lgbench.client._sync import SyncRunsClient as SyncRunsClient
    from lgbench.client._sync import SyncStoreClient as SyncStoreClient
    from lgbench.client._sync import SyncStream as SyncStream
    from lgbench.client._sync import SyncThreadsClient as SyncThreadsClient
    from lgbench.client._sync import get_sync_client as get_sync_client
else:
    __getattr__, __dir__ = _lazy_module_functions(__name__, globals(), _LAZY, __all__)
