"""Fixture tokens: what the embedded server's bundled Auth handlers accept.

``lgbench.<identity>.<signature>``: the signature is the first 32 hex digits of
HMAC-SHA256(secret, identity), the secret the server's ``LGBENCH_AUTH_SECRET``. Knowing one
user's token tells nothing of another's, so a user cannot act as another by guessing.
Plain standard library: the engine mints tokens without the server extra installed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

__all__ = ["AUTH_SECRET_ENV", "fixture_token", "identity_of"]

#: The server environment variable holding the fixture tokens' secret.
AUTH_SECRET_ENV: Final = "LGBENCH_AUTH_SECRET"

_PREFIX: Final = "lgbench"
_SIGNATURE_HEX: Final = 32
_IDENTITY: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _signature(secret: str, identity: str) -> str:
    digest = hmac.new(secret.encode(), identity.encode(), hashlib.sha256).hexdigest()
    return digest[:_SIGNATURE_HEX]


def fixture_token(identity: str, secret: str) -> str:
    """The fixture token of ``identity`` (1 to 64 letters, digits, ``_``, ``-``) under
    ``secret``; :class:`ValueError` for another identity or an empty secret."""
    if not _IDENTITY.fullmatch(identity):
        raise ValueError("an identity is 1 to 64 letters, digits, '_' or '-'")
    if not secret:
        raise ValueError("the secret must not be empty")
    return f"{_PREFIX}.{identity}.{_signature(secret, identity)}"


def identity_of(token: str, secret: str) -> str | None:
    """The identity a fixture token proves under ``secret``; None when it proves nothing."""
    prefix, _, rest = token.partition(".")
    identity, _, signature = rest.rpartition(".")
    if prefix != _PREFIX or not secret or not _IDENTITY.fullmatch(identity):
        return None
    if not hmac.compare_digest(signature, _signature(secret, identity)):
        return None
    return identity
