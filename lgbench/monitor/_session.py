"""The exporters of one ``lgbench run``, started before the load and stopped after it:
:class:`MetricsSession`.

Everything that can be wrong with the flags (a malformed address, a taken port, an unknown
host, a missing extra) is found in :meth:`MetricsSession.start`, before the target is
contacted: a :class:`~lgbench.errors.UsageError`, exit code 2, never a half-started run.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any, Final, final

from lgbench.engine import RunListener
from lgbench.monitor._address import otlp_metrics_url, parse_listen_address
from lgbench.monitor._figures import MetricsFeed
from lgbench.monitor._otlp import OtlpPusher
from lgbench.monitor._prometheus import PrometheusExporter

__all__ = ["DEFAULT_GRACE_S", "DEFAULT_PUSH_EVERY_S", "MetricsSession", "MetricsSettings"]

#: How long ``/metrics`` stays up after the run: Prometheus's default scrape interval, so the
#: next scrape after the end sees the final figures.
DEFAULT_GRACE_S: Final = 15.0
#: How often the OTLP pusher sends (the OpenTelemetry SDK's periodic reader would say 60 s;
#: a load test's figures are worth more often).
DEFAULT_PUSH_EVERY_S: Final = 10.0


@final
@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """What ``--prometheus``, ``--prometheus-grace``, ``--otlp`` and ``--otlp-every`` say."""

    prometheus: str | None = None
    grace_s: float = DEFAULT_GRACE_S
    otlp: str | None = None
    push_every_s: float = DEFAULT_PUSH_EVERY_S

    @property
    def wanted(self) -> bool:
        return self.prometheus is not None or self.otlp is not None


@final
class MetricsSession:
    """Starts the exporters the settings ask for; :attr:`listeners` go into ``RunOptions``.

    ``note`` prints a line for the user (where /metrics is served, warnings).
    """

    def __init__(self, settings: MetricsSettings, note: Callable[[str], None]) -> None:
        self.settings = settings
        self._note = note
        self.feed = MetricsFeed()
        self.prometheus: PrometheusExporter | None = None
        self.otlp: OtlpPusher | None = None

    @property
    def listeners(self) -> tuple[RunListener, ...]:
        return (self.feed,) if self.settings.wanted else ()

    def start(self) -> None:
        """Check every flag, then bind and start (see the module docstring)."""
        settings = self.settings
        address = parse_listen_address(settings.prometheus) if settings.prometheus else None
        url = otlp_metrics_url(settings.otlp) if settings.otlp else None
        if url is not None:
            self.otlp = OtlpPusher(self.feed, url, every_s=settings.push_every_s, warn=self._warn)
            self.otlp.check()
        if address is not None:
            if not address.loopback:
                self._warn(
                    f"--prometheus {settings.prometheus}: listening beyond this machine; anyone"
                    " who can reach it can read the run's figures (names of operations and"
                    " scenarios, the workload's name and the run folder)"
                )
            self.prometheus = PrometheusExporter(self.feed, address)
            self.prometheus.start()
            self._note(f"serving Prometheus metrics at {self.prometheus.url}")
        if self.otlp is not None:
            self.otlp.start()
            self._note(f"pushing OTLP metrics to {url} every {settings.push_every_s:g} s")

    def finish(self) -> None:
        """After a completed run: the last OTLP push, and /metrics kept up for the grace
        (Ctrl-C ends the wait early). Then :meth:`close`."""
        try:
            if self.otlp is not None:
                self.otlp.close()
            grace_s = self.settings.grace_s
            if self.prometheus is not None and grace_s > 0:
                self._note(
                    f"keeping {self.prometheus.url} up for {grace_s:g} s more, so the last"
                    " scrape sees the final figures (--prometheus-grace; Ctrl-C ends it)"
                )
                with contextlib.suppress(KeyboardInterrupt), _sigterm_interrupts():
                    time.sleep(grace_s)
        finally:
            self.close()

    def close(self) -> None:
        """Stop everything at once (also after a failed run)."""
        if self.otlp is not None:
            self.otlp.close()
        if self.prometheus is not None:
            self.prometheus.close()

    def _warn(self, message: str) -> None:
        self._note(f"[yellow]warning[/]: {_escape(message)}")

    def __enter__(self) -> MetricsSession:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM ends the grace as Ctrl-C does (the run's own handlers are gone by then)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
