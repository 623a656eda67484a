"""The replies the bundled chat graphs stream: derived from the run and the turn.

A fake chat model has no opinions, so its reply can be a function of what the server knows:
the run id and the conversation's turn number. A client that saw a stream of ``chat`` or
``agent`` can therefore tell whether it got exactly the reply the run produced — every
token once, in order — without trusting the server to say so. No LangGraph dependency.
"""

from __future__ import annotations

__all__ = ["reply_text", "reply_tokens"]


def reply_tokens(run_id: str, turn: int, n: int) -> list[str]:
    """The ``n`` tokens of the reply of run ``run_id`` at conversation turn ``turn``
    (from 1); each token but the last ends with a space, so they join to :func:`reply_text`."""
    tag = run_id[-8:]
    tokens = [f"t{turn}.{i}-{tag}" for i in range(1, n + 1)]
    return [f"{token} " for token in tokens[:-1]] + tokens[-1:]


def reply_text(run_id: str, turn: int, n: int) -> str:
    """The whole reply (:func:`reply_tokens` joined)."""
    return "".join(reply_tokens(run_id, turn, n))
