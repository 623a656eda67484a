"""``build_report``: a run folder in, one self-contained report.html out."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final, final

import plotly.offline

from lgbench import __version__
from lgbench._atomic import write_atomically
from lgbench.errors import UsageError
from lgbench.report._context import build_context, get
from lgbench.report._html import Raw, esc, page
from lgbench.report._inputs import read_inputs
from lgbench.report._sections import SECTIONS, header

__all__ = ["REPORT_FILE", "WrittenReport", "build_report", "render_report", "write_report"]

REPORT_FILE: Final = "report.html"


def render_report(run_dir: Path) -> str:
    """The report's HTML for the run folder ``run_dir`` (see :func:`build_report`)."""
    return _render(run_dir)[0]


def _render(run_dir: Path) -> tuple[str, list[str]]:
    """The HTML, and the notes on what of the inputs was skipped (also in the page)."""
    inputs = read_inputs(run_dir)
    ctx = build_context(inputs)
    top = header(ctx)
    rendered: list[tuple[str, str, Raw]] = []
    for section in SECTIONS:
        content = section.render(ctx)
        if content is not None:
            rendered.append((section.anchor, section.title, content))
    nav = "".join(f'<a href="#{esc(anchor)}">{esc(title)}</a>' for anchor, title, _ in rendered)
    sections = "".join(
        f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{content.html}</section>'
        for anchor, title, content in rendered
    )
    built = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    footer = (
        f"<footer>Built by lgbench {esc(__version__)} on {esc(built)} from "
        f"<code>{esc(run_dir)}</code>. Self-contained: works offline; plots by plotly.js "
        "(MIT).</footer>"
    )
    name = (
        (ctx.summary.workload.name if ctx.summary else None)
        or get(inputs.history_header, "workload")
        or run_dir.name
    )
    body = f'{top.html}<nav class="sections">{nav}</nav><main>{sections}</main>{footer}'
    document = page(
        title=f"lgbench report: {name}",
        body=body,
        figures=ctx.figures,
        plotly_js=plotly.offline.get_plotlyjs(),
    )
    return document, list(inputs.notes)


def build_report(run_dir: Path, *, out: Path | None = None) -> Path:
    """Write ``report.html`` for the run folder ``run_dir`` and return its path.

    ``out`` defaults to ``run_dir / "report.html"``. The file is written whole (a temporary
    file in the same folder, then renamed). A folder without summary.json (a killed run)
    gives a report marked partial, built from intervals.hlog, timeseries.jsonl and the
    history header. Raises :class:`~lgbench.errors.UsageError` naming the folder when it
    holds none of the run files, or when the report cannot be written.
    """
    return write_report(run_dir, out=out).path


@final
@dataclass(frozen=True, slots=True)
class WrittenReport:
    """Where :func:`write_report` wrote the report, and what of the run's files it skipped
    (a missing or unreadable input: the page says so too)."""

    path: Path
    notes: tuple[str, ...]


def write_report(run_dir: Path, *, out: Path | None = None) -> WrittenReport:
    """:func:`build_report`, also telling what was skipped (``lgbench report`` prints it)."""
    run_dir = Path(run_dir)
    target = Path(out) if out is not None else run_dir / REPORT_FILE
    document, notes = _render(run_dir)
    try:
        write_atomically(target, document)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write the report: {exc}") from None
    return WrittenReport(target, tuple(notes))
