"""A deterministic streaming chat model for the bundled agent graphs (server side).

:class:`ScriptedChatModel` is a real LangChain chat model: called inside a graph node, its
tokens reach the server's ``messages`` and ``messages-tuple`` stream modes exactly as a
provider's would, one chunk per token, ``token_gap_s`` apart after ``think_s``. What it says
is decided by the caller per call (:class:`Script`): reply tokens
(:func:`lgbench.graphs._reply.reply_tokens`) or tool calls. No network, no API key.
"""

from __future__ import annotations

# Runs in the server's asyncio loop (see _sleepy.py).
import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

__all__ = ["Script", "ScriptedChatModel"]


@dataclass(frozen=True)
class Script:
    """What one call of the model answers: streamed ``tokens``, or ``tool_calls``
    (``{"name", "args", "id"}`` each) with no text."""

    tokens: Sequence[str] = ()
    tool_calls: Sequence[dict[str, Any]] = field(default_factory=tuple)
    think_s: float = 0.0
    token_gap_s: float = 0.0
    message_id: str | None = None


class ScriptedChatModel(BaseChatModel):
    """Answers each call with the :class:`Script` passed as ``script=`` (see module doc)."""

    @property
    def _llm_type(self) -> str:
        return "lgbench-scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        script: Script = kwargs["script"]
        message = AIMessage(
            content="".join(script.tokens),
            tool_calls=list(script.tool_calls),
            id=script.message_id,
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        raise NotImplementedError("the bundled graphs stream asynchronously")

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        script: Script = kwargs["script"]
        if script.think_s:
            await asyncio.sleep(script.think_s)
        if script.tool_calls:
            chunk = AIMessageChunk(
                content="",
                id=script.message_id,
                tool_call_chunks=[
                    {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                    for i, c in enumerate(script.tool_calls)
                ],
            )
            yield ChatGenerationChunk(message=chunk)
            return
        for i, token in enumerate(script.tokens):
            if i and script.token_gap_s:
                await asyncio.sleep(script.token_gap_s)
            # The base class reports each chunk to the callbacks (the stream modes).
            yield ChatGenerationChunk(message=AIMessageChunk(content=token, id=script.message_id))
