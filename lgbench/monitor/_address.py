"""Where the exporters listen and push: ``--prometheus HOST:PORT`` and ``--otlp URL``.

Both are checked before anything runs: a malformed address is a
:class:`~lgbench.errors.UsageError` (exit code 2) naming the flag.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from dataclasses import dataclass
from typing import Final, final

from lgbench.errors import UsageError

__all__ = ["ListenAddress", "otlp_metrics_url", "parse_listen_address"]

_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_OTLP_METRICS_PATH: Final = "/v1/metrics"


@final
@dataclass(frozen=True, slots=True)
class ListenAddress:
    """A host and port to listen on (``port`` 0: a free one, chosen when binding)."""

    host: str
    port: int

    @property
    def loopback(self) -> bool:
        """Only this machine can connect (127.0.0.0/8, ::1 or ``localhost``)."""
        if self.host.lower() in _LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def url(self, port: int | None = None) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port if port is None else port}/metrics"


def parse_listen_address(text: str, *, flag: str = "--prometheus") -> ListenAddress:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6); raises :class:`UsageError` when malformed."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not host:
        raise UsageError(f"{flag} {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9464")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise UsageError(f"{flag} {text!r}: {host!r} is not an IPv6 address") from None
    elif ":" in host:
        raise UsageError(f"{flag} {text!r}: write an IPv6 address in brackets, e.g. [::1]:9464")
    if not host or any(char.isspace() or char in "/?#@" for char in host):
        raise UsageError(f"{flag} {text!r}: {host!r} is not a host name or address")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(f"{flag} {text!r}: the port must be a number from 0 to 65535")
    return ListenAddress(host, int(port_text))


def otlp_metrics_url(text: str, *, flag: str = "--otlp") -> str:
    """The OTLP/HTTP metrics endpoint of ``text``: an ``http(s)://`` URL; a URL without a path
    gets the standard ``/v1/metrics`` (as ``OTEL_EXPORTER_OTLP_ENDPOINT`` does), one with a
    path is used as it is."""
    try:
        parts = urllib.parse.urlsplit(text.strip())
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"{flag} {text!r}: not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{flag} {text!r}: expected an http:// or https:// URL of an OTLP/HTTP collector,"
            " e.g. http://127.0.0.1:4318"
        )
    if parts.username or parts.password:
        raise UsageError(f"{flag}: no credentials in the URL")
    del port
    path = parts.path if parts.path not in ("", "/") else _OTLP_METRICS_PATH
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
