"""Reading and validating a workload file: TOML text in, :class:`Workload` or every issue out.

:func:`parse_workload` never stops at the first problem: it reads the whole file,
records each problem as a :class:`WorkloadIssue` with the line and column of the
offending key or value (found by :class:`~lgbench.workload.SourceMap`), and raises
one :class:`WorkloadError` carrying them all. A TOML syntax error stops it early,
since nothing after it can be trusted; its position comes from tomli.

Whatever the input (any text, any bytes), the result is a :class:`Workload` or a
:class:`WorkloadError`; nothing else escapes for a user's mistake.
"""

from __future__ import annotations

import datetime
import math
import os
import re
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import tomli

from lgbench._secrets import redact_url
from lgbench._toml import (
    DURATION_FORMS,
    DurationError,
    KeyPath,
    Position,
    SourceMap,
    TemplateError,
    WorkloadError,
    WorkloadIssue,
    did_you_mean,
    one_of,
    parse_duration,
    quote,
    toml_type,
)
from lgbench.faults import FaultSpec, check_schedule, validate_fault_table
from lgbench.operations import OPERATIONS, OperationSpec, ParamSpec, ParamType
from lgbench.workload._executors import EXECUTORS, BurstConfig, ExecutorConfig
from lgbench.workload._judgeable import unjudgeable_reason
from lgbench.workload._model import (
    AUTH_POLICIES,
    ERROR_KINDS,
    ON_ERROR,
    AsUser,
    AuthConfig,
    DefaultsConfig,
    EmbeddedConfig,
    ExpectedErrors,
    OnError,
    OperationStepConfig,
    ScenarioConfig,
    SleepStepConfig,
    StepConfig,
    TargetConfig,
    ThresholdSpec,
    TimeoutsConfig,
    Transport,
    Workload,
    turn_tags,
    user_tags,
)
from lgbench.workload._templating import BUILTIN_NAMES, parse_template
from lgbench.workload._thresholds import Threshold, build_threshold

__all__ = ["load_workload", "parse_workload", "validate_workload"]

_TOP_KEYS = (
    "name",
    "target",
    "defaults",
    "scenario",
    "thresholds",
    "fault",
    "audit",
    "expected_errors",
)
_TARGET_KEYS = (
    "url",
    "api_key_env",
    "headers",
    "secret_headers",
    "timeouts",
    "transport",
    "embedded",
    "auth",
)
_TIMEOUT_KEYS = ("connect", "read", "total")
_EMBEDDED_KEYS = ("port", "n_jobs_per_worker", "log", "auth")
_AUTH_KEYS = (
    "tokens_env",
    "tokens_file",
    "users",
    "vus_per_user",
    "header",
    "scheme",
    "policy",
    "owner_key",
)
_AUTH_SOURCES = ("tokens_env", "tokens_file", "users")
_AS_USER = ("self", "other")
_DEFAULTS_KEYS = (
    "seed",
    "think_time",
    "graceful_stop",
    "assistant",
    "tags",
    "keep_stream_events",
)
_SCENARIO_KEYS = ("name", "executor", "start_time", "graceful_stop", "tags", "steps", "on_error")
_STEP_KEYS = ("op", "save", "repeat", "think_time", "on_error", "turns", "as_user")
_TRANSPORTS: tuple[Transport, ...] = ("fast", "httpx")
_ALL_OPTIONS = frozenset(name for cls in EXECUTORS.values() for name in cls.OPTIONS)

_WORKLOAD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SCENARIO_NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_SECRET_HEADERS = frozenset({"x-api-key"})
_MAX_FIXTURE_USERS = 10_000

_TOML_EXPECTED = "valid TOML, see https://toml.io"
_UNDEFINED_EXPECTED = (
    'a variable saved by an earlier step (save = "name") or a built-in: '
    "vu, iteration, uuid, user, random.int/float/choice"
)


class _Reader:
    """Collects issues against one source text, each placed by its key path."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self._text = text
        self._source: SourceMap | None = None
        self.issues: list[WorkloadIssue] = []

    @property
    def source(self) -> SourceMap:
        if self._source is None:
            self._source = SourceMap(self._text)
        return self._source

    def position(self, key: KeyPath, *, at_key: bool = False) -> Position:
        return self.source.locate(key, at_key=at_key)

    def issue(
        self, key: KeyPath, message: str, expected: str = "", *, at_key: bool = False
    ) -> None:
        where = self.position(key, at_key=at_key)
        self.issues.append(WorkloadIssue(self.path, where.line, where.column, message, expected))

    # -- typed reads: each returns None (after recording an issue) when the value is wrong

    def check_keys(
        self,
        table: Mapping[str, Any],
        key: KeyPath,
        allowed: Iterable[str],
        where: str,
    ) -> None:
        allowed = tuple(allowed)
        for name in table:
            if name not in allowed:
                self.issue(
                    (*key, name),
                    f"unknown key {quote(name)} in {where}{did_you_mean(name, allowed)}",
                    one_of(allowed),
                    at_key=True,
                )

    def table(self, value: Any, key: KeyPath, what: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.issue(key, f"{what} must be a table, not {toml_type(value)}", "a table")
        return None

    def string(self, value: Any, key: KeyPath, what: str, expected: str = "a string") -> str | None:
        if isinstance(value, str):
            return value
        self.issue(key, f"{what} must be a string, not {toml_type(value)}", expected)
        return None

    def on_error(self, value: Any, key: KeyPath) -> OnError | None:
        """An ``on_error`` value (``"stop"`` or ``"continue"``), or None after an issue."""
        given = self.string(value, key, "on_error", one_of(ON_ERROR))
        if given is None:
            return None
        for choice in ON_ERROR:
            if given == choice:
                return choice
        self.issue(
            key,
            f"unknown on_error {quote(given)}{did_you_mean(given, ON_ERROR)}",
            one_of(ON_ERROR),
        )
        return None

    def integer(
        self, value: Any, key: KeyPath, what: str, *, minimum: int | None = None
    ) -> int | None:
        expected = "an integer" if minimum is None else f"an integer >= {minimum}"
        if not isinstance(value, int) or isinstance(value, bool):
            self.issue(key, f"{what} must be an integer, not {toml_type(value)}", expected)
            return None
        if minimum is not None and value < minimum:
            self.issue(key, f"{what} must be at least {minimum}, not {value}", expected)
            return None
        return value

    def duration(
        self, value: Any, key: KeyPath, what: str, *, positive: bool = False
    ) -> float | None:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.issue(key, f"{what} must be a duration, not {toml_type(value)}", DURATION_FORMS)
            return None
        try:
            seconds = parse_duration(value)
        except DurationError as error:
            self.issue(key, f"{what}: {error.problem}", error.expected)
            return None
        if positive and seconds <= 0:
            self.issue(key, f"{what} must be more than 0s", DURATION_FORMS)
            return None
        return seconds

    def string_table(self, value: Any, key: KeyPath, what: str) -> dict[str, str] | None:
        table = self.table(value, key, what)
        if table is None:
            return None
        result: dict[str, str] = {}
        for name, item in table.items():
            if isinstance(item, str):
                result[name] = item
            else:
                self.issue(
                    (*key, name),
                    f"{what} values must be strings; {quote(name)} is {toml_type(item)}",
                    f'{quote(name)} = "..."',
                )
        return result


# -- entry points ------------------------------------------------------------------------


def load_workload(path: str | os.PathLike[str]) -> Workload:
    """Read and validate the workload file at ``path``.

    Raises :class:`WorkloadError` (exit code 2) when the file cannot be read, is not
    UTF-8, is not TOML, or describes an invalid workload; ``str()`` of the error is
    the message to show, one issue per line.
    """
    shown = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise WorkloadError(
            [WorkloadIssue(shown, 0, 0, f"cannot read the workload file: {reason}")]
        ) from None
    return parse_workload(data, shown)


def validate_workload(path: str | os.PathLike[str]) -> list[WorkloadIssue]:
    """Every problem of the workload file at ``path``, sorted by position; empty when valid.

    The same checks as :func:`load_workload` (and ``lgbench validate``), returned instead of
    raised, so a tool or an editor can show them all.
    """
    try:
        load_workload(path)
    except WorkloadError as error:
        return list(error.issues)
    return []


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[line_start : error.start].decode("utf-8", "replace")) + 1
        raise WorkloadError(
            [
                WorkloadIssue(
                    path,
                    line,
                    column,
                    f"the file is not valid UTF-8 (byte 0x{data[error.start]:02x})",
                    "UTF-8 text",
                )
            ]
        ) from None


def parse_workload(text: str | bytes, path: str | os.PathLike[str] = "<workload>") -> Workload:
    """Validate the workload ``text`` (TOML; bytes must be UTF-8) read from ``path``.

    ``path`` is used in messages, in :attr:`Workload.path`, and for the default
    workload name (the file's stem). Raises :class:`WorkloadError` with every issue.
    """
    shown = os.fspath(path)
    if isinstance(text, bytes):
        text = _decode(text, shown)
    text = text.removeprefix("\ufeff")
    try:
        document = tomli.loads(text)
    except tomli.TOMLDecodeError as error:
        raise WorkloadError(
            [WorkloadIssue(shown, error.lineno, error.colno, error.msg, _TOML_EXPECTED)]
        ) from None
    except (RecursionError, MemoryError, ValueError) as error:
        raise WorkloadError(
            [WorkloadIssue(shown, 1, 1, f"cannot read the TOML: {error}", _TOML_EXPECTED)]
        ) from None
    reader = _Reader(text, shown)
    workload = _read_workload(reader, document, shown)
    if reader.issues or workload is None:
        raise WorkloadError(reader.issues)
    return workload


# -- the document ----------------------------------------------------------------------


def _default_name(path: str) -> str:
    stem = Path(path).stem if path and not path.startswith("<") else "workload"
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:100]
    return cleaned or "workload"


def _read_workload(reader: _Reader, document: dict[str, Any], path: str) -> Workload | None:
    reader.check_keys(document, (), _TOP_KEYS, "the workload")
    name = _default_name(path)
    if "name" in document:
        given = reader.string(document["name"], ("name",), "name")
        if given is not None:
            if _WORKLOAD_NAME.fullmatch(given):
                name = given
            else:
                reader.issue(
                    ("name",),
                    f"workload name {quote(given)} cannot name a report folder",
                    "letters, digits, '.', '_' or '-', up to 100, starting with a letter or digit",
                )
    target = _read_target(reader, document.get("target", {}))
    defaults = _read_defaults(reader, document.get("defaults", {}))
    scenarios = _read_scenarios(reader, document.get("scenario"), defaults)
    # Which operations the scenarios call is known only when every one could be read.
    complete = not reader.issues
    thresholds = _read_thresholds(
        reader, document.get("thresholds", {}), document, scenarios if complete else None
    )
    faults = _read_faults(reader, document.get("fault"))
    audit = True
    if "audit" in document:
        if isinstance(document["audit"], bool):
            audit = document["audit"]
        else:
            reader.issue(
                ("audit",),
                f"audit must be true or false, not {toml_type(document['audit'])}",
                "true (read every thread back after the load) or false",
            )
    expected = _read_expected_errors(reader, document.get("expected_errors", {}))
    if target is None:
        return None
    _check_as_user(reader, document, scenarios, target)
    return Workload(
        name=name,
        path=path,
        target=target,
        defaults=defaults,
        scenarios=tuple(sorted(scenarios, key=lambda s: (s.start_time_s, s.name))),
        thresholds=thresholds,
        faults=faults,
        audit=audit,
        expected_errors=expected,
    )


def _check_as_user(
    reader: _Reader,
    document: Mapping[str, Any],
    scenarios: list[ScenarioConfig],
    target: TargetConfig,
) -> None:
    """A cross-tenant step needs users, and at least two of them when lgbench mints them."""
    auth = target.auth
    if auth is not None and (auth.users is None or auth.users >= 2):
        return
    raw_scenarios = document.get("scenario")
    for position, scenario in enumerate(scenarios):
        for number, step in enumerate(scenario.steps):
            if isinstance(step, OperationStepConfig) and step.as_user == "other":
                key: KeyPath = ("scenario", position, "steps", number, "as_user")
                if not isinstance(raw_scenarios, list) or position >= len(raw_scenarios):
                    key = ("target",)
                reader.issue(
                    key,
                    'as_user = "other" needs another user: '
                    + ("[target.auth] has one" if auth is not None else "add [target.auth]"),
                    "[target.auth] with at least two users",
                )
                return


# -- [expected_errors] ------------------------------------------------------------------------

_EXPECTED_ERRORS_FORM = (
    'an array of HTTP statuses (100-599) and error kinds, e.g. "runs.cancel" = [404, 409] '
    f"(kinds: {', '.join(ERROR_KINDS)})"
)


def _read_expected_errors(reader: _Reader, raw: Any) -> tuple[ExpectedErrors, ...]:
    """``[expected_errors]``: per operation, the errors it may meet without failing the run
    when it never succeeds (docs/workload.md)."""
    base: KeyPath = ("expected_errors",)
    table = reader.table(raw, base, "[expected_errors]")
    if table is None:
        return ()
    found: list[ExpectedErrors] = []
    for operation, value in table.items():
        key = (*base, operation)
        if operation not in OPERATIONS:
            reader.issue(
                key,
                f"unknown operation {quote(operation)} in [expected_errors]"
                f"{did_you_mean(operation, OPERATIONS)}",
                "an operation such as runs.wait, runs.cancel (docs/workload.md)",
                at_key=True,
            )
            continue
        if not isinstance(value, list) or not value:
            reader.issue(
                key,
                f"expected errors of {quote(operation)} must be a non-empty array, "
                f"not {toml_type(value) if value != [] else 'an empty array'}",
                _EXPECTED_ERRORS_FORM,
            )
            continue
        statuses: set[int] = set()
        kinds: set[str] = set()
        for index, item in enumerate(value):
            if isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599:
                statuses.add(item)
            elif isinstance(item, str) and item in ERROR_KINDS:
                kinds.add(item)
            else:
                plain = isinstance(item, int | str) and not isinstance(item, bool)
                shown = repr(item) if plain else toml_type(item)
                reader.issue(
                    (*key, index),
                    f"{shown} is neither an HTTP status nor an error kind"
                    + (did_you_mean(item, ERROR_KINDS) if isinstance(item, str) else ""),
                    _EXPECTED_ERRORS_FORM,
                )
        found.append(ExpectedErrors(operation, frozenset(statuses), frozenset(kinds)))
    return tuple(sorted(found, key=lambda entry: entry.operation))


# -- [[fault]] --------------------------------------------------------------------------------


def _read_faults(reader: _Reader, raw: Any) -> tuple[FaultSpec, ...]:
    base: KeyPath = ("fault",)
    example = "[[fault]] tables with name, kind and at (see docs/faults.md)"
    if raw is None:
        return ()
    if not isinstance(raw, list):
        reader.issue(
            base, "fault must be an array of tables: write [[fault]]", example, at_key=True
        )
        return ()
    specs: list[FaultSpec] = []
    for index, item in enumerate(raw):
        spec, issues = validate_fault_table(item)
        for issue in issues:
            reader.issue(
                (*base, index, *issue.key), issue.message, issue.expected, at_key=issue.at_key
            )
        if spec is not None:
            specs.append(spec)
    # What the target may not offer (the embedded server's kill, pause) is checked when the
    # run knows its target; contradictions within the schedule are the file's own mistakes.
    for problem in check_schedule(specs, has_proxy=True, has_server=True):
        reader.issue(base, problem, "", at_key=True)
    return tuple(sorted(specs, key=lambda spec: (spec.at_s, spec.name)))


# -- [target] ----------------------------------------------------------------------------


def _check_url(reader: _Reader, url: str, key: KeyPath) -> bool:
    expected = '"embedded" or an http(s) URL such as "http://127.0.0.1:8123"'
    if url == "embedded":
        return True
    try:
        parts = urllib.parse.urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        reader.issue(key, f"url {quote(redact_url(url))} is not a usable target", expected)
        return False
    if not port_ok:
        reader.issue(key, f"url {quote(redact_url(url))} has an invalid port", expected)
        return False
    if parts.username is not None or parts.password is not None:
        reader.issue(
            key,
            "url must not carry credentials: name an environment variable with api_key_env",
            expected,
        )
        return False
    if parts.query or parts.fragment:
        reader.issue(
            key, f"url {quote(redact_url(url))} must not have a query or fragment", expected
        )
        return False
    if any(char.isspace() for char in url):
        reader.issue(key, f"url {quote(redact_url(url))} contains spaces", expected)
        return False
    return True


def _read_target(reader: _Reader, raw: Any) -> TargetConfig | None:
    base: KeyPath = ("target",)
    table = reader.table(raw, base, "[target]")
    if table is None:
        return None
    if "api_key" in table:
        reader.issue(
            (*base, "api_key"),
            "a literal api_key is not allowed in a workload file, where it would be shared and "
            "committed: put the key in an environment variable and give that variable's name",
            'api_key_env = "LANGGRAPH_API_KEY"',
            at_key=True,
        )
    reader.check_keys(
        {k: v for k, v in table.items() if k != "api_key"}, base, _TARGET_KEYS, "[target]"
    )
    ok = True
    url = "embedded"
    if "url" in table:
        given = reader.string(table["url"], (*base, "url"), "url")
        if given is None or not _check_url(reader, given, (*base, "url")):
            ok = False
        else:
            url = given.rstrip("/") if given != "embedded" else given
    api_key_env: str | None = None
    if "api_key_env" in table:
        given = reader.string(table["api_key_env"], (*base, "api_key_env"), "api_key_env")
        env_expected = 'the NAME of an environment variable, e.g. "LANGGRAPH_API_KEY"'
        if given is None:
            ok = False
        elif not _ENV_NAME.fullmatch(given) or given.startswith(("lsv2_", "sk_")):
            reader.issue(
                (*base, "api_key_env"),
                # Not quoted, not even in part: it may be the key itself.
                "api_key_env is not the name of an environment variable (never put the key "
                "itself in the file; the value is not shown, as it may be the key)",
                env_expected,
            )
            ok = False
        else:
            api_key_env = given
    headers: dict[str, str] = {}
    if "headers" in table:
        read = reader.string_table(table["headers"], (*base, "headers"), "headers")
        if read is None:
            ok = False
        else:
            headers = read
            for name, value in read.items():
                where = (*base, "headers", name)
                if not _HEADER_NAME.fullmatch(name):
                    reader.issue(
                        where, f"{quote(name)} is not a valid header name", "a token", at_key=True
                    )
                    ok = False
                elif name.lower() in _SECRET_HEADERS:
                    reader.issue(
                        where,
                        f"the {name} header would put the API key in the file",
                        'api_key_env = "LANGGRAPH_API_KEY"',
                        at_key=True,
                    )
                    ok = False
                if "\n" in value or "\r" in value:
                    reader.issue(
                        where, f"header {quote(name)} contains a line break", "a one-line value"
                    )
                    ok = False
    secret_headers: tuple[str, ...] = ()
    if "secret_headers" in table:
        where = (*base, "secret_headers")
        names = table["secret_headers"]
        expected = 'a list of header names, e.g. ["x-tenant-signature"]'
        if not isinstance(names, list) or not all(
            isinstance(name, str) and _HEADER_NAME.fullmatch(name) for name in names
        ):
            reader.issue(where, "secret_headers must be a list of header names", expected)
            ok = False
        else:
            secret_headers = tuple(name.lower() for name in names)
    timeouts = TimeoutsConfig()
    if "timeouts" in table:
        read_timeouts = _read_timeouts(reader, table["timeouts"], (*base, "timeouts"))
        if read_timeouts is None:
            ok = False
        else:
            timeouts = read_timeouts
    transport: Transport = "fast"
    if "transport" in table:
        given = reader.string(table["transport"], (*base, "transport"), "transport")
        if given == "fast":
            transport = "fast"
        elif given == "httpx":
            transport = "httpx"
        else:
            if given is not None:
                reader.issue(
                    (*base, "transport"),
                    f"unknown transport {quote(given)}{did_you_mean(given, _TRANSPORTS)}",
                    one_of(_TRANSPORTS),
                )
            ok = False
    embedded = EmbeddedConfig()
    if "embedded" in table:
        read_embedded = _read_embedded(reader, table["embedded"], (*base, "embedded"))
        if read_embedded is None:
            ok = False
        else:
            embedded = read_embedded
        if url != "embedded":
            reader.issue(
                (*base, "embedded"),
                f"[target.embedded] applies only to the embedded server, but url is {quote(url)}",
                'url = "embedded", or no [target.embedded]',
                at_key=True,
            )
            ok = False
    auth: AuthConfig | None = None
    if "auth" in table:
        auth = _read_auth(reader, table["auth"], (*base, "auth"))
        ok = ok and auth is not None
    if auth is not None:
        ok = _check_auth_target(reader, auth, url, embedded, api_key_env, base) and ok
    elif embedded.auth and "auth" not in table:
        reader.issue(
            (*base, "embedded", "auth"),
            "the embedded server with auth needs users: add [target.auth]",
            "[target.auth] users = 4 (lgbench mints a fixture token per user)",
        )
        ok = False
    if not ok:
        return None
    return TargetConfig(
        url=url,
        api_key_env=api_key_env,
        headers=MappingProxyType(headers),
        secret_headers=secret_headers,
        timeouts=timeouts,
        transport=transport,
        embedded=embedded,
        auth=auth,
    )


def _check_auth_target(
    reader: _Reader,
    auth: AuthConfig,
    url: str,
    embedded: EmbeddedConfig,
    api_key_env: str | None,
    base: KeyPath,
) -> bool:
    """What ``[target.auth]`` needs from the rest of ``[target]``."""
    where = (*base, "auth")
    if url == "embedded" and not embedded.auth:
        reader.issue(
            where,
            "[target.auth] against the embedded server needs it to check tokens",
            "[target.embedded] auth = true",
            at_key=True,
        )
        return False
    if auth.users is not None and not (url == "embedded" and embedded.auth):
        reader.issue(
            (*where, "users"),
            "users (fixture tokens minted by lgbench) work only with the embedded server's "
            "bundled auth; a real deployment's users bring their own tokens",
            'tokens_env = "MY_TOKENS" (a JSON list) or tokens_file = "tokens.txt"',
        )
        return False
    if auth.header == "x-api-key" and api_key_env is not None:
        reader.issue(
            (*where, "header"),
            "the users' tokens and api_key_env would both go in x-api-key",
            "another header, or no api_key_env",
        )
        return False
    return True


def _read_auth(reader: _Reader, raw: Any, base: KeyPath) -> AuthConfig | None:
    table = reader.table(raw, base, "[target.auth]")
    if table is None:
        return None
    issues_before = len(reader.issues)
    for secret in ("token", "tokens"):
        if secret in table:
            reader.issue(
                (*base, secret),
                f"a literal {secret} is not allowed in a workload file, where it would be shared "
                "and committed: name where the tokens are",
                'tokens_env = "MY_TOKENS" (a JSON list) or tokens_file = "tokens.txt"',
                at_key=True,
            )
    reader.check_keys(
        {k: v for k, v in table.items() if k not in ("token", "tokens")},
        base,
        _AUTH_KEYS,
        "[target.auth]",
    )
    sources = [name for name in _AUTH_SOURCES if name in table]
    if len(sources) != 1:
        reader.issue(
            base if not sources else (*base, sources[1]),
            "[target.auth] needs exactly one token source"
            + (f", not {' and '.join(sources)}" if sources else ""),
            'tokens_env = "MY_TOKENS" (a JSON list), tokens_file = "tokens.txt", '
            "or users = 4 (the embedded server)",
            at_key=bool(sources),
        )
    values: dict[str, Any] = {}
    if "tokens_env" in table:
        name = reader.string(table["tokens_env"], (*base, "tokens_env"), "tokens_env")
        if name is not None and not _ENV_NAME.fullmatch(name):
            reader.issue(
                (*base, "tokens_env"),
                "tokens_env is not the name of an environment variable (never put tokens in "
                "the file)",
                'the NAME of a variable holding a JSON list, e.g. "LGBENCH_TOKENS"',
            )
        values["tokens_env"] = name
    if "tokens_file" in table:
        path = reader.string(table["tokens_file"], (*base, "tokens_file"), "tokens_file")
        if path == "":
            reader.issue((*base, "tokens_file"), "tokens_file is empty", "a file path")
        values["tokens_file"] = path
    if "users" in table:
        values["users"] = reader.integer(table["users"], (*base, "users"), "users", minimum=1)
        if values["users"] is not None and values["users"] > _MAX_FIXTURE_USERS:
            reader.issue(
                (*base, "users"),
                f"users must be at most {_MAX_FIXTURE_USERS}",
                f"1 to {_MAX_FIXTURE_USERS}",
            )
    if "vus_per_user" in table:
        values["vus_per_user"] = reader.integer(
            table["vus_per_user"], (*base, "vus_per_user"), "vus_per_user", minimum=1
        )
    if "header" in table:
        header = reader.string(table["header"], (*base, "header"), "header", "a header name")
        if header is not None:
            if not _HEADER_NAME.fullmatch(header):
                reader.issue((*base, "header"), f"{quote(header)} is not a header name", "a token")
            values["header"] = header.lower()
    if "scheme" in table:
        scheme = reader.string(table["scheme"], (*base, "scheme"), "scheme")
        if scheme is not None and not _HEADER_NAME.fullmatch(scheme):
            reader.issue((*base, "scheme"), f"{quote(scheme)} is not a scheme", '"Bearer"')
        values["scheme"] = scheme
        if values.get("header", "authorization") != "authorization":
            reader.issue(
                (*base, "scheme"),
                "scheme applies only to the authorization header (other headers carry the "
                "bare token)",
                "no scheme, or header = " + quote("authorization"),
                at_key=True,
            )
    if "policy" in table:
        policy = reader.string(table["policy"], (*base, "policy"), "policy", one_of(AUTH_POLICIES))
        if policy is not None and policy not in AUTH_POLICIES:
            reader.issue(
                (*base, "policy"),
                f"unknown policy {quote(policy)}{did_you_mean(policy, AUTH_POLICIES)}",
                one_of(AUTH_POLICIES),
            )
        values["policy"] = policy
    if "owner_key" in table:
        owner_key = reader.string(table["owner_key"], (*base, "owner_key"), "owner_key")
        if owner_key == "":
            reader.issue((*base, "owner_key"), "owner_key is empty", "a metadata key")
        values["owner_key"] = owner_key
    if len(reader.issues) > issues_before:
        return None
    return AuthConfig(**values)


def _read_timeouts(reader: _Reader, raw: Any, base: KeyPath) -> TimeoutsConfig | None:
    table = reader.table(raw, base, "timeouts")
    if table is None:
        return None
    reader.check_keys(table, base, _TIMEOUT_KEYS, "[target.timeouts]")
    values: dict[str, float] = {}
    ok = True
    for name in _TIMEOUT_KEYS:
        if name in table:
            seconds = reader.duration(table[name], (*base, name), f"timeouts.{name}", positive=True)
            if seconds is None:
                ok = False
            else:
                values[f"{name}_s"] = seconds
    return TimeoutsConfig(**values) if ok else None


def _read_embedded(reader: _Reader, raw: Any, base: KeyPath) -> EmbeddedConfig | None:
    table = reader.table(raw, base, "[target.embedded]")
    if table is None:
        return None
    reader.check_keys(table, base, _EMBEDDED_KEYS, "[target.embedded]")
    ok = True
    port = 0
    if "port" in table:
        read_port = reader.integer(table["port"], (*base, "port"), "port", minimum=0)
        if read_port is not None and read_port > 65_535:
            reader.issue((*base, "port"), f"port {read_port} is above 65535", "0 to 65535")
            read_port = None
        ok = ok and read_port is not None
        port = read_port or 0
    jobs: int | None = None
    if "n_jobs_per_worker" in table:
        jobs = reader.integer(
            table["n_jobs_per_worker"],
            (*base, "n_jobs_per_worker"),
            "n_jobs_per_worker",
            minimum=1,
        )
        ok = ok and jobs is not None
    log: str | None = None
    if "log" in table:
        log = reader.string(table["log"], (*base, "log"), "log", "a file path")
        if log == "":
            reader.issue((*base, "log"), "log is empty", "a file path")
            log = None
        ok = ok and log is not None
    auth = False
    if "auth" in table:
        if isinstance(table["auth"], bool):
            auth = table["auth"]
        else:
            reader.issue(
                (*base, "auth"),
                f"auth must be true or false, not {toml_type(table['auth'])}",
                "true (the bundled Auth handlers: owner-only access) or false",
            )
            ok = False
    return EmbeddedConfig(port=port, n_jobs_per_worker=jobs, log=log, auth=auth) if ok else None


# -- [defaults] --------------------------------------------------------------------------


def _read_defaults(reader: _Reader, raw: Any) -> DefaultsConfig:
    """The defaults, with every value that could be read (the rest stays at its default),
    so that one bad default does not make every scenario look wrong too."""
    base: KeyPath = ("defaults",)
    table = reader.table(raw, base, "[defaults]")
    if table is None:
        return DefaultsConfig()
    reader.check_keys(table, base, _DEFAULTS_KEYS, "[defaults]")
    seed: int | None = None
    if "seed" in table:
        seed = reader.integer(table["seed"], (*base, "seed"), "seed")
    think_time_s = 0.0
    if "think_time" in table:
        read = reader.duration(table["think_time"], (*base, "think_time"), "think_time")
        think_time_s = read or 0.0
    graceful_stop_s = 30.0
    if "graceful_stop" in table:
        read = reader.duration(table["graceful_stop"], (*base, "graceful_stop"), "graceful_stop")
        graceful_stop_s = 30.0 if read is None else read
    assistant: str | None = None
    if "assistant" in table:
        assistant = reader.string(table["assistant"], (*base, "assistant"), "assistant")
        if assistant == "":
            reader.issue((*base, "assistant"), "assistant is empty", 'an id, e.g. "sleepy"')
            assistant = None
    tags: dict[str, str] = {}
    if "tags" in table:
        tags = reader.string_table(table["tags"], (*base, "tags"), "tags") or {}
    keep_stream_events = False
    if "keep_stream_events" in table:
        value = table["keep_stream_events"]
        if isinstance(value, bool):
            keep_stream_events = value
        else:
            reader.issue(
                (*base, "keep_stream_events"),
                f"keep_stream_events must be true or false, not {toml_type(value)}",
                "true or false",
            )
    return DefaultsConfig(
        seed=seed,
        think_time_s=think_time_s,
        graceful_stop_s=graceful_stop_s,
        assistant=assistant,
        tags=MappingProxyType(tags),
        keep_stream_events=keep_stream_events,
    )


# -- [[scenario]] ------------------------------------------------------------------------


def _read_scenarios(reader: _Reader, raw: Any, defaults: DefaultsConfig) -> list[ScenarioConfig]:
    base: KeyPath = ("scenario",)
    example = "[[scenario]] tables with name, executor and steps"
    if raw is None or raw == []:
        reader.issue(base, "the workload has no [[scenario]]", example)
        return []
    if isinstance(raw, dict):
        reader.issue(
            base,
            "scenario must be an array of tables: write [[scenario]], not [scenario]",
            example,
            at_key=True,
        )
        return []
    if not isinstance(raw, list):
        reader.issue(base, f"scenario must be an array of tables, not {toml_type(raw)}", example)
        return []
    scenarios: list[ScenarioConfig] = []
    first_seen: dict[str, Position] = {}
    for index, item in enumerate(raw):
        key: KeyPath = (*base, index)
        table = reader.table(item, key, "a scenario")
        if table is None:
            continue
        name = _read_scenario_name(reader, table, key, first_seen)
        shown = name or (table["name"] if isinstance(table.get("name"), str) else "")
        scenario = _read_scenario(reader, table, key, shown or f"#{index + 1}", defaults)
        if scenario is not None and name is not None:
            scenarios.append(scenario)
    return scenarios


def _read_scenario_name(
    reader: _Reader, table: Mapping[str, Any], key: KeyPath, first_seen: dict[str, Position]
) -> str | None:
    if "name" not in table:
        reader.issue(key, "the scenario has no name", 'name = "chat" (kebab-case or snake_case)')
        return None
    name = reader.string(table["name"], (*key, "name"), "name")
    if name is None:
        return None
    where = reader.position((*key, "name"))
    if not _SCENARIO_NAME.fullmatch(name):
        reader.issue(
            (*key, "name"),
            f"scenario name {quote(name)} is not kebab-case or snake_case",
            'lowercase letters and digits joined by "-" or "_", e.g. "double-texting"',
        )
        return None
    if name in first_seen:
        earlier = first_seen[name]
        reader.issue(
            (*key, "name"),
            f"duplicate scenario name {quote(name)} (first used at line {earlier.line})",
            "a name no other scenario uses",
        )
        return None
    first_seen[name] = where
    return name


def _read_scenario(
    reader: _Reader,
    table: dict[str, Any],
    key: KeyPath,
    name: str,
    defaults: DefaultsConfig,
) -> ScenarioConfig | None:
    issues_before = len(reader.issues)
    executor_name = None
    if "executor" not in table:
        reader.issue(key, f"scenario {quote(name)} has no executor", one_of(EXECUTORS))
    else:
        executor_name = reader.string(
            table["executor"], (*key, "executor"), "executor", one_of(EXECUTORS)
        )
        if executor_name is not None and executor_name not in EXECUTORS:
            reader.issue(
                (*key, "executor"),
                f"unknown executor {quote(executor_name)}{did_you_mean(executor_name, EXECUTORS)}",
                one_of(EXECUTORS),
            )
            executor_name = None
    cls = EXECUTORS.get(executor_name) if executor_name else None
    _check_scenario_keys(reader, table, key, cls)

    start_time_s = 0.0
    if "start_time" in table:
        start_time_s = (
            reader.duration(table["start_time"], (*key, "start_time"), "start_time") or 0.0
        )
    graceful_stop_s = defaults.graceful_stop_s
    if "graceful_stop" in table:
        read = reader.duration(table["graceful_stop"], (*key, "graceful_stop"), "graceful_stop")
        graceful_stop_s = graceful_stop_s if read is None else read
    tags = dict(defaults.tags)
    if "tags" in table:
        tags.update(reader.string_table(table["tags"], (*key, "tags"), "tags") or {})

    executor: ExecutorConfig | None = None
    if cls is not None:
        options = {option: table[option] for option in cls.OPTIONS if option in table}
        if cls is BurstConfig and "assistant" not in options and defaults.assistant:
            options["assistant"] = defaults.assistant
        executor, problems = cls.from_options(
            options, start_time_s=start_time_s, graceful_stop_s=graceful_stop_s
        )
        for problem in problems:
            reader.issue(
                (*key, *problem.key),
                f"scenario {quote(name)}: {problem.message}",
                problem.expected,
                at_key=problem.at_key,
            )
        if isinstance(executor, BurstConfig) and "input" in options:
            _check_json(reader, options["input"], (*key, "input"))
            _check_templates(reader, options["input"], (*key, "input"), {}, {})

    on_error: OnError = "stop"
    if "on_error" in table:
        if cls is BurstConfig:
            reader.issue(
                (*key, "on_error"),
                "a burst scenario has no steps, so on_error has nothing to apply to",
                "no on_error in a burst scenario",
                at_key=True,
            )
        else:
            on_error = reader.on_error(table["on_error"], (*key, "on_error")) or on_error

    steps: tuple[StepConfig, ...] = ()
    if cls is BurstConfig:
        if "steps" in table:
            reader.issue(
                (*key, "steps"),
                "a burst scenario takes no steps: it creates threads and starts the runs itself",
                "threads, burst, strategy, assistant and input",
                at_key=True,
            )
    elif "steps" not in table:
        reader.issue(
            key,
            f"scenario {quote(name)} has no steps",
            'steps = [{ op = "threads.create", save = "thread" }, ...]',
        )
    else:
        steps = _read_steps(reader, table["steps"], (*key, "steps"), defaults)
    if executor is None or len(reader.issues) > issues_before:
        return None
    return ScenarioConfig(
        name=name,
        executor=executor,
        tags=MappingProxyType(tags),
        steps=steps,
        on_error=on_error,
    )


def _check_scenario_keys(
    reader: _Reader, table: Mapping[str, Any], key: KeyPath, cls: type[ExecutorConfig] | None
) -> None:
    allowed = (*_SCENARIO_KEYS, *(cls.OPTIONS if cls is not None else ()))
    for name in table:
        if name in allowed:
            continue
        if name in _ALL_OPTIONS:
            if cls is None:
                continue  # the executor is wrong already; its options cannot be judged
            owners = sorted(other for other, c in EXECUTORS.items() if name in c.OPTIONS)
            reader.issue(
                (*key, name),
                f"{name} is not an option of executor {cls.TOML_NAME}"
                f" (it belongs to {', '.join(owners)})",
                f"{cls.TOML_NAME} options: {', '.join(cls.OPTIONS)}",
                at_key=True,
            )
        else:
            candidates = (*_SCENARIO_KEYS, *(cls.OPTIONS if cls is not None else _ALL_OPTIONS))
            reader.issue(
                (*key, name),
                f"unknown key {quote(name)} in [[scenario]]{did_you_mean(name, candidates)}",
                one_of(candidates),
                at_key=True,
            )


# -- steps -------------------------------------------------------------------------------


def _read_steps(
    reader: _Reader, raw: Any, base: KeyPath, defaults: DefaultsConfig
) -> tuple[StepConfig, ...]:
    if not isinstance(raw, list):
        reader.issue(
            base,
            f"steps must be an array of tables, not {toml_type(raw)}",
            '[{ op = "threads.create", save = "thread" }, ...]',
        )
        return ()
    if not raw:
        reader.issue(base, "steps is empty", 'at least one step, e.g. { op = "threads.create" }')
        return ()
    saved: dict[str, int] = {}
    later = _later_saves(raw)
    steps: list[StepConfig] = []
    for index, item in enumerate(raw):
        key = (*base, index)
        table = reader.table(item, key, "a step")
        if table is None:
            continue
        step = _read_step(reader, table, key, defaults, saved, later)
        if step is not None:
            steps.append(step)
        # A step with other problems still defines its variable for the steps after it.
        name = table.get("save")
        if isinstance(name, str) and _VARIABLE.fullmatch(name) and name not in BUILTIN_NAMES:
            saved.setdefault(name, index)
    return tuple(steps)


def _later_saves(raw: list[Any]) -> dict[str, int]:
    """Every variable some step saves, with the first step (1-based) that saves it."""
    found: dict[str, int] = {}
    for index, item in enumerate(raw):
        if isinstance(item, dict) and isinstance(item.get("save"), str):
            found.setdefault(item["save"], index + 1)
    return found


def _read_step(
    reader: _Reader,
    table: dict[str, Any],
    key: KeyPath,
    defaults: DefaultsConfig,
    saved: Mapping[str, int],
    later: Mapping[str, int],
) -> StepConfig | None:
    if "sleep" in table or table.get("op") == "sleep":
        return _read_sleep(reader, table, key)
    if "op" not in table:
        reader.issue(
            key,
            "a step needs op (or sleep)",
            '{ op = "runs.wait", ... } or { sleep = "1s" }',
        )
        return None
    op = reader.string(table["op"], (*key, "op"), "op", "an operation name")
    if op is None:
        return None
    spec = OPERATIONS.get(op)
    if spec is None:
        reader.issue(
            (*key, "op"),
            f"unknown operation {quote(op)}{did_you_mean(op, [*OPERATIONS, 'sleep'])}",
            "an operation such as runs.wait, runs.stream, threads.create (docs/workload.md)",
        )
        return None
    issues_before = len(reader.issues)
    params = _read_params(reader, table, key, spec, defaults)
    for name, value in params.items():
        _check_templates(reader, value, (*key, _written_key(table, name, spec)), saved, later)
    save: str | None = None
    if "save" in table:
        save = reader.string(table["save"], (*key, "save"), "save", "a variable name")
        if save is not None:
            if not _VARIABLE.fullmatch(save):
                reader.issue(
                    (*key, "save"),
                    f"save {quote(save)} is not a variable name",
                    "letters, digits and _, not starting with a digit",
                )
            elif save in BUILTIN_NAMES:
                reader.issue(
                    (*key, "save"),
                    f"{save} is a built-in name and cannot be saved to",
                    "another name, e.g. " + quote("my_" + save),
                )
            elif spec.returns_nothing:
                reader.issue(
                    (*key, "save"),
                    f"{op} returns nothing, so there is nothing to save",
                    "no save on this step",
                    at_key=True,
                )
    repeat = 1
    if "repeat" in table:
        repeat = reader.integer(table["repeat"], (*key, "repeat"), "repeat", minimum=1) or 1
    think_time_s = defaults.think_time_s
    if "think_time" in table:
        read = reader.duration(table["think_time"], (*key, "think_time"), "think_time")
        think_time_s = think_time_s if read is None else read
    on_error: OnError | None = None
    if "on_error" in table:
        on_error = reader.on_error(table["on_error"], (*key, "on_error"))
    turns = False
    if "turns" in table:
        if isinstance(table["turns"], bool):
            turns = table["turns"]
        else:
            reader.issue(
                (*key, "turns"),
                f"turns must be true or false, not {toml_type(table['turns'])}",
                "true (record each repeat as a turn: tag turn=1, turn=2, ...) or false",
            )
    as_user: AsUser = "self"
    if "as_user" in table:
        given = reader.string(table["as_user"], (*key, "as_user"), "as_user", one_of(_AS_USER))
        if given == "other":
            as_user = "other"
        elif given is not None and given != "self":
            reader.issue(
                (*key, "as_user"),
                f"unknown as_user {quote(given)}{did_you_mean(given, _AS_USER)}",
                one_of(_AS_USER),
            )
    if len(reader.issues) > issues_before:
        return None
    return OperationStepConfig(
        op=op,
        params=MappingProxyType(params),
        save=save,
        repeat=repeat,
        think_time_s=think_time_s,
        on_error=on_error,
        turns=turns,
        as_user=as_user,
    )


def _written_key(table: Mapping[str, Any], name: str, spec: OperationSpec) -> str:
    """The key the user wrote for parameter ``name`` (the alias, if that is what they used)."""
    if name in table:
        return name
    for alias, long in spec.aliases.items():
        if long == name and alias in table:
            return alias
    return name


def _read_sleep(reader: _Reader, table: dict[str, Any], key: KeyPath) -> SleepStepConfig | None:
    if "sleep" in table:
        reader.check_keys(table, key, ("sleep",), "a sleep step")
        value_key: KeyPath = (*key, "sleep")
    else:
        reader.check_keys(table, key, ("op", "duration"), "a sleep step")
        if "duration" not in table:
            reader.issue(key, "a sleep step needs a duration", '{ sleep = "500ms" }')
            return None
        value_key = (*key, "duration")
    value = table[str(value_key[-1])]
    seconds = reader.duration(value, value_key, "sleep")
    return None if seconds is None else SleepStepConfig(seconds)


def _read_params(
    reader: _Reader,
    table: Mapping[str, Any],
    key: KeyPath,
    spec: OperationSpec,
    defaults: DefaultsConfig,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    written: dict[str, str] = {}
    allowed = (*_STEP_KEYS, *spec.params, *spec.aliases)
    for name, value in table.items():
        if name in _STEP_KEYS:
            continue
        canonical = spec.canonical(name)
        if canonical is None:
            reader.issue(
                (*key, name),
                f"{spec.name} has no parameter {quote(name)}{did_you_mean(name, allowed)}",
                "one of " + ", ".join(sorted({*spec.params, *spec.aliases, *_STEP_KEYS})),
                at_key=True,
            )
            continue
        if canonical in written:
            reader.issue(
                (*key, name),
                f"{name} and {written[canonical]} are the same parameter; give only one",
                f"{written[canonical]} alone",
                at_key=True,
            )
            continue
        written[canonical] = name
        if _check_param(reader, spec.params[canonical], value, (*key, name), spec):
            params[canonical] = value
    if "assistant_id" in spec.required and "assistant_id" not in written and defaults.assistant:
        params["assistant_id"] = defaults.assistant
        written["assistant_id"] = "assistant_id"
    missing = [name for name in spec.params if name in spec.required and name not in written]
    for name in missing:
        alias = next((a for a, long in spec.aliases.items() if long == name), name)
        example = _ID_EXAMPLES.get(name) or _PARAM_EXAMPLES.get(spec.params[name].type, "...")
        reader.issue(key, f"{spec.name} needs {alias}", f"{alias} = {example}")
    return params


_ID_EXAMPLES: Mapping[str, str] = {
    "assistant_id": '"sleepy"',
    "thread_id": '"$thread"',
    "run_id": '"$run"',
    "cron_id": '"$cron"',
}
_PARAM_EXAMPLES: Mapping[ParamType, str] = {
    ParamType.ID: '"$thread"',
    ParamType.STRING: '"..."',
    ParamType.PATH: '"/ok"',
    ParamType.INTEGER: "1",
    ParamType.TABLE: "{ ... }",
    ParamType.STRINGS: '["users", "1"]',
    ParamType.TABLES: "[{ ... }]",
    ParamType.TABLE_OR_TABLES: "{ ... }",
}


# -- parameter values ----------------------------------------------------------------------


def _walk(value: Any, key: KeyPath) -> Iterator[tuple[Any, KeyPath]]:
    """Every value inside ``value`` (itself included) with its key path."""
    stack: list[tuple[Any, KeyPath]] = [(value, key)]
    while stack:
        item, where = stack.pop()
        yield item, where
        if isinstance(item, dict):
            stack.extend((child, (*where, name)) for name, child in item.items())
        elif isinstance(item, list):
            stack.extend((child, (*where, index)) for index, child in enumerate(item))


def _check_json(reader: _Reader, value: Any, key: KeyPath) -> bool:
    """Record dates, times, nan and inf anywhere in ``value``: JSON has none of them."""
    ok = True
    for item, where in _walk(value, key):
        if isinstance(item, datetime.datetime | datetime.date | datetime.time):
            reader.issue(where, "dates and times cannot be sent as JSON", "a string")
            ok = False
        elif isinstance(item, float) and not math.isfinite(item):
            reader.issue(where, f"{item} cannot be sent as JSON", "a finite number")
            ok = False
    return ok


def _is_whole_template(value: Any) -> bool:
    if not isinstance(value, str) or "$" not in value:
        return False
    try:
        return parse_template(value).whole is not None
    except TemplateError:
        return False


def _is_template(value: Any) -> bool:
    if not isinstance(value, str) or "$" not in value:
        return False
    try:
        return not parse_template(value).is_text
    except TemplateError:
        return True


def _check_param(
    reader: _Reader, param: ParamSpec, value: Any, key: KeyPath, spec: OperationSpec
) -> bool:
    """Record an issue and return False when ``value`` does not fit ``param``."""
    if not _check_json(reader, value, key):
        return False
    ok = True
    if _is_whole_template(value):
        return True
    what = f"{spec.name} parameter {param.name}"
    kind = param.type
    if not _fits(kind, value):
        reader.issue(key, f"{what} must be {kind.value}, not {toml_type(value)}", param.expected())
        return False
    if param.minimum is not None and isinstance(value, int) and value < param.minimum:
        reader.issue(key, f"{what} must be at least {param.minimum}, not {value}", param.expected())
        return False
    if kind is ParamType.PATH and not (value.startswith("/") or _is_template(value)):
        reader.issue(key, f"{what} {quote(value)} does not start with /", param.expected())
        return False
    if kind is ParamType.ID and value == "":
        reader.issue(key, f"{what} is empty", param.expected())
        return False
    if param.choices:
        items = (
            [(value, key)]
            if isinstance(value, str)
            else [(item, (*key, index)) for index, item in enumerate(value)]
        )
        for item, where in items:
            if item not in param.choices and not _is_template(item):
                reader.issue(
                    where,
                    f"{what}: unknown value {quote(item)}{did_you_mean(item, param.choices)}",
                    param.expected(),
                )
                ok = False
    return ok


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _fits(kind: ParamType, value: Any) -> bool:
    """Whether ``value`` has the TOML shape ``kind`` (list items may be whole templates)."""
    if kind in (ParamType.STRING, ParamType.PATH, ParamType.ID):
        return isinstance(value, str)
    if kind is ParamType.INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is ParamType.BOOLEAN:
        return isinstance(value, bool)
    if kind is ParamType.TABLE:
        return isinstance(value, dict)
    if kind is ParamType.STRINGS:
        return _strings(value)
    if kind is ParamType.STRING_OR_STRINGS:
        return isinstance(value, str) or _strings(value)
    if kind is ParamType.NODES:
        return value == "*" or _strings(value)
    if kind is ParamType.TABLE_OR_TABLES:
        return isinstance(value, dict) or (
            isinstance(value, list)
            and all(isinstance(item, dict) or _is_whole_template(item) for item in value)
        )
    if kind is ParamType.TABLES:
        return isinstance(value, list) and all(
            isinstance(item, dict) or _is_whole_template(item) for item in value
        )
    if kind is ParamType.STRING_OR_TABLE:
        return isinstance(value, str | dict)
    if kind is ParamType.INTEGER_OR_BOOLEAN:
        return isinstance(value, int)
    if kind is ParamType.INDEX:
        return value is False or _strings(value)
    return True  # ParamType.JSON


def _check_templates(
    reader: _Reader,
    value: Any,
    key: KeyPath,
    saved: Mapping[str, int],
    later: Mapping[str, int],
) -> None:
    """Record malformed templates and variables no earlier step saves."""
    for item, where in _walk(value, key):
        if not isinstance(item, str) or "$" not in item:
            continue
        try:
            template = parse_template(item)
        except TemplateError as error:
            reader.issue(where, error.problem, error.expected)
            continue
        for name in sorted(template.variables()):
            if name in saved:
                continue
            if name in later:
                reader.issue(
                    where,
                    f"undefined variable ${name}: it is saved only by a later step"
                    f" (step {later[name]})",
                    _UNDEFINED_EXPECTED,
                )
            else:
                reader.issue(where, f"undefined variable ${name}", _UNDEFINED_EXPECTED)


# -- [thresholds] ----------------------------------------------------------------------------

_THRESHOLD_KEYS = ("condition", "window", "abort_on_fail", "abort_delay")
_THRESHOLD_EXPECTED = (
    'a condition such as "< 2s" or "< 1.5s in every 1m", a table '
    '{ condition = "< 2s", window = "1m", abort_on_fail = true, abort_delay = "30s" }, '
    "or an array of them"
)


def _flatten(table: Mapping[str, Any], key: KeyPath) -> Iterator[tuple[str, Any, KeyPath]]:
    """Nested tables (``runs.wait.latency.p99 = ...`` written without quotes) as dotted keys.

    A table with a ``condition`` (or another threshold option) is one threshold written as a
    table, not a level of the key.
    """
    for name, value in table.items():
        if isinstance(value, dict) and value and not any(k in value for k in _THRESHOLD_KEYS):
            for inner, item, where in _flatten(value, (*key, name)):
                yield f"{name}.{inner}", item, where
        else:
            yield name, value, (*key, name)


def _selector_names(document: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """Scenario names and tags as written, for threshold selectors.

    Read from the raw document, so a scenario with other problems still counts as named.
    """
    scenarios: list[str] = []
    tags: set[tuple[str, str]] = {("role", "observer")}
    defaults = document.get("defaults")
    if isinstance(defaults, dict) and isinstance(defaults.get("tags"), dict):
        tags |= {(k, v) for k, v in defaults["tags"].items() if isinstance(v, str)}
    raw = document.get("scenario")
    for scenario in raw if isinstance(raw, list) else []:
        if not isinstance(scenario, dict):
            continue
        if isinstance(scenario.get("name"), str):
            scenarios.append(scenario["name"])
        if isinstance(scenario.get("tags"), dict):
            tags |= {(k, v) for k, v in scenario["tags"].items() if isinstance(v, str)}
        # A step with turns records each repeat under turn=1 ... turn=<repeat>.
        steps = scenario.get("steps")
        for step in steps if isinstance(steps, list) else []:
            if isinstance(step, dict) and step.get("turns") is True:
                repeat = step.get("repeat", 1)
                valid = isinstance(repeat, int) and not isinstance(repeat, bool)
                tags |= turn_tags(repeat if valid else 1)
    # With users, every operation is tagged user=user-<k>.
    target = document.get("target")
    auth = target.get("auth") if isinstance(target, dict) else None
    if isinstance(auth, dict):
        users = auth.get("users")
        valid = isinstance(users, int) and not isinstance(users, bool) and users >= 1
        tags |= user_tags(users if valid else None)
    return scenarios, sorted(tags)


def _read_threshold_table(
    reader: _Reader, table: dict[str, Any], place: KeyPath, name: str
) -> tuple[Any, dict[str, Any]] | None:
    """The condition of a threshold written as a table, and its options as read."""
    reader.check_keys(table, place, _THRESHOLD_KEYS, f"threshold {quote(name)}")
    options: dict[str, Any] = {"window_s": None, "abort_on_fail": False, "abort_delay_s": None}
    ok = True
    if "window" in table:
        options["window_s"] = reader.duration(
            table["window"], (*place, "window"), "window", positive=True
        )
        ok = ok and options["window_s"] is not None
    if "abort_on_fail" in table:
        if isinstance(table["abort_on_fail"], bool):
            options["abort_on_fail"] = table["abort_on_fail"]
        else:
            reader.issue(
                (*place, "abort_on_fail"),
                f"abort_on_fail must be a boolean, not {toml_type(table['abort_on_fail'])}",
                "true or false",
            )
            ok = False
    if "abort_delay" in table:
        options["abort_delay_s"] = reader.duration(
            table["abort_delay"], (*place, "abort_delay"), "abort_delay"
        )
        ok = ok and options["abort_delay_s"] is not None
    if "condition" not in table:
        reader.issue(place, f"threshold {quote(name)} has no condition", 'condition = "< 2s"')
        return None
    return (table["condition"], options) if ok else None


def _read_thresholds(
    reader: _Reader,
    raw: Any,
    document: Mapping[str, Any],
    parsed: list[ScenarioConfig] | None = None,
) -> tuple[ThresholdSpec, ...]:
    """The thresholds; with the ``parsed`` scenarios, also those that can never be judged
    (their operation is called by no selected scenario) are issues."""
    base: KeyPath = ("thresholds",)
    table = reader.table(raw, base, "[thresholds]")
    if table is None:
        return ()
    scenarios, tags = _selector_names(document)
    specs: list[ThresholdSpec] = []
    for name, value, where in _flatten(table, base):
        conditions = (
            [(value, where)]
            if not isinstance(value, list)
            else [(item, (*where, index)) for index, item in enumerate(value)]
        )
        if isinstance(value, list) and not value:
            reader.issue(where, f"threshold {quote(name)} has no condition", _THRESHOLD_EXPECTED)
        for item, place in conditions:
            options: dict[str, Any] = {}
            condition, condition_at = item, place
            if isinstance(item, dict) and item:
                read = _read_threshold_table(reader, item, place, name)
                if read is None:
                    continue
                condition, options = read
                condition_at = (*place, "condition")
            if not isinstance(condition, str):
                reader.issue(
                    condition_at,
                    f"threshold {quote(name)} must be a string or a table, "
                    f"not {toml_type(condition)}",
                    _THRESHOLD_EXPECTED,
                )
                continue
            if not condition.strip():
                reader.issue(condition_at, f"threshold {quote(name)} is empty", _THRESHOLD_EXPECTED)
                continue
            built = build_threshold(name, condition, scenarios=scenarios, tags=tags, **options)
            if isinstance(built, Threshold):
                never = unjudgeable_reason(built.metric, parsed) if parsed is not None else None
                if never is not None:
                    reader.issue(
                        where,
                        f"threshold {quote(name)}: {never}",
                        "a threshold on an operation some step calls",
                        at_key=True,
                    )
                    continue
                specs.append(
                    ThresholdSpec(
                        name,
                        built.condition,
                        reader.position(condition_at),
                        window_s=built.window_s,
                        abort_on_fail=built.abort_on_fail,
                        abort_delay_s=built.abort_delay_s,
                    )
                )
                continue
            for problem in built:
                if problem.part == "key":
                    reader.issue(where, problem.message, problem.expected, at_key=True)
                elif not isinstance(item, dict) or problem.part not in item:
                    reader.issue(condition_at, problem.message, problem.expected)
                else:
                    reader.issue((*place, problem.part), problem.message, problem.expected)
    return tuple(specs)
