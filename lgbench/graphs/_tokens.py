"""The tokens the bundled graphs write into thread state.

Every bundled graph keeps a list of strings under :data:`TOKENS_KEY`, updated with an
additive reducer, so each run only appends. A run's first completed step appends
``start:<run_id>`` and its last step appends ``end:<run_id>``. Read back from a thread's
state, the list shows which runs executed on the thread, in which order, whether they
overlapped (``start:A start:B end:A``) and which were cut short (a ``start`` with no
``end``). This module has no LangGraph dependency, so the checker can use it without the
``lgbench[server]`` extra.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["TOKENS_KEY", "TokenKind", "end_token", "parse_token", "start_token"]

#: The state key holding the token list in every bundled graph.
TOKENS_KEY: Final = "tokens"

TokenKind = Literal["start", "end"]


def start_token(run_id: str) -> str:
    """The token a run appends when its first step completes."""
    return f"start:{run_id}"


def end_token(run_id: str) -> str:
    """The token a run appends when its last step completes."""
    return f"end:{run_id}"


def parse_token(token: str) -> tuple[TokenKind, str]:
    """Split a token into its kind and run id.

    Raises:
        ValueError: the token is not ``start:<run_id>`` or ``end:<run_id>``.
    """
    kind, sep, run_id = token.partition(":")
    if not sep or not run_id:
        raise ValueError(f"not a run token: {token!r}")
    if kind == "start":
        return "start", run_id
    if kind == "end":
        return "end", run_id
    raise ValueError(f"unknown token kind {kind!r} in {token!r}")
