"""A LangGraph API client for asyncio and trio, mirroring the LangGraph Python SDK."""

from __future__ import annotations

from lgbench.client._errors import *  # noqa: F403
from lgbench.client._errors import __all__ as _errors_all
from lgbench.client._http import HttpClient, SSEStream
from lgbench.client._models import Request, Response, StreamPart, Timeout
from lgbench.client._sse import ServerSentEvent, SSEDecoder, iter_sse
from lgbench.client._transport import AsyncTransport, MockTransport

__all__ = sorted(
    [
        *_errors_all,
        "AsyncTransport",
        "HttpClient",
        "MockTransport",
        "Request",
        "Response",
        "SSEDecoder",
        "SSEStream",
        "ServerSentEvent",
        "StreamPart",
        "Timeout",
        "iter_sse",
    ]
)
