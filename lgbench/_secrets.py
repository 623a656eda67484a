"""Credentials that cannot be shown: one mechanism for every place lgbench renders or records.

An API key, a bearer token or a cookie goes on the wire and nowhere else. Three tools keep it
there:

- :class:`Secret` wraps a credential value. It is a ``str`` (transports put it on the wire
  by concatenation or ``encode``, which see the real text), but ``str()``, ``repr()``,
  ``format()`` and f-strings show ``[redacted]``, so a header list, a request or an error that
  interpolates the value prints the placeholder. :meth:`Secret.reveal` is the one explicit
  way to the text.
- :func:`is_secret_header` names the headers whose values are credentials: ``authorization``,
  ``proxy-authorization``, ``x-api-key``, ``cookie``, ``set-cookie``, any name containing
  ``key``, ``token``, ``secret``, ``auth``, ``password`` or ``session``, and any name a
  caller adds (a workload may mark a custom header secret). :func:`protect_headers` wraps
  their values; :func:`redacted_headers` is what may be shown of a header mapping.
- :func:`redact_url` is what may be shown of a URL someone typed: its user and password,
  query and fragment (where tokens hide) become ``[redacted]``.
- :func:`secret_texts` lists the strings to scrub from text that came from elsewhere (an
  error answer that echoes the token back, a library's exception message), and
  :func:`scrub` replaces them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final, final

__all__ = [
    "REDACTED",
    "Secret",
    "is_secret_header",
    "protect_headers",
    "redact_url",
    "redacted_headers",
    "scrub",
    "secret_texts",
]

REDACTED: Final = "[redacted]"

# Parts of header names that carry credentials. "auth" covers authorization,
# proxy-authorization and x-auth-*; "key" covers x-api-key and api-key.
_SECRET_NAME_PARTS: Final = ("key", "token", "secret", "auth", "cookie", "password", "session")
# Shorter values are not scrubbed from text: that would mangle it, and such a value
# protects nothing anyway.
MIN_SCRUBBED_CHARS: Final = 4


@final
class Secret(str):
    """A credential: a ``str`` whose ``str()``, ``repr()`` and formatting show ``[redacted]``.

    Concatenation, ``join`` and ``encode`` use the real text (that is how it reaches the
    wire); everything that renders a value for people goes through ``str``/``repr``/
    ``format`` and gets the placeholder. ``reveal()`` returns the plain text.
    """

    __slots__ = ()

    def __new__(cls, value: str = "") -> Secret:
        # str() of a Secret is its placeholder: a Secret made of one keeps the credential.
        plain = str.__str__(value) if isinstance(value, Secret) else value
        return super().__new__(cls, plain)

    def __repr__(self) -> str:
        return repr(REDACTED)

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, format_spec: str) -> str:
        return format(REDACTED, format_spec)

    def reveal(self) -> str:
        """The credential itself, as a plain ``str``."""
        return str.__str__(self)


def is_secret_header(name: str, extra: Iterable[str] = ()) -> bool:
    """Whether the header ``name`` carries a credential (``extra``: more names, any case)."""
    lower = name.lower()
    return any(part in lower for part in _SECRET_NAME_PARTS) or lower in {e.lower() for e in extra}


def protect_headers(headers: Mapping[str, str] | None, extra: Iterable[str] = ()) -> dict[str, str]:
    """``headers`` with lower-case names and every credential value wrapped in :class:`Secret`."""
    extra = tuple(extra)
    protected: dict[str, str] = {}
    for name, value in (headers or {}).items():
        key = name.lower()
        if is_secret_header(key, extra) and not isinstance(value, Secret):
            protected[key] = Secret(value)
        else:
            protected[key] = value
    return protected


def redacted_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], extra: Iterable[str] = ()
) -> dict[str, str]:
    """What may be shown of ``headers``: credential values replaced by ``[redacted]``."""
    extra = tuple(extra)
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {
        name: REDACTED if is_secret_header(name, extra) or isinstance(value, Secret) else value
        for name, value in items
    }


def secret_texts(headers: Iterable[tuple[str, str]], extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The strings to scrub from text: credential values, and the token of ``Bearer x``."""
    extra = tuple(extra)
    secrets: set[str] = set()
    for name, value in headers:
        if isinstance(value, Secret) or is_secret_header(name, extra):
            plain = value.reveal() if isinstance(value, Secret) else value
            _scheme, _, token = plain.partition(" ")
            secrets.update(s for s in (plain, token.strip()) if len(s) >= MIN_SCRUBBED_CHARS)
    # Longest first, so a value is scrubbed whole before any part of it.
    return tuple(sorted(secrets, key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every one of ``secrets`` replaced by ``[redacted]``."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


_USERINFO: Final = re.compile(r"//[^/?#\s]*@")
_QUERY_OR_FRAGMENT: Final = re.compile(r"([?#]).*", re.DOTALL)


def redact_url(url: str) -> str:
    """``url`` as an error message may quote it: ``user:password@``, the query and the
    fragment replaced by ``[redacted]`` (works on URLs too broken to parse)."""
    text = _USERINFO.sub("//" + REDACTED + "@", url, count=1)
    return _QUERY_OR_FRAGMENT.sub(lambda m: m.group(1) + REDACTED, text, count=1)
