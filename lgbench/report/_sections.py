"""The report's sections, each a function of the :class:`Context` returning HTML (or None
when it has nothing to show, so the page and its navigation leave it out)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, final

import msgspec
from msgspec import UnsetType

from lgbench.history import describe_error, never_succeeded_message
from lgbench.observe import server_label
from lgbench.report._context import Context, get, number, split_tag
from lgbench.report._figures import distribution_figure, time_figure, trace, turn_figure
from lgbench.report._histograms import BUCKET_PERCENTILES
from lgbench.report._html import (
    Cell,
    Raw,
    badge,
    cell_value,
    details,
    esc,
    fmt_count,
    fmt_ms,
    fmt_number,
    fmt_percent,
    fmt_seconds,
    fmt_short,
    table,
)
from lgbench.results import (
    REPLY_RATE_SERIES,
    Drift,
    ErrorRateDrift,
    LatencyDrift,
    NeverSucceeded,
    Stream,
    Summary,
    ThresholdResult,
    Thresholds,
    ThresholdWindow,
)

__all__ = ["SECTIONS", "Section", "header", "verdicts"]

_MAX_THREAD_ROWS: Final = 100
_AUX_TITLES: Final = {
    "ttfe": "time to first event",
    "queue_wait": "queue wait",
    "event_gap": "gap between events",
    "ttft": "time to first token (chat replies)",
    "itl": "inter-token latency (chat replies)",
    "service_time": "service time",
}
_P10, _P50, _P90, _P99 = BUCKET_PERCENTILES


@final
@dataclass(frozen=True, slots=True)
class Section:
    anchor: str
    title: str
    render: Callable[[Context], Raw | None]


@final
@dataclass(frozen=True, slots=True)
class Verdict:
    label: str
    state: str  # pass, fail, unknown, none, partial
    text: str
    detail: str = ""


def _valid_state(valid: Any) -> tuple[str, str]:
    if valid is True:
        return "pass", "valid"
    if valid is False:
        return "fail", "invalid"
    return "unknown", "unknown"


def verdicts(ctx: Context) -> list[Verdict]:
    """Overall, thresholds, checker, baseline and completeness, as the exit code sees them."""
    summary = ctx.summary
    found: list[Verdict] = []
    thresholds = summary.thresholds if summary is not None else None
    thresholds_failed = False
    if isinstance(thresholds, Thresholds):
        results = thresholds.results
        failed = [r.name for r in results if r.status == "failed"]
        no_data = sum(1 for r in results if r.status == "no_data")
        too_short = sum(1 for r in results if r.status == "too_short")
        thresholds_failed = thresholds.passed is False
        text = "failed" if thresholds_failed else "passed"
        passed = sum(1 for r in results if r.status == "passed")
        detail = f"{passed} of {len(results)} passed"
        if failed:
            detail += ": failed " + ", ".join(failed[:4]) + (" …" if len(failed) > 4 else "")
        if no_data:
            detail += f"; {no_data} without data"
        if too_short:
            detail += f"; {too_short} not judged: the run was too short"
        found.append(Verdict("thresholds", "fail" if thresholds_failed else "pass", text, detail))
    else:
        found.append(Verdict("thresholds", "none", "none set"))
    check = ctx.inputs.check
    short = summary.check if summary is not None else None
    valid = get(check, "valid") if check is not None else short.valid if short else None
    anomalies_found = valid is False
    if check is None and short is None:
        found.append(Verdict("checker", "none", "not run"))
    else:
        state, text = _valid_state(valid)
        counts = get(check, "counts") or {}
        detail = ""
        if isinstance(counts, dict) and counts:
            detail = (
                f"{fmt_count(counts.get('anomalies'))} anomalies, "
                f"{fmt_count(counts.get('threads_checked'))} threads checked"
            )
        found.append(Verdict("checker", state, text, detail))
    baseline = summary.baseline if summary is not None else None
    baseline_failed = False
    if isinstance(baseline, dict):
        baseline_failed = baseline.get("passed") is False
        regressions = baseline.get("regressions") or []
        detail = f"vs {baseline.get('base')}"
        if baseline_failed:
            detail = f"{len(regressions)} regression(s) " + detail
        said = baseline.get("verdict")
        found.append(
            Verdict(
                "baseline",
                "fail" if baseline_failed else "pass",
                "regressed"
                if baseline_failed
                else said
                if isinstance(said, str) and said != "regression"
                else "within limits",
                detail,
            )
        )
    else:
        found.append(Verdict("baseline", "none", "no baseline"))
    never_succeeded = [entry.operation for entry in _never_succeeded(summary) if not entry.expected]
    if anomalies_found:
        overall = Verdict("overall", "fail", "anomalies found", "exit code 5")
    elif thresholds_failed or baseline_failed or never_succeeded:
        why = (
            "thresholds failed"
            if thresholds_failed
            else "baseline regressed"
            if baseline_failed
            else f"{never_succeeded[0]} never succeeded"
        )
        overall = Verdict("overall", "fail", why, "exit code 4")
    elif ctx.partial:
        overall = Verdict("overall", "partial", "partial run", _stop_reason(ctx))
    else:
        overall = Verdict("overall", "pass", "passed", "exit code 0")
    run = (
        Verdict("run", "partial", "partial", _stop_reason(ctx))
        if ctx.partial
        else Verdict(
            "run", "pass", "completed", fmt_seconds(summary.duration_s if summary else None)
        )
    )
    return [overall, run, *found]


def _never_succeeded(summary: Summary | None) -> tuple[NeverSucceeded, ...]:
    found = summary.never_succeeded if summary is not None else ()
    return () if isinstance(found, UnsetType) else found


def _stop_reason(ctx: Context) -> str:
    if ctx.summary is None:
        return "no summary.json: the run did not finish (killed?)"
    return ctx.summary.stop_reason or "stopped early"


def header(ctx: Context) -> Raw:
    summary = ctx.summary
    hist = ctx.inputs.history_header
    name = (
        (summary.workload.name if summary else None)
        or get(hist, "workload")
        or ctx.inputs.run_dir.name
    )
    started = (summary.started_at if summary else None) or get(hist, "started_at") or ""
    cards = "".join(
        f'<div class="verdict" data-verdict="{esc(v.label)}" data-state="{esc(v.state)}">'
        f'<span class="label">{esc(v.label)}</span>{badge(v.state, v.text).html}'
        f'<span class="detail">{esc(v.detail)}</span></div>'
        for v in verdicts(ctx)
    )
    banner = ""
    if ctx.summary is None:
        banner = (
            '<div class="banner" data-partial="true">Partial report: this run left no '
            "summary.json (it was killed before the end). Figures come from intervals.hlog, "
            "timeseries.jsonl and the history header, up to the last whole interval.</div>"
        )
    elif ctx.partial:
        banner = (
            '<div class="banner" data-partial="true">Partial run: stopped early '
            f"({esc(_stop_reason(ctx))}).</div>"
        )
    return Raw(
        '<header class="top">'
        f'<h1>lgbench report: {esc(name)}<span class="sub">{esc(started)}</span></h1>'
        f'<div class="verdicts">{cards}</div>{banner}{_settings(ctx).html}</header>'
    )


def _settings(ctx: Context) -> Raw:
    summary = ctx.summary
    hist = ctx.inputs.history_header
    rows: list[tuple[str, str]] = []
    if summary is not None:
        workload = summary.workload
        text = workload.name
        if workload.path:
            text += f" ({workload.path})"
        rows.append(("workload", text))
        if workload.seed is not None:
            rows.append(("seed", str(workload.seed)))
        if workload.overrides:
            rows.append(("overrides", json.dumps(workload.overrides, sort_keys=True)))
    elif hist is not None:
        rows.append(("workload", str(hist.get("workload"))))
        if hist.get("seed") is not None:
            rows.append(("seed", str(hist["seed"])))
    target = (summary.target.url if summary else None) or get(hist, "target")
    if target is not None:
        rows.append(("target", str(target)))
    # What the server said it is (its /info), never an assumed name.
    if summary is not None:
        server_text = summary.server.label or server_label(msgspec.to_builtins(summary.server))
        langgraph = summary.server.langgraph_py_version
    else:
        server = get(hist, "server")
        server_text = (
            str(server.get("label") or server_label(server)) if isinstance(server, dict) else ""
        )
        langgraph = server.get("langgraph_py_version") if isinstance(server, dict) else None
    if server_text:
        if langgraph:
            server_text += f", langgraph {langgraph}"
        rows.append(("server", server_text))
    backend = (summary.backend if summary else None) or get(hist, "backend")
    if backend is not None:
        transport = summary.transport if summary else None
        rows.append(("backend", f"{backend}" + (f", {transport} transport" if transport else "")))
    lgbench_version = (summary.lgbench_version if summary else None) or get(hist, "lgbench_version")
    if lgbench_version:
        rows.append(("lgbench", str(lgbench_version)))
    started = (summary.started_at if summary else None) or get(hist, "started_at")
    if started:
        rows.append(("started", str(started)))
    if summary is not None and summary.ended_at:
        rows.append(("ended", summary.ended_at))
    duration = number(summary.duration_s) if summary else None
    planned = number(summary.planned_duration_s) if summary else None
    if duration is not None:
        text = fmt_seconds(duration)
        if planned is not None:
            text += f" (planned {fmt_seconds(planned)})"
        rows.append(("duration", text))
    else:
        rows.append(("duration", f"{fmt_seconds(ctx.span_s)} logged"))
    rows.append(("stop", _stop_reason(ctx) if ctx.partial else "completed"))
    dropped = summary.dropped_iterations if summary else None
    if dropped:
        rows.append(("dropped iterations", fmt_count(dropped)))
    if ctx.grid.width_s > 1.0001:
        rows.append(("time buckets", f"{fmt_number(ctx.grid.width_s)} s (long run: merged)"))
    body = "".join(
        f'<div class="setting"><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>' for k, v in rows
    )
    warnings = summary.warnings if summary else ()
    extra = ""
    if warnings:
        items = "".join(f"<li>{esc(w)}</li>" for w in warnings)
        extra = f'<div class="warnings"><b>Warnings</b><ul class="plain">{items}</ul></div>'
    return Raw(f'<dl class="settings">{body}</dl>{extra}')


# --- operations ------------------------------------------------------------------------------


def _latency(ctx: Context, tag: str, key: str) -> float | None:
    """A whole-run figure of an .hlog tag: ``p50`` … ``p99_9``, ``max``, ``min``."""
    if ctx.hlog is None or tag not in ctx.hlog.totals:
        return None
    totals = ctx.hlog.totals[tag]
    if key == "max":
        return totals.max_ms
    if key == "min":
        return totals.min_ms
    percentile = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p99_9": 99.9}[key]
    return totals.percentiles_ms.get(percentile)


def _operation_row(ctx: Context, op: str) -> tuple[list[Cell], dict[str, str]]:
    figures = ctx.summary.operations.get(op) if ctx.summary else None
    attrs = {"data-operation": op}
    duration = (number(ctx.summary.duration_s) if ctx.summary else None) or ctx.span_s
    if figures is not None:
        count = number(figures.count)
        errors = number(figures.errors)
        rate = number(figures.rate_per_s)
        latency = figures.latency_ms
        stream = figures.stream if isinstance(figures.stream, Stream) else None
        kinds = msgspec.to_builtins(figures.errors_by_kind)
        lat = {k: number(getattr(latency, k)) for k in ("p50", "p90", "p99", "p99_9", "max")}
        ttfe = (number(stream.ttfe_ms.p50), number(stream.ttfe_ms.p99)) if stream else (None, None)
        queue = (
            (number(stream.queue_wait_ms.p50), number(stream.queue_wait_ms.p99))
            if stream
            else (None, None)
        )
    else:
        series = ctx.series
        hlog_count = ctx.hlog.totals[op].count if ctx.hlog and op in ctx.hlog.totals else None
        count = float(series.total(op, "count")) if series and op in series.operations else None
        count = count if count is not None else (float(hlog_count) if hlog_count else None)
        errors = float(series.total(op, "errors")) if series and op in series.operations else None
        rate = count / duration if count is not None and duration > 0 else None
        kinds = _kinds_from_series(ctx, op)
        lat = {k: _latency(ctx, op, k) for k in ("p50", "p90", "p99", "p99_9", "max")}
        ttfe = (_latency(ctx, f"{op}.ttfe", "p50"), _latency(ctx, f"{op}.ttfe", "p99"))
        queue = (
            _latency(ctx, f"{op}.queue_wait", "p50"),
            _latency(ctx, f"{op}.queue_wait", "p99"),
        )
    interrupted = figures.interrupted if figures is not None else 0
    error_cell: Cell = fmt_count(errors)
    if errors:
        share = 100.0 * errors / count if count else None
        title = _kinds_text(kinds)
        text = f"{fmt_count(errors)} ({fmt_percent(share)})"
        error_cell = Raw(f'<span class="err" title="{esc(title)}">{esc(text)}</span>')
    if interrupted:
        # Cut by lgbench's own stop: shown beside the errors, never among them.
        note = f"+{interrupted} interrupted"
        title = "operations lgbench cut at its own stop (graceful stop, ramp-down): not errors"
        error_cell = Raw(
            f'{cell_value(error_cell)} <span class="muted" title="{esc(title)}">{esc(note)}</span>'
        )
    for key, value in lat.items():
        if value is not None:
            attrs[f"data-{key.replace('_', '-')}"] = repr(value)
    if count is not None:
        attrs["data-count"] = str(int(count))
    dot = f'<span style="color:{ctx.colors.get(op, "#000")}">●</span> '
    row: list[Cell] = [
        Raw(f"{dot}<code>{esc(op)}</code>"),
        fmt_count(count),
        error_cell,
        fmt_number(rate),
        *(fmt_ms(lat[k]) for k in ("p50", "p90", "p99", "p99_9", "max")),
        _pair(ttfe),
        _pair(queue),
    ]
    return row, attrs


def _pair(values: tuple[float | None, float | None]) -> Cell:
    if values[0] is None and values[1] is None:
        return None
    return f"{fmt_ms(values[0])} / {fmt_ms(values[1])}"


def _kinds_from_series(ctx: Context, op: str) -> dict[str, Any]:
    series = ctx.series
    if series is None or op not in series.operations:
        return {}
    return {
        "http": series.http_errors.get(op, {}),
        "transport": series.total(op, "transport_errors"),
        "timeout": series.total(op, "timeouts"),
        "run": series.total(op, "run_errors"),
        "other": series.total(op, "other"),
    }


def _kinds_text(kinds: Any) -> str:
    if not isinstance(kinds, dict):
        return ""
    parts: list[str] = []
    for kind, value in kinds.items():
        if isinstance(value, dict):
            parts.extend(f"HTTP {status}: {n}" for status, n in value.items() if n)
        elif value:
            parts.append(f"{kind}: {value}")
    return ", ".join(parts)


def _operations(ctx: Context) -> Raw | None:
    if not ctx.operations:
        return None
    rows: list[list[Cell]] = []
    attrs: list[dict[str, str]] = []
    for op in ctx.operations:
        row, row_attrs = _operation_row(ctx, op)
        rows.append(row)
        attrs.append(row_attrs)
    headers = [
        "operation",
        "count",
        "errors",
        "rate (/s)",
        "p50 (ms)",
        "p90",
        "p99",
        "p99.9",
        "max",
        "ttfe p50 / p99",
        "queue wait p50 / p99",
    ]
    parts = [table(headers, rows, css="operations", row_attrs=attrs).html]
    source = (
        "from summary.json"
        if ctx.summary is not None
        else "from intervals.hlog and timeseries.jsonl (no summary.json)"
    )
    parts.append(
        f'<p class="note">Latencies in ms, HdrHistogram bucket edges, {esc(source)}. '
        "Hover an error count for its kinds. Queue wait: on the in-memory server, mostly its "
        "polling for queued runs (every 0.5 s), also inside runs.wait's latency.</p>"
    )
    parts.append(_not_made(ctx))
    errors = _top_errors(ctx)
    if errors is not None:
        parts.append(errors.html)
    own = _own_requests(ctx)
    if own is not None:
        parts.append(own.html)
    scenarios = _scenarios_table(ctx)
    if scenarios is not None:
        parts.append(f"<h3>Scenarios</h3>{scenarios.html}")
    aux = _aux_table(ctx)
    if aux is not None:
        parts.append(f"<h3>Other timings (whole run, from intervals.hlog)</h3>{aux.html}")
    return Raw("".join(parts))


def _not_made(ctx: Context) -> str:
    """Calls not made: operations the server does not implement, and those skipped because
    an earlier operation of their iteration failed (per scenario)."""
    items: list[str] = []
    if ctx.summary is None:
        return ""
    for route in ctx.summary.unsupported:
        items.append(
            f'<li class="unsupported"><b>unsupported</b>: the server does not implement '
            f"<code>{esc(route.operation)}</code> ({esc(route.method)} "
            f"<code>{esc(route.path)}</code> answered {esc(route.status)}):"
            f" {fmt_count(route.answered)} answered,"
            f" {fmt_count(route.skipped)} not sent</li>"
        )
    for name, scenario in ctx.summary.scenarios.items():
        skipped = [
            f"<code>{esc(op)}</code> {fmt_count(figures.skipped.after_failure)}"
            for op, figures in scenario.operations.items()
            if figures.skipped.after_failure
        ]
        if skipped:
            items.append(
                f'<li class="skipped">skipped after an earlier failure in scenario'
                f" {esc(name)}: {', '.join(skipped)}</li>"
            )
    if not items:
        return ""
    listed = "".join(items)
    return f'<div class="warnings"><b>Calls not made</b><ul class="plain">{listed}</ul></div>'


def _own_requests(ctx: Context) -> Raw | None:
    """What lgbench asked besides the load, and answers that came back empty: the burst
    observers' share of the requests, the post-run audit, and per operation the ok waits and
    streams that carried no result (summary.json's ``observation``, ``audit``, ``empty``)."""
    items: list[str] = []
    summary = ctx.summary
    if summary is None:
        return None
    observation = summary.observation
    if observation.requests:
        shown = ", ".join(
            f"<code>{esc(op)}</code> {fmt_count(n)}" for op, n in observation.by_operation.items()
        )
        share = number(observation.share)
        items.append(
            f"<li>observation (lgbench's own status reads during the load): "
            f"{fmt_count(observation.requests)} of {fmt_count(observation.all_requests)} "
            f"requests ({fmt_percent(100 * share if share is not None else None)}): {shown}</li>"
        )
    audit = summary.audit
    if audit.ran:
        audited = ", ".join(
            f"{esc(key.replace('_', ' '))} {fmt_count(value)}"
            for key in ("threads", "settled", "unsettled", "gone", "not_read", "requests")
            if isinstance(value := getattr(audit, key), int)
        )
        stop = audit.stop_reason if isinstance(audit.stop_reason, str) else ""
        items.append(f"<li>post-run audit: {audited}; {esc(stop)}</li>")
    elif isinstance(audit.reason, str) and audit.reason:
        items.append(f"<li>post-run audit not run: {esc(audit.reason)}</li>")
    empty = [
        f"<code>{esc(op)}</code> {fmt_count(count)}"
        for op in ctx.operations
        if (count := _empty(summary, op))
    ]
    if empty:
        items.append(
            "<li class=err>answers with no result (a wait answered <code>{}</code>, a stream "
            f"with no event): {', '.join(empty)}</li>"
        )
    if not items:
        return None
    listed = "".join(items)
    return Raw(
        f'<div class="note"><b>lgbench\'s own requests</b><ul class="plain">{listed}</ul></div>'
    )


def _empty(summary: Summary, op: str) -> int | None:
    """Ok answers of ``op`` that carried no result (None: not counted for it)."""
    figures = summary.operations.get(op)
    if figures is None or isinstance(figures.empty, UnsetType):
        return None
    return figures.empty


def _top_errors(ctx: Context) -> Raw | None:
    """The operations that never succeeded, then each operation's most frequent errors, in
    the server's words (summary.json's ``never_succeeded`` and ``top_errors``)."""
    if ctx.summary is None:
        return None
    parts: list[str] = []
    for entry in _never_succeeded(ctx.summary):
        css = "note" if entry.expected else "err"
        text = never_succeeded_message(msgspec.to_builtins(entry))
        parts.append(f'<p class="{css}"><strong>{esc(text)}</strong></p>')
    rows: list[list[Cell]] = []
    for op, figures in ctx.summary.operations.items():
        for error in figures.top_errors:
            rows.append(
                [
                    Raw(f"<code>{esc(op)}</code>"),
                    describe_error(msgspec.to_builtins(error)),
                    fmt_count(error.count),
                ]
            )
    if rows:
        parts.append("<h3>Most frequent errors</h3>")
        parts.append(table(["operation", "error", "count"], rows, numeric_from=2).html)
    return Raw("".join(parts)) if parts else None


def _scenarios_table(ctx: Context) -> Raw | None:
    scenarios = ctx.summary.scenarios if ctx.summary else {}
    if not scenarios:
        return None
    rows: list[list[Cell]] = []
    for name, s in scenarios.items():
        iterations = s.iterations
        rows.append(
            [
                Raw(f"<code>{esc(name)}</code>"),
                s.description or s.executor,
                fmt_count(s.max_vus),
                fmt_seconds(s.ran_s) if s.started else "not started",
                fmt_count(iterations.started),
                fmt_count(iterations.finished),
                fmt_count(iterations.failed),
                fmt_count(iterations.interrupted),
                fmt_count(s.dropped_iterations),
            ]
        )
    headers = [
        "scenario",
        "plan",
        "max VUs",
        "ran",
        "started",
        "finished",
        "failed",
        "interrupted",
        "dropped",
    ]
    return table(headers, rows, numeric_from=2)


def _aux_table(ctx: Context) -> Raw | None:
    if ctx.hlog is None:
        return None
    rows: list[list[Cell]] = []
    for tag in ctx.tag_names():
        kind, what = split_tag(tag)
        if kind in ("operation", "rate") or tag not in ctx.hlog.totals:
            continue
        totals = ctx.hlog.totals[tag]
        label = _AUX_TITLES.get(what, what.replace("_", " "))
        rows.append(
            [
                Raw(f"<code>{esc(tag)}</code> <span class=muted>{esc(label)}</span>"),
                fmt_count(totals.count),
                *(fmt_ms(totals.percentiles_ms.get(p)) for p in (50.0, 90.0, 99.0, 99.9)),
                fmt_ms(totals.max_ms),
            ]
        )
    if not rows:
        return None
    return table(["timing", "count", "p50 (ms)", "p90", "p99", "p99.9", "max"], rows)


# --- turns -----------------------------------------------------------------------------------


def _turns(ctx: Context) -> Raw | None:
    """Latency per conversation turn (steps with ``turns``: summary.json's ``turn=<k>`` tags),
    p50 and p99 per operation: how a thread's growing history slows each turn."""
    tags = ctx.summary.tags if ctx.summary else {}
    if not tags:
        return None
    turns = sorted(
        int(tag.split("=", 1)[1])
        for tag in tags
        if tag.startswith("turn=") and tag.split("=", 1)[1].isdigit()
    )
    if len(turns) < 2:
        return None
    traces: list[dict[str, Any]] = []
    for op in ctx.operations:
        figures = [tags[f"turn={t}"].get(op) for t in turns]
        p50 = [number(f.latency_ms.p50) if f else None for f in figures]
        p99 = [number(f.latency_ms.p99) if f else None for f in figures]
        if all(value is None for value in p50):
            continue
        color = ctx.colors.get(op)
        traces.append(trace(f"{op} p50", turns, p50, color=color, group=op, unit="ms"))
        traces.append(trace(f"{op} p99", turns, p99, color=color, dash="dot", group=op, unit="ms"))
    if not traces:
        return None
    figure = turn_figure(ctx.figure_id("turns"), "Latency per turn (p50, p99)", traces)
    return Raw(ctx.plot(figure).html)


# --- users -----------------------------------------------------------------------------------


def _user_number(tag: str) -> tuple[int, str]:
    label = tag.split("=", 1)[1]
    number = label.rsplit("-", 1)[-1]
    return (int(number) if number.isdigit() else 0, label)


def _users(ctx: Context) -> Raw | None:
    """Latency and errors per user (``[target.auth]``: summary.json's ``user=<label>`` tags),
    so that an auth handler that slows one tenant down, or refuses one, stands out."""
    tags = ctx.summary.tags if ctx.summary is not None else {}
    users = sorted((tag for tag in tags if tag.startswith("user=")), key=_user_number)
    if not users:
        return None
    rows: list[list[Cell]] = []
    for tag in users:
        operations = tags[tag]
        count = sum(o.count for o in operations.values())
        errors = sum(o.errors for o in operations.values())
        worst: dict[str, tuple[float, str] | None] = {"p50": None, "p99": None}
        for op, figures in operations.items():
            for stat in worst:
                value = number(getattr(figures.latency_ms, stat))
                found = worst[stat]
                if value is not None and (found is None or value > found[0]):
                    worst[stat] = (value, op)
        cells: list[Cell] = [
            Raw(f"<code>{esc(tag.split('=', 1)[1])}</code>"),
            fmt_count(count),
            fmt_count(errors),
            fmt_percent(100 * errors / count if count else None),
        ]
        for stat in ("p50", "p99"):
            found = worst[stat]
            cells.append(
                Raw(f"{esc(fmt_ms(found[0]))} <span class=muted>{esc(found[1])}</span>")
                if found is not None
                else "-"
            )
        rows.append(cells)
    headers = ["user", "requests", "errors", "error rate", "slowest p50 (ms)", "slowest p99 (ms)"]
    return table(headers, rows, numeric_from=1)


# --- distributions ---------------------------------------------------------------------------


def _distributions(ctx: Context) -> Raw | None:
    if ctx.hlog is None or not ctx.hlog.totals:
        return None
    totals = ctx.hlog.totals
    curves = {op: totals[op].curve for op in ctx.operations if op in totals}
    parts: list[str] = []
    if curves:
        figure = distribution_figure(
            ctx.figure_id("distribution"),
            "Latency by percentile (whole run)",
            curves,
            ctx.colors,
        )
        parts.append(ctx.plot(figure).html)
    aux_curves: dict[str, list[tuple[float, float]]] = {}
    aux_colors: dict[str, str] = {}
    for tag in ctx.tag_names():
        if split_tag(tag)[0] == "aux" and tag in totals:
            aux_curves[tag] = totals[tag].curve
            aux_colors[tag] = ctx.colors.get(tag.rpartition(".")[0], "#555")
    if aux_curves:
        figure = distribution_figure(
            ctx.figure_id("aux-distribution"),
            "Time to first event, queue wait, event gaps, service time by percentile",
            aux_curves,
            {},
        )
        parts.append(ctx.plot(figure).html)
    if not parts:
        return None
    parts.append(
        '<p class="note">x: the percentile on a log scale of 1/(1-p), so each decade of the '
        "tail (90%, 99%, 99.9%…) gets the same width; the last point of a curve is its "
        "maximum. Click a legend entry to hide a curve, double-click to show it alone.</p>"
    )
    return Raw("".join(parts))


# --- over time ------------------------------------------------------------------------------


def _bucket_x(ctx: Context) -> list[float]:
    """Each bucket's point: the middle of the time it covers (the last one may be short)."""
    covered = _covered(ctx)
    width = ctx.grid.width_s
    middles = [
        ctx.grid.start_s(i) + (min(width, covered[i]) / 2 if covered[i] > 0 else width / 2)
        for i in range(ctx.grid.count)
    ]
    return ctx.axis.x(middles)


def _covered(ctx: Context) -> list[float]:
    covered = [0.0] * ctx.grid.count
    sources: list[Sequence[float]] = []
    if ctx.series is not None:
        sources.append(ctx.series.covered_s)
    if ctx.hlog is not None:
        sources.extend(b.covered_s for b in ctx.hlog.buckets.values())
    for source in sources:
        for i, seconds in enumerate(source):
            covered[i] = max(covered[i], seconds)
    return covered


def _over_time(ctx: Context) -> Raw | None:
    x = _bucket_x(ctx)
    covered = _covered(ctx)
    parts: list[str] = []
    throughput: list[dict[str, Any]] = []
    for op in ctx.operations:
        counts = _counts(ctx, op)
        if counts is None:
            continue
        rates = [c / s if s > 0 else None for c, s in zip(counts, covered, strict=True)]
        throughput.append(trace(op, x, rates, color=ctx.colors[op], unit="/s"))
    if throughput:
        figure = time_figure(
            ctx.figure_id("throughput"),
            "Throughput per operation",
            throughput,
            ctx.axis,
            y_title="operations / s",
        )
        parts.append(ctx.plot(figure).html)
    latency: list[dict[str, Any]] = []
    if ctx.hlog is not None:
        for op in ctx.operations:
            buckets = ctx.hlog.buckets.get(op)
            if buckets is None or not any(buckets.count):
                continue
            color = ctx.colors[op]
            latency.append(
                trace(
                    f"{op} p99",
                    x,
                    buckets.percentiles_ms[_P99],
                    color=color,
                    group=op,
                    unit="ms",
                )
            )
            latency.append(
                trace(
                    f"{op} p50",
                    x,
                    buckets.percentiles_ms[_P50],
                    color=color,
                    dash="dot",
                    group=op,
                    unit="ms",
                )
            )
    if latency:
        figure = time_figure(
            ctx.figure_id("latency"),
            "Latency p99 (solid) and p50 (dotted) per operation",
            latency,
            ctx.axis,
            y_title="latency (ms)",
            log_y=True,
            height=400,
        )
        parts.append(ctx.plot(figure).html)
    errors = _errors_figure(ctx, x)
    if errors is not None:
        parts.append(errors.html)
    vus = _vus_figure(ctx, x)
    if vus is not None:
        parts.append(vus.html)
    if ctx.grid.width_s > 1.0001:
        parts.append(
            f'<p class="note">Each point merges {fmt_number(ctx.grid.width_s)} s of intervals: '
            "percentiles from the merged histograms, rates over the bucket.</p>"
        )
    return Raw("".join(parts)) if parts else None


def _counts(ctx: Context, op: str) -> list[int] | None:
    """Operations ended per bucket: the timeseries' count, else the hlog's timed ones."""
    if ctx.series is not None and op in ctx.series.operations:
        return ctx.series.operations[op]["count"]
    if ctx.series is None and ctx.hlog is not None and op in ctx.hlog.buckets:
        return ctx.hlog.buckets[op].count
    return None


def _errors_figure(ctx: Context, x: list[float]) -> Raw | None:
    series = ctx.series
    if series is None:
        return None
    traces = [
        trace(op, x, series.operations[op]["errors"], color=ctx.colors[op], kind="bar")
        for op in ctx.operations
        if op in series.operations and any(series.operations[op]["errors"])
    ]
    dropped = {
        name: counters["dropped"]
        for name, counters in series.scenarios.items()
        if any(counters["dropped"])
    }
    traces.extend(
        trace(f"dropped: {name}", x, values, color="#7f7f7f", kind="bar")
        for name, values in dropped.items()
    )
    if not traces:
        return Raw('<p class="note" data-no-errors="true">No errors in any interval.</p>')
    figure = time_figure(
        ctx.figure_id("errors"),
        "Errors per operation (and dropped iterations) per bucket",
        traces,
        ctx.axis,
        y_title="errors",
        stacked_bars=True,
    )
    return ctx.plot(figure)


def _vus_figure(ctx: Context, x: list[float]) -> Raw | None:
    series = ctx.series
    if series is None or not series.active_vus:
        return None
    # timeseries.jsonl leaves out a scenario with nothing to say: no VU active then.
    logged = [seconds > 0 for seconds in series.covered_s]
    traces = [
        trace(name, x, [v if v is not None else (0.0 if seen else None) for v, seen in pairs])
        for name, values in sorted(series.active_vus.items())
        for pairs in [list(zip(values, logged, strict=True))]
    ]
    for line in traces:
        line["line"]["shape"] = "hv"
    figure = time_figure(
        ctx.figure_id("vus"),
        "Active virtual users per scenario",
        traces,
        ctx.axis,
        y_title="VUs",
        height=300,
    )
    return ctx.plot(figure)


# --- streams ---------------------------------------------------------------------------------


def _chat_replies(ctx: Context, ops: list[str]) -> str | None:
    """Streams that carried chat replies, measured as LLM serving is: tokens, time to first
    token, inter-token latency, and each stream's own rate (its slow tail first)."""
    rows: list[list[Cell]] = []
    for op in ops:
        figures = ctx.summary.operations.get(op) if ctx.summary else None
        stream = figures.stream if figures is not None else None
        if not isinstance(stream, Stream) or not stream.reply_tokens:
            continue
        rates = stream.stream_tokens_per_s
        per_reply = stream.reply_tokens_per_stream
        rows.append(
            [
                Raw(f"<code>{esc(op)}</code>"),
                fmt_count(stream.reply_tokens),
                fmt_count(per_reply.p50),
                fmt_count(per_reply.max),
                fmt_number(stream.reply_tokens_per_s),
                fmt_ms(stream.ttft_ms.p50),
                fmt_ms(stream.ttft_ms.p99),
                fmt_ms(stream.itl_ms.p50),
                fmt_ms(stream.itl_ms.p99),
                fmt_number(rates.p50),
                fmt_number(rates.p10),
                fmt_number(rates.min),
            ]
        )
    if not rows:
        return None
    headers = [
        "chat replies",
        "tokens",
        "tokens / reply p50",
        "max",
        "tokens / s (run)",
        "ttft p50 (ms)",
        "ttft p99",
        "itl p50",
        "itl p99",
        "tokens / s per stream p50",
        "p10",
        "slowest",
    ]
    return table(headers, rows).html


@dataclass(frozen=True, slots=True)
class _StreamSeries:
    """A per-interval plot of the derived series ``<op>.<series>`` of stream operations:
    two percentiles (the first solid, the second dotted)."""

    series: str
    figure_id: str
    title: str
    label: str  # in the legend, after the operation
    percentiles: tuple[float, float]
    unit: str
    y_title: str
    log_y: bool


# Time to first event, chat replies' time to first token and inter-token latency (p99, p50),
# and each chat reply stream's tokens per second, of the streams that ended in the interval
# (p50, p10: for a rate the slow tail is the low one). Tokens per second are logged in
# thousandths, read as µs: their "ms" is tokens/s.
def _latency_series(series: str, title: str) -> _StreamSeries:
    return _StreamSeries(
        series,
        series,
        f"{title}: p99 (solid), p50 (dotted)",
        series,
        (_P99, _P50),
        unit="ms",
        y_title="ms",
        log_y=True,
    )


_STREAM_SERIES: Final = (
    _latency_series("ttfe", "Time to first event"),
    _latency_series("ttft", "Chat replies, time to first token"),
    _latency_series("itl", "Chat replies, inter-token latency"),
    _StreamSeries(
        REPLY_RATE_SERIES,
        "tokens-per-s",
        "Chat replies, each stream's tokens per second: p50 (solid), p10 (dotted)",
        "tokens/s",
        (_P50, _P10),
        unit="/s",
        y_title="tokens/s",
        log_y=False,
    ),
)


def _stream_series_plot(
    ctx: Context, ops: list[str], x: list[float], spec: _StreamSeries
) -> str | None:
    """``spec``'s plot for every stream operation that logged the series; None when none did
    (runs from before it was logged, no chat replies)."""
    assert ctx.hlog is not None
    traces: list[dict[str, Any]] = []
    for op in ops:
        buckets = ctx.hlog.buckets.get(f"{op}.{spec.series}")
        if buckets is None or not any(buckets.count):
            continue
        for percentile, dash in zip(spec.percentiles, (None, "dot"), strict=True):
            traces.append(
                trace(
                    f"{op} {spec.label} p{percentile:g}",
                    x,
                    buckets.percentiles_ms[percentile],
                    color=ctx.colors[op],
                    dash=dash,
                    group=op,
                    unit=spec.unit,
                )
            )
    if not traces:
        return None
    figure = time_figure(
        ctx.figure_id(spec.figure_id),
        spec.title,
        traces,
        ctx.axis,
        y_title=spec.y_title,
        log_y=spec.log_y,
    )
    return ctx.plot(figure).html


def _streams(ctx: Context) -> Raw | None:
    ops = ctx.stream_operations()
    if not ops:
        return None
    parts: list[str] = []
    rows: list[list[Cell]] = []
    for op in ops:
        figures = ctx.summary.operations.get(op) if ctx.summary else None
        stream = figures.stream if figures is not None else None
        if isinstance(stream, Stream):
            rows.append(
                [
                    Raw(f"<code>{esc(op)}</code>"),
                    fmt_count(stream.streams),
                    fmt_count(stream.events.total),
                    fmt_number(number(stream.events.mean)),
                    fmt_number(number(stream.events_per_s)),
                    fmt_ms(stream.ttfe_ms.p50),
                    fmt_ms(stream.ttfe_ms.p99),
                    fmt_ms(stream.queue_wait_ms.p50),
                    fmt_ms(stream.queue_wait_ms.p99),
                    fmt_ms(stream.event_gap_ms.p99),
                ]
            )
    if rows:
        headers = [
            "stream",
            "streams",
            "events",
            "events / stream",
            "events / s",
            "ttfe p50 (ms)",
            "ttfe p99",
            "queue wait p50",
            "queue wait p99",
            "event gap p99",
        ]
        parts.append(table(headers, rows).html)
    replies = _chat_replies(ctx, ops)
    if replies is not None:
        parts.append(replies)
    if ctx.hlog is not None:
        x = _bucket_x(ctx)
        for spec in _STREAM_SERIES:
            plot = _stream_series_plot(ctx, ops, x, spec)
            if plot is not None:
                parts.append(plot)
        for op in ops:
            queue = ctx.hlog.buckets.get(f"{op}.queue_wait")
            latency = ctx.hlog.buckets.get(op)
            if queue is None or latency is None or not any(queue.count):
                continue
            traces = [
                trace("latency p50", x, latency.percentiles_ms[_P50], color="#1f77b4", unit="ms"),
                trace(
                    "queue wait p50",
                    x,
                    queue.percentiles_ms[_P50],
                    color="#ff7f0e",
                    unit="ms",
                ),
                trace(
                    "latency p99",
                    x,
                    latency.percentiles_ms[_P99],
                    color="#1f77b4",
                    dash="dot",
                    unit="ms",
                ),
                trace(
                    "queue wait p99",
                    x,
                    queue.percentiles_ms[_P99],
                    color="#ff7f0e",
                    dash="dot",
                    unit="ms",
                ),
            ]
            figure = time_figure(
                ctx.figure_id(f"queue-{op}"),
                f"{op}: queue wait (send → metadata) vs whole latency",
                traces,
                ctx.axis,
                y_title="ms",
            )
            parts.append(ctx.plot(figure).html)
        if len(parts) > 1 or rows:
            parts.append(
                '<p class="note">Queue wait is the time from the send to the <code>metadata'
                "</code> event (a worker picked the run up); the rest of the latency is the "
                "run's execution and streaming.</p>"
            )
    return Raw("".join(parts)) if parts else None


# --- server and lgbench ----------------------------------------------------------------------


def _resources(ctx: Context) -> Raw | None:
    series = ctx.series
    x = _bucket_x(ctx)
    parts: list[str] = []
    sampled = series.sampled if series is not None else {}
    server = sampled.get("server", {})
    own = sampled.get("lgbench", {})
    queue_keys = [k for k in sorted(server) if not k.endswith(("_percent", "_bytes"))]
    if queue_keys:
        traces = [trace(k, x, server[k]) for k in queue_keys]
        figure = time_figure(
            ctx.figure_id("server-queue"),
            "Target server: queue and workers (sampled)",
            traces,
            ctx.axis,
            y_title="count",
        )
        parts.append(ctx.plot(figure).html)
    cpu = [
        trace(f"{group} {key}", x, values, unit="%")
        for group, figures in (("server", server), ("lgbench", own))
        for key, values in sorted(figures.items())
        if key.endswith("_percent")
    ]
    if cpu:
        figure = time_figure(
            ctx.figure_id("cpu"), "CPU (% of one core)", cpu, ctx.axis, y_title="%", height=300
        )
        parts.append(ctx.plot(figure).html)
    memory = [
        trace(
            f"{group} {key.removesuffix('_bytes')}",
            x,
            [v / 2**20 if v is not None else None for v in values],
            unit="MiB",
        )
        for group, figures in (("server", server), ("lgbench", own))
        for key, values in sorted(figures.items())
        if key.endswith("_bytes")
    ]
    if memory:
        figure = time_figure(
            ctx.figure_id("memory"), "Memory", memory, ctx.axis, y_title="MiB", height=300
        )
        parts.append(ctx.plot(figure).html)
    lag: list[dict[str, Any]] = []
    if ctx.hlog is not None:
        for tag in ctx.tag_names():
            kind, what = split_tag(tag)
            buckets = ctx.hlog.buckets.get(tag)
            if kind == "lgbench" and buckets is not None and any(buckets.count):
                lag.append(trace(f"{what} p99", x, buckets.percentiles_ms[_P99], unit="ms"))
                lag.append(
                    trace(f"{what} max", x, buckets.max_ms, dash="dot", unit="ms"),
                )
    other = [k for k in sorted(own) if not k.endswith(("_percent", "_bytes"))]
    lag.extend(trace(k, x, own[k]) for k in other)
    if lag:
        figure = time_figure(
            ctx.figure_id("lag"),
            "lgbench itself: event-loop and schedule lag",
            lag,
            ctx.axis,
            y_title="ms",
            height=300,
        )
        parts.append(ctx.plot(figure).html)
    if not parts:
        return None
    parts.append(
        '<p class="note">Lag: how much a 10 ms sleep overslept (loop) and how late scheduled '
        "iterations started (schedule); high values mean lgbench itself was a bottleneck.</p>"
    )
    return Raw("".join(parts))


# --- drift, thresholds, baseline -------------------------------------------------------------


def _drift_cell(figures: LatencyDrift | ErrorRateDrift | None) -> Cell:
    if figures is None:
        return None
    percent = isinstance(figures, ErrorRateDrift)
    if isinstance(figures, ErrorRateDrift):
        first_v, last_v = number(figures.first), number(figures.last)
        slope, points = None, number(figures.slope_per_h)
    else:
        first_v, last_v = number(figures.first_ms), number(figures.last_ms)
        slope, points = number(figures.relative_per_h), None
    fmt = fmt_percent if percent else fmt_ms
    text = f"{fmt(first_v * 100 if percent and first_v is not None else first_v)} → "
    text += f"{fmt(last_v * 100 if percent and last_v is not None else last_v)}"
    if slope is not None:
        text += f" ({slope * 100:+.1f} %/h)"
    if points is not None:
        # An error rate drifts in percentage points: relative to a rate near 0 means nothing.
        text += f" ({points * 100:+.2f} pp/h)"
    return text


def _drift(ctx: Context) -> Raw | None:
    drift = ctx.summary.drift if ctx.summary else None
    if not isinstance(drift, Drift) or not drift.operations:
        return None
    operations = drift.operations
    rows: list[list[Cell]] = []
    for op, figures in sorted(operations.items()):
        rows.append(
            [
                Raw(f"<code>{esc(op)}</code>"),
                fmt_count(figures.windows),
                _drift_cell(figures.p50),
                _drift_cell(figures.p99),
                _drift_cell(figures.error_rate),
            ]
        )
    window = number(drift.window_s)
    headers = ["operation", "windows", "p50 (ms): first → last", "p99 (ms)", "error rate"]
    note = (
        f'<p class="note">Per {fmt_seconds(window)} window; first and last are medians of the '
        "first and last windows; the slope (Theil-Sen) is per hour, relative to the median "
        "(latency) or in percentage points (error rate).</p>"
    )
    traces: list[dict[str, Any]] = []
    for op, figures in sorted(operations.items()):
        points = figures.points
        if not points:
            continue
        x = ctx.axis.x([number(p[0]) or 0.0 for p in points])
        color = ctx.colors.get(op)
        traces.append(trace(f"{op} p99", x, [number(p[2]) for p in points], color=color, unit="ms"))
        traces.append(
            trace(f"{op} p50", x, [number(p[1]) for p in points], color=color, dash="dot")
        )
    plot = ""
    if traces:
        figure = time_figure(
            ctx.figure_id("drift"),
            "Latency per drift window: p99 (solid), p50 (dotted), at each window's end",
            traces,
            ctx.axis,
            y_title="ms",
            log_y=True,
        )
        plot = ctx.plot(figure).html
    return Raw(table(headers, rows, numeric_from=1).html + note + plot)


def _threshold_value(value: Any, unit: Any) -> str:
    figure = number(value)
    if figure is None:
        return "—"
    return f"{fmt_short(figure)}{(' ' + str(unit)) if unit else ''}"


def _thresholds(ctx: Context) -> Raw | None:
    thresholds = ctx.summary.thresholds if ctx.summary else None
    if not isinstance(thresholds, Thresholds):
        return None
    rows: list[list[Cell]] = []
    attrs: list[dict[str, str]] = []
    extra: list[str] = []
    for result in thresholds.results:
        status = result.status or ("passed" if result.passed else "failed")
        state = {"passed": "pass", "failed": "fail"}.get(status, "unknown")
        flags = []
        if result.abort_on_fail:
            flags.append("abort on fail")
        if result.aborted_run:
            flags.append("aborted the run")
        windows = result.windows
        window_text: Cell = None
        if windows is not None:
            worst = windows.worst
            window_text = (
                f"{fmt_count(windows.failed)} of {fmt_count(windows.evaluated)} "
                f"failed, {fmt_count(windows.skipped)} skipped"
            )
            if worst is not None:
                window_text += (
                    f"; worst {_threshold_value(worst.value, result.unit)} at "
                    f"{fmt_short(number(worst.start_s))}-"
                    f"{fmt_short(number(worst.end_s))} s"
                )
            if windows.failures:
                items = "".join(
                    f"<li>{esc(_failure_text(f, result))}</li>" for f in windows.failures
                )
                extra.append(
                    details(
                        Raw(f"<code>{esc(result.name)}</code>: failed windows"),
                        Raw(f'<ul class="plain">{items}</ul>'),
                    ).html
                )
        rows.append(
            [
                badge(state, status),
                Raw(f"<code>{esc(result.name)}</code>"),
                result.condition,
                _threshold_value(result.value, result.unit),
                f"{result.operator} {_threshold_value(result.limit, result.unit)}",
                f"{fmt_seconds(result.window_s)}" if result.window_s else "run",
                window_text,
                ", ".join(flags) or None,
                result.reason or None,
                result.source or None,
            ]
        )
        attrs.append({"data-threshold": result.name, "data-status": status})
    headers = [
        "status",
        "threshold",
        "condition",
        "value",
        "limit",
        "window",
        "windows",
        "flags",
        "reason",
        "source",
    ]
    return Raw(table(headers, rows, row_attrs=attrs, numeric_from=99).html + "".join(extra))


def _failure_text(failure: ThresholdWindow, result: ThresholdResult) -> str:
    if not isinstance(failure.start_s, UnsetType):
        return (
            f"{fmt_short(number(failure.start_s))}-"
            f"{fmt_short(number(failure.end_s))} s: "
            f"{_threshold_value(failure.value, result.unit)}"
        )
    return json.dumps(msgspec.to_builtins(failure), sort_keys=True)


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, float):
        out.append((prefix, fmt_number(value)))
    else:
        out.append((prefix, json.dumps(value) if not isinstance(value, str) else value))


def _baseline(ctx: Context) -> Raw | None:
    baseline = ctx.summary.baseline if ctx.summary else None
    if not isinstance(baseline, dict):
        return None
    passed = baseline.get("passed")
    state = "pass" if passed is True else "fail" if passed is False else "unknown"
    limit = baseline.get("max_regression")
    limit_text = fmt_percent(limit * 100) if isinstance(limit, float) and limit < 5 else str(limit)
    verdict = baseline.get("verdict")
    shown = "regressed" if passed is False else verdict if isinstance(verdict, str) else None
    method = baseline.get("method")
    parts = [
        f"<p>{badge(state, shown or 'within limits').html} against "
        f"<code>{esc(baseline.get('base'))}</code>, max regression {esc(limit_text)}"
        + (f"; {esc(method)}" if isinstance(method, str) else "")
        + ".</p>"
    ]
    regressions = baseline.get("regressions") or []
    if regressions:
        items = "".join(f"<li>{esc(r)}</li>" for r in regressions)
        parts.append(f'<h3>Regressions</h3><ul class="plain" data-regressions="1">{items}</ul>')
    operations = baseline.get("operations")
    if isinstance(operations, dict) and operations:
        for op, figures in sorted(operations.items()):
            flat: list[tuple[str, str]] = []
            _flatten("", figures, flat)
            parts.append(
                details(
                    Raw(f"<code>{esc(op)}</code>"),
                    table(["figure", "value"], flat, numeric_from=99),
                ).html
            )
    return Raw("".join(parts))


# --- checker ---------------------------------------------------------------------------------


def _anomaly_html(anomaly: Any, *, finding: bool) -> str:
    if not isinstance(anomaly, dict):
        return ""
    lines = [f"<div>{esc(anomaly.get('explanation') or anomaly.get('type'))}</div>"]
    facts: list[str] = []
    if anomaly.get("thread_id"):
        facts.append(f"thread <code>{esc(anomaly['thread_id'])}</code>")
    run_ids = anomaly.get("run_ids") or []
    if run_ids:
        facts.append("runs " + ", ".join(f"<code>{esc(r)}</code>" for r in run_ids))
    if anomaly.get("flagged_by"):
        facts.append("flagged by " + esc(", ".join(map(str, anomaly["flagged_by"]))))
    if anomaly.get("behaviour"):
        facts.append(f"behaviour {esc(anomaly['behaviour'])}")
    if facts:
        lines.append(f'<div class="muted">{"; ".join(facts)}</div>')
    events = anomaly.get("events") or []
    if events:
        items = "".join(
            "<li>"
            + (f"file {esc(e.get('file'))} " if isinstance(e, dict) and "file" in e else "")
            + f"#{esc(get(e, 'index'))} at {fmt_number(number(get(e, 'time_s')))} s: "
            + f"{esc(get(e, 'what'))}</li>"
            for e in events
        )
        lines.append(f'<ul class="witnesses">{items}</ul>')
    css = "anomaly finding" if finding else "anomaly"
    return f'<div class="{css}">{"".join(lines)}</div>'


def _anomaly_groups(groups: Any, *, finding: bool) -> str:
    if not isinstance(groups, dict):
        return ""
    parts: list[str] = []
    for kind, group in groups.items():
        if not isinstance(group, dict):
            continue
        examples = group.get("examples") or []
        shown = "".join(_anomaly_html(a, finding=finding) for a in examples)
        count = group.get("count")
        more = (
            f'<p class="note">{len(examples)} of {fmt_count(count)} shown; check.json keeps '
            "them all by type and thread.</p>"
            if isinstance(count, int) and count > len(examples)
            else ""
        )
        parts.append(
            f'<h3 data-anomaly="{esc(kind)}"><code>{esc(kind)}</code> x {fmt_count(count)}'
            f' <span class="muted">{esc(group.get("description") or "")}</span></h3>'
            f"{shown}{more}"
        )
    return "".join(parts)


def _checker(ctx: Context) -> Raw | None:
    check = ctx.inputs.check
    if check is None:
        short = ctx.summary.check if ctx.summary else None
        if short is None:
            return None
        state, text = _valid_state(short.valid)
        return Raw(f"<p>{badge(state, text).html} (check.json is missing).</p>")
    state, text = _valid_state(check.get("valid"))
    counts = check.get("counts") or {}
    parts = [
        f"<p>{badge(state, text).html} profile <code>{esc(check.get('profile'))}</code>: "
        f"{fmt_count(get(counts, 'threads_checked'))} of {fmt_count(get(counts, 'threads'))} "
        f"threads and {fmt_count(get(counts, 'runs_checked'))} of "
        f"{fmt_count(get(counts, 'runs'))} runs checked over "
        f"{fmt_count(get(counts, 'operations'))} operations; "
        f"{fmt_count(get(counts, 'anomalies'))} anomalies, "
        f"{fmt_count(get(counts, 'findings'))} findings.</p>"
    ]
    unknown = check.get("unknown") or []
    if unknown:
        items = "".join(f"<li>{esc(u)}</li>" for u in unknown)
        parts.append(f'<p>Unknown because:</p><ul class="plain">{items}</ul>')
    strategies = check.get("strategies")
    if isinstance(strategies, dict) and strategies:
        rows: list[list[Cell]] = []
        attrs: list[dict[str, str]] = []
        for name, s in strategies.items():
            s_state, s_text = _valid_state(get(s, "valid"))
            anomalies = get(s, "anomalies") or {}
            rows.append(
                [
                    Raw(f"<code>{esc(name)}</code>"),
                    badge(s_state, s_text),
                    fmt_count(get(s, "threads")),
                    fmt_count(get(s, "runs")),
                    ", ".join(f"{k} x {v}" for k, v in anomalies.items()) or None,
                ]
            )
            attrs.append({"data-strategy": str(name), "data-state": s_state})
        parts.append("<h3>Per multitask strategy</h3>")
        parts.append(
            table(
                ["strategy", "verdict", "threads", "runs", "anomalies"],
                rows,
                row_attrs=attrs,
                numeric_from=2,
            ).html
        )
    checkers = check.get("checkers")
    if isinstance(checkers, dict) and checkers:
        rows = []
        for name, c in checkers.items():
            c_state, c_text = _valid_state(get(c, "valid"))
            rows.append(
                [
                    Raw(f"<code>{esc(name)}</code>"),
                    badge(c_state, c_text),
                    fmt_count(get(c, "threads")),
                    fmt_count(get(c, "anomalies")),
                    fmt_count(get(c, "unknown_count")),
                    ", ".join(map(str, get(c, "anomaly_types") or [])),
                    str(get(c, "error")) if get(c, "error") else None,
                ]
            )
        parts.append(
            details(
                "Per checker",
                table(
                    ["checker", "verdict", "threads", "anomalies", "unknown", "looks for", "error"],
                    rows,
                    numeric_from=2,
                ),
            ).html
        )
    anomalies = _anomaly_groups(check.get("anomalies"), finding=False)
    if anomalies:
        parts.append(f"<h3>Anomalies, with witnesses</h3>{anomalies}")
    findings = _anomaly_groups(check.get("findings"), finding=True)
    if findings:
        parts.append(
            "<h3>Findings: flagged by the documented profile, accepted as observed "
            f"behaviour</h3>{findings}"
        )
    threads = check.get("threads")
    if isinstance(threads, dict):
        bad = [(t, r) for t, r in threads.items() if get(r, "valid") is not True]
        bad = [(t, r) for t, r in bad if get(r, "checked") or get(r, "unknown")]
        if bad:
            rows = []
            for thread_id, r in bad[:_MAX_THREAD_ROWS]:
                t_state, t_text = _valid_state(get(r, "valid"))
                rows.append(
                    [
                        Raw(f"<code>{esc(thread_id)}</code>"),
                        str(get(r, "strategy") or ""),
                        badge(t_state, t_text),
                        fmt_count(get(r, "runs")),
                        ", ".join(f"{k} x {v}" for k, v in (get(r, "anomalies") or {}).items())
                        or None,
                        "; ".join(map(str, get(r, "unknown") or [])) or None,
                    ]
                )
            more = (
                f" (first {_MAX_THREAD_ROWS} of {len(bad)})" if len(bad) > _MAX_THREAD_ROWS else ""
            )
            parts.append(
                details(
                    f"Threads judged invalid or unknown{more}",
                    table(
                        ["thread", "strategy", "verdict", "runs", "anomalies", "unknown"],
                        rows,
                        numeric_from=99,
                    ),
                ).html
            )
    history = check.get("history")
    if isinstance(history, dict):
        facts = [
            f"{k.replace('_', ' ')}: {fmt_count(history.get(k))}"
            for k in (
                "lines",
                "events",
                "operations",
                "malformed_lines",
                "truncated_files",
                "unpaired_invokes",
                "lost_worker_invokes",
                "lost_lines",
            )
            if k in history
        ]
        parts.append(f'<p class="note">History read: {esc(", ".join(facts))}.</p>')
    return Raw("".join(parts))


def _notes(ctx: Context) -> Raw | None:
    notes = list(ctx.inputs.notes)
    if ctx.hlog is not None and ctx.hlog.damaged_lines:
        notes.append(f"intervals.hlog: {ctx.hlog.damaged_lines} damaged line(s) skipped")
    if ctx.hlog is None:
        notes.append("no intervals.hlog: no latency distributions or latency over time")
    if ctx.series is None:
        notes.append(
            "no timeseries.jsonl: throughput from timed operations only; no errors, VUs or "
            "resources over time"
        )
    if not notes:
        return None
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return Raw(f'<ul class="plain">{items}</ul>')


SECTIONS: Final = (
    Section("operations", "Operations", _operations),
    Section("distribution", "Latency distribution", _distributions),
    Section("turns", "Turns", _turns),
    Section("users", "Users", _users),
    Section("over-time", "Over time", _over_time),
    Section("streams", "Streams", _streams),
    Section("resources", "Server and lgbench", _resources),
    Section("drift", "Drift", _drift),
    Section("thresholds", "Thresholds", _thresholds),
    Section("baseline", "Baseline", _baseline),
    Section("checker", "Checker", _checker),
    Section("notes", "Notes on the inputs", _notes),
)
"""The sections in page order."""
