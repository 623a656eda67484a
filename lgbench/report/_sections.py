"""The report's sections, each a function of the :class:`Context` returning HTML (or None
when it has nothing to show, so the page and its navigation leave it out)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, final

from lgbench.history import describe_error, never_succeeded_message
from lgbench.observe import server_label
from lgbench.report._context import Context, get, number, split_tag
from lgbench.report._figures import distribution_figure, time_figure, trace, turn_figure
from lgbench.report._histograms import BUCKET_PERCENTILES
from lgbench.report._html import (
    Cell,
    Raw,
    badge,
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
_P50, _P90, _P99 = BUCKET_PERCENTILES


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
    thresholds = get(summary, "thresholds")
    thresholds_failed = False
    if isinstance(thresholds, dict):
        results = [r for r in thresholds.get("results") or [] if isinstance(r, dict)]
        failed = [str(r.get("name")) for r in results if r.get("status") == "failed"]
        no_data = sum(1 for r in results if r.get("status") == "no_data")
        too_short = sum(1 for r in results if r.get("status") == "too_short")
        thresholds_failed = thresholds.get("passed") is False
        text = "failed" if thresholds_failed else "passed"
        passed = sum(1 for r in results if r.get("status") == "passed")
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
    valid = get(check, "valid") if check is not None else get(summary, "check", "valid")
    anomalies_found = valid is False
    if check is None and get(summary, "check") is None:
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
    baseline = get(summary, "baseline")
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
    never_succeeded = [
        str(entry.get("operation"))
        for entry in get(summary, "never_succeeded") or []
        if isinstance(entry, dict) and not entry.get("expected")
    ]
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
        else Verdict("run", "pass", "completed", fmt_seconds(get(summary, "duration_s")))
    )
    return [overall, run, *found]


def _stop_reason(ctx: Context) -> str:
    if ctx.summary is None:
        return "no summary.json: the run did not finish (killed?)"
    return str(ctx.summary.get("stop_reason") or "stopped early")


def header(ctx: Context) -> Raw:
    summary = ctx.summary
    hist = ctx.inputs.history_header
    name = get(summary, "workload", "name") or get(hist, "workload") or ctx.inputs.run_dir.name
    started = get(summary, "started_at") or get(hist, "started_at") or ""
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
    workload = get(summary, "workload")
    if isinstance(workload, dict):
        text = str(workload.get("name"))
        if workload.get("path"):
            text += f" ({workload['path']})"
        rows.append(("workload", text))
        if workload.get("seed") is not None:
            rows.append(("seed", str(workload["seed"])))
        overrides = workload.get("overrides")
        if overrides:
            rows.append(("overrides", json.dumps(overrides, sort_keys=True)))
    elif hist is not None:
        rows.append(("workload", str(hist.get("workload"))))
        if hist.get("seed") is not None:
            rows.append(("seed", str(hist["seed"])))
    target = get(summary, "target", "url") or get(hist, "target")
    if target is not None:
        rows.append(("target", str(target)))
    server = get(summary, "server") or get(hist, "server")
    if isinstance(server, dict):
        # What the server said it is (its /info), never an assumed name.
        text = str(server.get("label") or server_label(server))
        langgraph = server.get("langgraph_py_version")
        if langgraph:
            text += f", langgraph {langgraph}"
        rows.append(("server", text))
    backend = get(summary, "backend") or get(hist, "backend")
    if backend is not None:
        transport = get(summary, "transport")
        rows.append(("backend", f"{backend}" + (f", {transport} transport" if transport else "")))
    lgbench_version = get(summary, "lgbench_version") or get(hist, "lgbench_version")
    if lgbench_version:
        rows.append(("lgbench", str(lgbench_version)))
    started = get(summary, "started_at") or get(hist, "started_at")
    if started:
        rows.append(("started", str(started)))
    if get(summary, "ended_at"):
        rows.append(("ended", str(summary["ended_at"] if summary else "")))
    duration = number(get(summary, "duration_s"))
    planned = number(get(summary, "planned_duration_s"))
    if duration is not None:
        text = fmt_seconds(duration)
        if planned is not None:
            text += f" (planned {fmt_seconds(planned)})"
        rows.append(("duration", text))
    else:
        rows.append(("duration", f"{fmt_seconds(ctx.span_s)} logged"))
    rows.append(("stop", _stop_reason(ctx) if ctx.partial else "completed"))
    dropped = get(summary, "dropped_iterations")
    if dropped:
        rows.append(("dropped iterations", fmt_count(dropped)))
    if ctx.grid.width_s > 1.0001:
        rows.append(("time buckets", f"{fmt_number(ctx.grid.width_s)} s (long run: merged)"))
    body = "".join(
        f'<div class="setting"><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>' for k, v in rows
    )
    warnings = get(summary, "warnings")
    extra = ""
    if isinstance(warnings, list) and warnings:
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
    figures = get(ctx.summary, "operations", op)
    attrs = {"data-operation": op}
    duration = number(get(ctx.summary, "duration_s")) or ctx.span_s
    if isinstance(figures, dict):
        count = number(figures.get("count"))
        errors = number(figures.get("errors"))
        rate = number(figures.get("rate_per_s"))
        latency = figures.get("latency_ms") or {}
        stream = figures.get("stream") or {}
        kinds = figures.get("errors_by_kind")
        lat = {k: number(get(latency, k)) for k in ("p50", "p90", "p99", "p99_9", "max")}
        ttfe = (number(get(stream, "ttfe_ms", "p50")), number(get(stream, "ttfe_ms", "p99")))
        queue = (
            number(get(stream, "queue_wait_ms", "p50")),
            number(get(stream, "queue_wait_ms", "p99")),
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
    error_cell: Cell = fmt_count(errors)
    if errors:
        share = 100.0 * errors / count if count else None
        title = _kinds_text(kinds)
        text = f"{fmt_count(errors)} ({fmt_percent(share)})"
        error_cell = Raw(f'<span class="err" title="{esc(title)}">{esc(text)}</span>')
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
        "cancelled": series.total(op, "cancelled"),
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
    unsupported = get(ctx.summary, "unsupported")
    for route in unsupported if isinstance(unsupported, list) else []:
        if not isinstance(route, dict):
            continue
        items.append(
            f'<li class="unsupported"><b>unsupported</b>: the server does not implement '
            f"<code>{esc(route.get('operation'))}</code> ({esc(route.get('method'))} "
            f"<code>{esc(route.get('path'))}</code> answered {esc(route.get('status'))}):"
            f" {fmt_count(number(route.get('answered')))} answered,"
            f" {fmt_count(number(route.get('skipped')))} not sent</li>"
        )
    scenarios = get(ctx.summary, "scenarios")
    for name, scenario in scenarios.items() if isinstance(scenarios, dict) else ():
        operations = get(scenario, "operations")
        skipped = [
            f"<code>{esc(op)}</code> {fmt_count(number(get(figures, 'skipped', 'after_failure')))}"
            for op, figures in (operations.items() if isinstance(operations, dict) else ())
            if number(get(figures, "skipped", "after_failure"))
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
    observation = get(ctx.summary, "observation")
    requests = number(get(observation, "requests"))
    if requests:
        by_operation = get(observation, "by_operation")
        shown = ", ".join(
            f"<code>{esc(op)}</code> {fmt_count(n)}"
            for op, n in (by_operation.items() if isinstance(by_operation, dict) else ())
        )
        share = number(get(observation, "share"))
        items.append(
            f"<li>observation (lgbench's own status reads during the load): "
            f"{fmt_count(requests)} of {fmt_count(get(observation, 'all_requests'))} requests "
            f"({fmt_percent(100 * share if share is not None else None)}): {shown}</li>"
        )
    audit = get(ctx.summary, "audit")
    if isinstance(audit, dict):
        if audit.get("ran"):
            figures = ", ".join(
                f"{esc(key.replace('_', ' '))} {fmt_count(audit.get(key))}"
                for key in ("threads", "settled", "unsettled", "gone", "not_read", "requests")
                if audit.get(key) is not None
            )
            items.append(
                f"<li>post-run audit: {figures}; {esc(audit.get('stop_reason') or '')}</li>"
            )
        elif audit.get("reason"):
            items.append(f"<li>post-run audit not run: {esc(audit['reason'])}</li>")
    empty = [
        f"<code>{esc(op)}</code> {fmt_count(get(ctx.summary, 'operations', op, 'empty'))}"
        for op in ctx.operations
        if number(get(ctx.summary, "operations", op, "empty"))
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


def _top_errors(ctx: Context) -> Raw | None:
    """The operations that never succeeded, then each operation's most frequent errors, in
    the server's words (summary.json's ``never_succeeded`` and ``top_errors``)."""
    operations = get(ctx.summary, "operations")
    if not isinstance(operations, dict):
        return None
    parts: list[str] = []
    for entry in get(ctx.summary, "never_succeeded") or []:
        if isinstance(entry, dict):
            css = "note" if entry.get("expected") else "err"
            text = never_succeeded_message(entry)
            parts.append(f'<p class="{css}"><strong>{esc(text)}</strong></p>')
    rows: list[list[Cell]] = []
    for op, figures in operations.items():
        for error in get(figures, "top_errors") or []:
            if isinstance(error, dict):
                rows.append(
                    [
                        Raw(f"<code>{esc(op)}</code>"),
                        describe_error(error),
                        fmt_count(error.get("count")),
                    ]
                )
    if rows:
        parts.append("<h3>Most frequent errors</h3>")
        parts.append(table(["operation", "error", "count"], rows, numeric_from=2).html)
    return Raw("".join(parts)) if parts else None


def _scenarios_table(ctx: Context) -> Raw | None:
    scenarios = get(ctx.summary, "scenarios")
    if not isinstance(scenarios, dict) or not scenarios:
        return None
    rows: list[list[Cell]] = []
    for name, s in scenarios.items():
        iterations = get(s, "iterations") or {}
        rows.append(
            [
                Raw(f"<code>{esc(name)}</code>"),
                str(get(s, "description") or get(s, "executor") or ""),
                fmt_count(get(s, "max_vus")),
                fmt_seconds(get(s, "ran_s")) if get(s, "started") else "not started",
                fmt_count(get(iterations, "started")),
                fmt_count(get(iterations, "finished")),
                fmt_count(get(iterations, "failed")),
                fmt_count(get(iterations, "interrupted")),
                fmt_count(get(s, "dropped_iterations")),
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
        if kind == "operation" or tag not in ctx.hlog.totals:
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
    tags = get(ctx.summary, "tags")
    if not isinstance(tags, dict):
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
        p50 = [number(get(tags, f"turn={t}", op, "latency_ms", "p50")) for t in turns]
        p99 = [number(get(tags, f"turn={t}", op, "latency_ms", "p99")) for t in turns]
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
    tags = get(ctx.summary, "tags")
    if not isinstance(tags, dict):
        return None
    users = sorted((tag for tag in tags if tag.startswith("user=")), key=_user_number)
    if not users:
        return None
    rows: list[list[Cell]] = []
    for tag in users:
        operations = tags[tag] if isinstance(tags[tag], dict) else {}
        count = sum(number(get(o, "count")) or 0 for o in operations.values())
        errors = sum(number(get(o, "errors")) or 0 for o in operations.values())
        worst: dict[str, tuple[float, str] | None] = {"p50": None, "p99": None}
        for op, figures in operations.items():
            for stat in worst:
                value = number(get(figures, "latency_ms", stat))
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


def _streams(ctx: Context) -> Raw | None:
    ops = ctx.stream_operations()
    if not ops:
        return None
    parts: list[str] = []
    rows: list[list[Cell]] = []
    for op in ops:
        stream = get(ctx.summary, "operations", op, "stream")
        if isinstance(stream, dict):
            rows.append(
                [
                    Raw(f"<code>{esc(op)}</code>"),
                    fmt_count(stream.get("streams")),
                    fmt_count(get(stream, "events", "total")),
                    fmt_number(number(get(stream, "events", "mean"))),
                    fmt_number(number(stream.get("events_per_s"))),
                    fmt_ms(get(stream, "ttfe_ms", "p50")),
                    fmt_ms(get(stream, "ttfe_ms", "p99")),
                    fmt_ms(get(stream, "queue_wait_ms", "p50")),
                    fmt_ms(get(stream, "queue_wait_ms", "p99")),
                    fmt_ms(get(stream, "event_gap_ms", "p99")),
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
    if ctx.hlog is not None:
        x = _bucket_x(ctx)
        ttfe: list[dict[str, Any]] = []
        for op in ops:
            buckets = ctx.hlog.buckets.get(f"{op}.ttfe")
            if buckets is None or not any(buckets.count):
                continue
            for percentile, dash in ((_P99, None), (_P50, "dot")):
                ttfe.append(
                    trace(
                        f"{op} ttfe p{percentile:g}",
                        x,
                        buckets.percentiles_ms[percentile],
                        color=ctx.colors[op],
                        dash=dash,
                        group=op,
                        unit="ms",
                    )
                )
        if ttfe:
            figure = time_figure(
                ctx.figure_id("ttfe"),
                "Time to first event: p99 (solid), p50 (dotted)",
                ttfe,
                ctx.axis,
                y_title="ms",
                log_y=True,
            )
            parts.append(ctx.plot(figure).html)
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


def _drift_cell(figures: Any, *, percent: bool = False) -> Cell:
    if not isinstance(figures, dict):
        return None
    first = next((figures[k] for k in figures if str(k).startswith("first")), None)
    last = next((figures[k] for k in figures if str(k).startswith("last")), None)
    slope = number(figures.get("relative_per_h"))
    fmt = fmt_percent if percent else fmt_ms
    first_v = number(first)
    last_v = number(last)
    text = f"{fmt(first_v * 100 if percent and first_v is not None else first_v)} → "
    text += f"{fmt(last_v * 100 if percent and last_v is not None else last_v)}"
    if slope is not None:
        text += f" ({slope * 100:+.1f} %/h)"
    points = number(figures.get("slope_per_h")) if percent else None
    if points is not None:
        # An error rate drifts in percentage points: relative to a rate near 0 means nothing.
        text += f" ({points * 100:+.2f} pp/h)"
    return text


def _drift(ctx: Context) -> Raw | None:
    drift = get(ctx.summary, "drift")
    operations = get(drift, "operations")
    if not isinstance(operations, dict) or not operations:
        return None
    rows: list[list[Cell]] = []
    for op, figures in sorted(operations.items()):
        rows.append(
            [
                Raw(f"<code>{esc(op)}</code>"),
                fmt_count(get(figures, "windows")),
                _drift_cell(get(figures, "p50")),
                _drift_cell(get(figures, "p99")),
                _drift_cell(get(figures, "error_rate"), percent=True),
            ]
        )
    window = number(get(drift, "window_s"))
    headers = ["operation", "windows", "p50 (ms): first → last", "p99 (ms)", "error rate"]
    note = (
        f'<p class="note">Per {fmt_seconds(window)} window; first and last are medians of the '
        "first and last windows; the slope (Theil-Sen) is per hour, relative to the median "
        "(latency) or in percentage points (error rate).</p>"
    )
    traces: list[dict[str, Any]] = []
    for op, figures in sorted(operations.items()):
        points = [p for p in get(figures, "points") or [] if isinstance(p, list) and len(p) == 5]
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
    thresholds = get(ctx.summary, "thresholds")
    if not isinstance(thresholds, dict):
        return None
    results = [r for r in thresholds.get("results") or [] if isinstance(r, dict)]
    rows: list[list[Cell]] = []
    attrs: list[dict[str, str]] = []
    extra: list[str] = []
    for result in results:
        status = str(result.get("status") or ("passed" if result.get("passed") else "failed"))
        state = {"passed": "pass", "failed": "fail"}.get(status, "unknown")
        flags = []
        if result.get("abort_on_fail"):
            flags.append("abort on fail")
        if result.get("aborted_run"):
            flags.append("aborted the run")
        windows = result.get("windows")
        window_text: Cell = None
        if isinstance(windows, dict):
            worst = windows.get("worst")
            window_text = (
                f"{fmt_count(windows.get('failed'))} of {fmt_count(windows.get('evaluated'))} "
                f"failed, {fmt_count(windows.get('skipped'))} skipped"
            )
            if isinstance(worst, dict):
                window_text += (
                    f"; worst {_threshold_value(worst.get('value'), result.get('unit'))} at "
                    f"{fmt_short(number(worst.get('start_s')))}-"
                    f"{fmt_short(number(worst.get('end_s')))} s"
                )
            failures = windows.get("failures")
            if isinstance(failures, list) and failures:
                items = "".join(f"<li>{esc(_failure_text(f, result))}</li>" for f in failures)
                extra.append(
                    details(
                        Raw(f"<code>{esc(result.get('name'))}</code>: failed windows"),
                        Raw(f'<ul class="plain">{items}</ul>'),
                    ).html
                )
        rows.append(
            [
                badge(state, status),
                Raw(f"<code>{esc(result.get('name'))}</code>"),
                str(result.get("condition") or ""),
                _threshold_value(result.get("value"), result.get("unit")),
                f"{result.get('operator') or ''} "
                f"{_threshold_value(result.get('limit'), result.get('unit'))}",
                f"{fmt_seconds(result.get('window_s'))}" if result.get("window_s") else "run",
                window_text,
                ", ".join(flags) or None,
                str(result.get("reason") or "") or None,
                str(result.get("source") or "") or None,
            ]
        )
        attrs.append({"data-threshold": str(result.get("name")), "data-status": status})
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


def _failure_text(failure: Any, result: dict[str, Any]) -> str:
    if isinstance(failure, dict) and "start_s" in failure:
        return (
            f"{fmt_short(number(failure.get('start_s')))}-"
            f"{fmt_short(number(failure.get('end_s')))} s: "
            f"{_threshold_value(failure.get('value'), result.get('unit'))}"
        )
    return json.dumps(failure, sort_keys=True)


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, float):
        out.append((prefix, fmt_number(value)))
    else:
        out.append((prefix, json.dumps(value) if not isinstance(value, str) else value))


def _baseline(ctx: Context) -> Raw | None:
    baseline = get(ctx.summary, "baseline")
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
        valid = get(ctx.summary, "check", "valid")
        if get(ctx.summary, "check") is None:
            return None
        state, text = _valid_state(valid)
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
