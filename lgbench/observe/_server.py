"""What the target says about itself while under load: queue depth, workers, its process.

:class:`ServerSampler` reads, once per call of :meth:`ServerSampler.sample`:

- ``GET /metrics?format=json`` — langgraph-api's own snapshot: the run queue (``n_pending``,
  ``n_running``, how long pending runs have waited) and the workers (``max``, ``active``,
  ``available``), plus HTTP request counts and database pool figures on servers that have them;
- ``GET /metrics`` — Prometheus text: the server process's RSS, CPU seconds and open files
  (the ``process_*`` metrics every Prometheus client library exports), and the queue and worker
  gauges under their Prometheus names when the server exports those (then they stand in for a
  missing JSON endpoint).

and returns one flat ``{name: float | None}`` dict (see :data:`FIGURES` and docs/soak.md).
``None`` is the server saying "no value", e.g. no pending run to have a wait time.

Observation must never hurt the run it observes, so :meth:`~ServerSampler.sample` never raises
(cancellation aside) and never takes longer than ``timeout_s``:

- an endpoint the target does not offer (404, 405, 501, 401, 403; JSON that is not JSON; text
  with no figure lgbench knows) is dropped for good at its first answer;
- a sample that gets no answer at all (timeout, refused, reset, 5xx) is a failure; after
  ``max_failures`` failures in a row sampling is suspended and retried every ``retry_s``
  (a server killed and restarted by fault injection comes back into view), or stops for good
  with ``retry_s=None``;
- the first time sampling stops or is suspended, one warning goes to ``on_warning`` (the run's
  warning list); :attr:`ServerSampler.status` says where it stands at any time.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, final

import anyio

from lgbench.client import HttpClient

__all__ = [
    "FIGURES",
    "ServerSampler",
    "figures_from_metrics_json",
    "figures_from_prometheus",
    "parse_prometheus_text",
]

FIGURES: Final[Mapping[str, str]] = {
    "queue.n_pending": "runs waiting for a worker",
    "queue.n_running": "runs being executed",
    "queue.pending_wait_max_s": "longest wait of a pending run so far (None: none pending)",
    "queue.pending_wait_median_s": "median wait of the pending runs (None: none pending)",
    "queue.pending_unblocked_wait_max_s": (
        "longest wait of a pending run that no running run on its thread holds back"
    ),
    "workers.max": "runs the server executes at once (N_JOBS_PER_WORKER)",
    "workers.active": "workers executing a run",
    "workers.available": "workers idle",
    "api.http_requests": "HTTP requests the server counted (only with LANGGRAPH_METRICS_ENABLED)",
    "process.rss_bytes": "the server process's resident memory (Prometheus text)",
    "process.cpu_s": "CPU seconds the server process has used (Prometheus text)",
    "process.cpu_percent": "CPU of the server process between two samples (100 = one core)",
    "process.open_fds": "open file descriptors of the server process (Prometheus text)",
}
"""The figures a langgraph-api server gives, by the key :meth:`ServerSampler.sample` uses.

Other numeric fields of the JSON (e.g. ``postgres.pool_size``, ``redis.in_use_connections``
on a Postgres deployment) come through under their dotted path as well.
"""

DEFAULT_TIMEOUT_S: Final = 1.0
DEFAULT_MAX_FAILURES: Final = 3
DEFAULT_RETRY_S: Final = 60.0

_JSON_PATH: Final = "/metrics?format=json"
_TEXT_PATH: Final = "/metrics"
_INFO_PATH: Final = "/info"
# Statuses that mean "this endpoint is not offered to us": asking again will not change it.
_ABSENT_STATUSES: Final = frozenset({401, 403, 404, 405, 410, 501})
# A body bigger than this is not a metrics snapshot worth a second of the run.
_MAX_BODY_BYTES: Final = 4 * 1024 * 1024
_CLOSE_TIMEOUT_S: Final = 1.0

_JSON_RENAMES: Final[Mapping[str, str]] = {
    "queue.pending_runs_wait_time_max_secs": "queue.pending_wait_max_s",
    "queue.pending_runs_wait_time_med_secs": "queue.pending_wait_median_s",
    "queue.pending_unblocked_runs_wait_time_max_secs": "queue.pending_unblocked_wait_max_s",
}
# langgraph-api's gauges end with these names after its METRIC_PREFIX (``lg_api_`` by default).
_PROMETHEUS_SUFFIXES: Final[Mapping[str, str]] = {
    "num_pending_runs": "queue.n_pending",
    "num_running_runs": "queue.n_running",
    "workers_max": "workers.max",
    "workers_active": "workers.active",
    "workers_available": "workers.available",
}
_PROMETHEUS_NAMES: Final[Mapping[str, str]] = {
    "process_resident_memory_bytes": "process.rss_bytes",
    "process_cpu_seconds_total": "process.cpu_s",
    "process_open_fds": "process.open_fds",
}

Figures = dict[str, float | None]


# --- parsing (pure) ---------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _flatten(prefix: str, value: Any, into: Figures) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, into)
    elif value is None:
        into[_JSON_RENAMES.get(prefix, prefix)] = None
    else:
        number = _number(value)
        if number is not None:
            into[_JSON_RENAMES.get(prefix, prefix)] = number


def figures_from_metrics_json(body: Mapping[str, Any]) -> Figures:
    """The flat figures of a ``GET /metrics?format=json`` answer.

    Nested objects become dotted keys, numbers become floats, nulls stay ``None``; the queue
    wait fields are renamed (``queue.pending_wait_max_s``...); the list of HTTP request
    counts becomes its sum, ``api.http_requests``; other lists and strings are left out.
    """
    figures: Figures = {}
    for key, value in body.items():
        if key == "api" and isinstance(value, Mapping):
            counts = value.get("http_requests_total")
            if isinstance(counts, list):
                total = 0.0
                for entry in counts:
                    count = _number(entry.get("count")) if isinstance(entry, Mapping) else None
                    total += count or 0.0
                figures["api.http_requests"] = total
            continue
        _flatten(str(key), value, figures)
    return figures


def _parse_labels(line: str, i: int) -> tuple[dict[str, str], int]:
    """The ``{a="b",...}`` starting at ``line[i]``: the labels, and the index after them."""
    labels: dict[str, str] = {}
    i += 1
    while True:
        while line[i] in " \t,":
            i += 1
        if line[i] == "}":
            return labels, i + 1
        equals = line.index("=", i)
        name = line[i:equals].strip()
        i = equals + 1
        while line[i] in " \t":
            i += 1
        if line[i] != '"':
            raise ValueError("label value is not quoted")
        i += 1
        chars: list[str] = []
        while line[i] != '"':
            if line[i] == "\\":
                i += 1
                chars.append("\n" if line[i] == "n" else line[i])
            else:
                chars.append(line[i])
            i += 1
        labels[name] = "".join(chars)
        i += 1


def parse_prometheus_text(text: str) -> list[tuple[str, dict[str, str], float]]:
    """The samples of a Prometheus text exposition: ``(name, labels, value)`` each.

    Comments (``# HELP``, ``# TYPE``) and lines that do not parse are skipped; values may be
    ``NaN`` / ``+Inf``; timestamps are ignored.
    """
    samples: list[tuple[str, dict[str, str], float]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        i = 0
        while i < len(line) and line[i] not in "{ \t":
            i += 1
        name = line[:i]
        try:
            labels: dict[str, str] = {}
            if i < len(line) and line[i] == "{":
                labels, i = _parse_labels(line, i)
            value = float(line[i:].split()[0])
        except (ValueError, IndexError):
            continue
        if name:
            samples.append((name, labels, value))
    return samples


def _figure_for(name: str) -> str | None:
    figure = _PROMETHEUS_NAMES.get(name)
    if figure is not None:
        return figure
    for suffix, figure in _PROMETHEUS_SUFFIXES.items():
        if name == suffix or name.endswith("_" + suffix):
            return figure
    return None


def figures_from_prometheus(text: str) -> Figures:
    """The known figures (see :data:`FIGURES`) in a Prometheus text exposition.

    A metric with several label sets is summed over them; non-finite values are left out.
    """
    figures: Figures = {}
    for name, _labels, value in parse_prometheus_text(text):
        figure = _figure_for(name)
        if figure is not None and math.isfinite(value):
            figures[figure] = (figures.get(figure) or 0.0) + value
    return figures


# --- sampling ---------------------------------------------------------------------------------


class _Absent(Exception):
    """The endpoint is not offered: drop it for good."""


class _NoAnswer(Exception):
    """No usable answer this time: counts towards suspension."""


@final
class _Endpoint:
    __slots__ = ("absent", "failures", "last_failure", "name", "path")

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path
        self.absent: str | None = None
        self.failures = 0
        self.last_failure = ""

    def failed(self, reason: str) -> str:
        self.failures += 1
        self.last_failure = reason
        return reason


@final
class ServerSampler:
    """Samples a LangGraph server's ``/metrics`` through ``http``; see the module docstring.

    ``http`` is best a client of its own (``get_client(url).http``), so that a sample never
    waits for a connection behind the load. Not safe for concurrent :meth:`sample` calls.
    """

    __slots__ = (
        "_cpu",
        "_endpoints",
        "_failures",
        "_retry_at",
        "_stopped",
        "_warned",
        "http",
        "info",
        "max_failures",
        "on_warning",
        "retry_s",
        "samples",
        "timeout_s",
    )

    def __init__(
        self,
        http: HttpClient,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_failures: int = DEFAULT_MAX_FAILURES,
        retry_s: float | None = DEFAULT_RETRY_S,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, not {timeout_s!r}")
        if max_failures < 1:
            raise ValueError(f"max_failures must be >= 1, not {max_failures!r}")
        if retry_s is not None and not retry_s > 0:
            raise ValueError(f"retry_s must be > 0 or None, not {retry_s!r}")
        self.http = http
        self.timeout_s = timeout_s
        self.max_failures = max_failures
        self.retry_s = retry_s
        self.on_warning = on_warning
        self.info: dict[str, Any] | None = None
        """The server's ``GET /info`` answer, once :meth:`read_info` got it."""
        self.samples = 0
        """Samples that returned figures."""
        self._endpoints = (_Endpoint("json", _JSON_PATH), _Endpoint("prometheus", _TEXT_PATH))
        self._failures: list[str] = []
        self._retry_at: float | None = None
        self._stopped: str | None = None
        self._warned = False
        self._cpu: tuple[float, float] | None = None

    # --- state ------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Whether :meth:`sample` will ask the server next time it is due."""
        return self._stopped is None and self._retry_at is None

    @property
    def status(self) -> str:
        """``sampling``, ``suspended: <why>`` or ``off: <why>``, for the summary."""
        if self._stopped is not None:
            return f"off: {self._stopped}"
        if self._retry_at is not None:
            return f"suspended: {'; '.join(dict.fromkeys(self._failures))}"
        return "sampling"

    @property
    def sources(self) -> tuple[str, ...]:
        """The endpoints still in use: ``json``, ``prometheus``."""
        return tuple(e.name for e in self._endpoints if e.absent is None)

    def _warn(self, message: str) -> None:
        if self._warned:
            return
        self._warned = True
        if self.on_warning is not None:
            self.on_warning(message)

    # --- requests ---------------------------------------------------------------------------

    async def _get(self, path: str, accept: str) -> bytes:
        """The body of ``GET path``; raises :class:`_Absent` or :class:`_NoAnswer`."""
        # The client's own request builder, so the target gets the same headers (API key,
        # user agent) as every other request; HttpClient has no public raw-bytes GET.
        request = self.http._request("GET", path, None, None, {"accept": accept}, stream=False)
        try:
            response = await self.http.transport.handle(request)
        except Exception as exc:
            raise _NoAnswer(f"GET {path}: {type(exc).__name__}: {exc}") from None
        try:
            body = await response.aread()
        except Exception as exc:
            raise _NoAnswer(f"GET {path}: {type(exc).__name__}: {exc}") from None
        finally:
            if not response.closed:
                with anyio.move_on_after(_CLOSE_TIMEOUT_S, shield=True):
                    await response.aclose()
        status = response.status_code
        if status in _ABSENT_STATUSES or 300 <= status < 400:
            raise _Absent(f"GET {path} answered {status}")
        if not 200 <= status < 300:
            raise _NoAnswer(f"GET {path} answered {status}")
        if len(body) > _MAX_BODY_BYTES:
            raise _Absent(f"GET {path} answered {len(body)} bytes, more than a metrics snapshot")
        return body

    async def _json(self) -> Figures:
        body = await self._get(_JSON_PATH, "application/json")
        try:
            decoded = json.loads(body)
        except ValueError:
            raise _Absent(f"GET {_JSON_PATH} did not answer JSON") from None
        if not isinstance(decoded, Mapping):
            raise _Absent(f"GET {_JSON_PATH} answered JSON that is not an object")
        figures = figures_from_metrics_json(decoded)
        if not figures:
            raise _Absent(f"GET {_JSON_PATH} answered no figure")
        return figures

    async def _text(self) -> Figures:
        body = await self._get(_TEXT_PATH, "text/plain; version=0.0.4")
        figures = figures_from_prometheus(body.decode("utf-8", "replace"))
        if not figures:
            raise _Absent(f"GET {_TEXT_PATH} answered no figure lgbench knows")
        cpu_s = figures.get("process.cpu_s")
        if cpu_s is not None:
            # Real time, like the CPU seconds it divides (the loop's clock may be virtual).
            now_s = time.monotonic()
            last = self._cpu
            self._cpu = (now_s, cpu_s)
            # A drop means the server restarted: no rate across that.
            if last is not None and now_s > last[0] and cpu_s >= last[1]:
                figures["process.cpu_percent"] = 100.0 * (cpu_s - last[1]) / (now_s - last[0])
        return figures

    async def read_info(self) -> dict[str, Any] | None:
        """``GET /info`` (version, flags), kept in :attr:`info`; ``None`` if it fails.

        Call it once at the start; bounded by ``timeout_s``, never raises.
        """
        with anyio.move_on_after(self.timeout_s):
            try:
                body = json.loads(await self._get(_INFO_PATH, "application/json"))
            except (_Absent, _NoAnswer, ValueError):
                return None
            if isinstance(body, dict):
                self.info = body
            return self.info
        return None

    async def sample(self) -> Figures:
        """The server's figures now; ``{}`` when it gave none (see the module docstring).

        Takes at most ``timeout_s`` and never raises (except cancellation of the caller).
        """
        if self._stopped is not None:
            return {}
        now_s = anyio.current_time()
        if self._retry_at is not None:
            if now_s < self._retry_at:
                return {}
            self._retry_at = None
        figures: Figures = {}
        answered = False
        failures: list[str] = []
        current: _Endpoint | None = None
        with anyio.move_on_after(self.timeout_s) as scope:
            for endpoint in self._endpoints:
                if endpoint.absent is not None:
                    continue
                current = endpoint
                try:
                    got = await (self._json() if endpoint.name == "json" else self._text())
                except _Absent as exc:
                    endpoint.absent = str(exc)
                    answered = True
                    continue
                except Exception as exc:  # _NoAnswer, or anything: never break the run
                    reason = str(exc) if isinstance(exc, _NoAnswer) else repr(exc)
                    failures.append(endpoint.failed(reason))
                    continue
                endpoint.failures = 0
                answered = True
                for key, value in got.items():
                    figures.setdefault(key, value)  # JSON first: it wins over the text
            current = None
        if scope.cancelled_caught and current is not None:
            failures.append(
                current.failed(f"GET {current.path}: no answer in {self.timeout_s:g} s")
            )
        if all(endpoint.absent is not None for endpoint in self._endpoints):
            self._stopped = "; ".join(str(e.absent) for e in self._endpoints)
            self._warn(f"server sampling off: the target offers no metrics ({self._stopped})")
            return {}
        if figures:
            self.samples += 1
            self._failures = []
            for endpoint in self._endpoints:
                # One endpoint failing again and again while the other answers would cost
                # every sample its timeout: drop it.
                if endpoint.absent is None and endpoint.failures >= self.max_failures:
                    endpoint.absent = (
                        f"{endpoint.last_failure} ({endpoint.failures} times in a row)"
                    )
            return figures
        if not answered:
            self._failed(failures[0] if failures else "no answer", now_s)
        return {}

    def _failed(self, reason: str, now_s: float) -> None:
        # The last max_failures reasons: after a suspension one more failure suspends again.
        self._failures = [*self._failures, reason][-self.max_failures :]
        if len(self._failures) < self.max_failures:
            return
        reasons = "; ".join(dict.fromkeys(self._failures))
        if self.retry_s is None:
            self._stopped = reasons
            self._warn(f"server sampling off after {self.max_failures} failures: {reasons}")
            return
        self._retry_at = now_s + self.retry_s
        self._warn(
            f"server sampling suspended after {self.max_failures} failures in a row, retried"
            f" every {self.retry_s:g} s: {reasons}"
        )

    def __repr__(self) -> str:
        return f"<ServerSampler {self.status} sources={list(self.sources)}>"
