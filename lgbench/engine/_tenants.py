"""Virtual users as users of an authenticated deployment (``[target.auth]``).

:func:`load_tokens` reads the users' tokens from the one source the workload names (an
environment variable holding a JSON list, a file of one token a line, or fixture tokens
lgbench mints for the embedded server with auth) before anything runs: a missing, empty or
unreadable source is a :class:`~lgbench.errors.UsageError` (exit code 2) naming the field,
never the token. :class:`Tenants` gives each user a label (``user-1`` …) and a client of its
own on the load's connections, whose token header is a credential (hidden from reprs, scrubbed
from error text). Only labels go any further: the history, the summary and every report know
users by their labels alone.

VUs map to users round robin, VU ``k`` (from 1, per scenario) to user ``(k - 1) mod n``, or,
with ``vus_per_user = m``, ``m`` consecutive VUs to each user in turn. A cross-tenant step
(``as_user = "other"``) is made as another user, drawn from the VU's own generator (so a run
repeats), never the VU's own.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, final

from lgbench.client import LangGraphClient
from lgbench.errors import UsageError
from lgbench.server import fixture_token
from lgbench.workload import AuthConfig

__all__ = ["Tenants", "User", "load_tokens", "user_label"]

#: The longest token accepted (a JWT with many claims is a few kilobytes).
_MAX_TOKEN_CHARS: Final = 16_384
_MAX_USERS: Final = 100_000


def user_label(number: int) -> str:
    """The label of user ``number`` (from 1): ``user-3``."""
    return f"user-{number}"


@final
@dataclass(frozen=True, slots=True)
class User:
    """One user: its label and its client (which carries its token)."""

    label: str
    client: LangGraphClient

    def __repr__(self) -> str:
        return f"<User {self.label}>"


def _where(auth: AuthConfig) -> str:
    return f"[target.auth] {auth.source}"


def _check_tokens(auth: AuthConfig, tokens: Sequence[object], what: str) -> list[str]:
    if not tokens:
        raise UsageError(f"{_where(auth)}: {what} holds no token")
    if len(tokens) > _MAX_USERS:
        raise UsageError(f"{_where(auth)}: {what} holds more than {_MAX_USERS} tokens")
    checked: list[str] = []
    for number, token in enumerate(tokens, 1):
        # Never quote the token: say which one, and what is wrong with it.
        if not isinstance(token, str) or not token:
            raise UsageError(f"{_where(auth)}: token {number} of {what} is not a non-empty string")
        if len(token) > _MAX_TOKEN_CHARS or not token.isprintable() or token != token.strip():
            raise UsageError(
                f"{_where(auth)}: token {number} of {what} is not one line of printable "
                f"characters without surrounding spaces (at most {_MAX_TOKEN_CHARS})"
            )
        checked.append(token)
    return checked


def load_tokens(
    auth: AuthConfig,
    *,
    environ: Mapping[str, str] | None = None,
    fixture_secret: str | None = None,
) -> list[str]:
    """The users' tokens, in user order; :class:`UsageError` when the source fails.

    ``fixture_secret`` signs the tokens of ``users = n`` (the embedded server's secret).
    """
    env = os.environ if environ is None else environ
    if auth.tokens_env is not None:
        name = auth.tokens_env
        raw = env.get(name)
        if raw is None:
            raise UsageError(f"{_where(auth)}: the environment variable {name} is not set")
        if not raw.strip():
            raise UsageError(f"{_where(auth)}: the environment variable {name} is empty")
        try:
            decoded = json.loads(raw)
        except ValueError:
            raise UsageError(
                f"{_where(auth)}: {name} does not hold JSON (expected a list of token strings)"
            ) from None
        if not isinstance(decoded, list):
            raise UsageError(f"{_where(auth)}: {name} holds JSON that is not a list of tokens")
        return _check_tokens(auth, decoded, name)
    if auth.tokens_file is not None:
        path = Path(auth.tokens_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"{_where(auth)}: cannot read {path}: {exc.strerror or type(exc).__name__}"
            ) from None
        except UnicodeDecodeError:
            raise UsageError(f"{_where(auth)}: {path} is not UTF-8 text") from None
        lines = [line.strip() for line in text.splitlines()]
        return _check_tokens(auth, [t for t in lines if t and not t.startswith("#")], str(path))
    assert auth.users is not None
    if not fixture_secret:
        raise UsageError(
            f"{_where(auth)}: fixture tokens need the embedded server with auth"
            " ([target.embedded] auth = true)"
        )
    return [fixture_token(user_label(n), fixture_secret) for n in range(1, auth.users + 1)]


@final
class Tenants:
    """The users of a run and which VU acts as which (see the module docstring)."""

    __slots__ = ("_by_label", "auth", "users")

    def __init__(self, auth: AuthConfig, client: LangGraphClient, tokens: Sequence[str]) -> None:
        self.auth = auth
        header = auth.header
        users = []
        for number, token in enumerate(tokens, 1):
            value = f"{auth.scheme} {token}" if header == "authorization" else token
            users.append(
                User(user_label(number), client.with_headers({header: value}, secret=True))
            )
        self.users: tuple[User, ...] = tuple(users)
        self._by_label = {user.label: user for user in self.users}

    def __repr__(self) -> str:
        return f"<Tenants {len(self.users)} users>"

    def user_for(self, vu: int) -> User:
        """The user VU number ``vu`` (from 1) acts as."""
        per_user = self.auth.vus_per_user or 1
        return self.users[((vu - 1) // per_user) % len(self.users)]

    def other_than(self, user: User, rng: random.Random) -> User:
        """Another user than ``user``, drawn from ``rng``; ``user`` itself when it is alone."""
        if len(self.users) < 2:
            return user
        position = rng.randrange(len(self.users) - 1)
        other = self.users[position]
        return other if other is not user else self.users[-1]

    def by_label(self, label: str | None) -> User | None:
        """The user labelled ``label``, None when there is none."""
        return self._by_label.get(label) if label is not None else None
