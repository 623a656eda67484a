"""Small HTML helpers: escaping by default, number formats, tables, badges, the page shell."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final, final

__all__ = [
    "Cell",
    "Raw",
    "badge",
    "cell_value",
    "details",
    "esc",
    "fmt_count",
    "fmt_ms",
    "fmt_number",
    "fmt_percent",
    "fmt_seconds",
    "fmt_short",
    "page",
    "table",
]

_ASSETS: Final = resources.files("lgbench.report") / "assets"


@final
@dataclass(frozen=True, slots=True)
class Raw:
    """HTML that is already safe (built by these helpers), inserted as is."""

    html: str


Cell = str | Raw | int | float | None


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def cell_value(value: Cell) -> str:
    if isinstance(value, Raw):
        return value.html
    if value is None:
        return '<span class="none">—</span>'
    if isinstance(value, float):
        return esc(fmt_number(value))
    return esc(value)


def fmt_number(value: float | None, digits: int = 4) -> str:
    """A float with ``digits`` significant digits and thousands separators; — for None."""
    if value is None or isinstance(value, bool):
        return "—"
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def fmt_short(value: float | None) -> str:
    """A float as briefly as it reads well: ``4.8``, ``0.0125``, ``1,235``; — for None."""
    if value is None or isinstance(value, bool):
        return "—"
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def fmt_ms(value: object) -> str:
    """Milliseconds: three decimals below 1 ms, fewer above (µs precision either way)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    if abs(value) >= 10:
        return f"{value:,.2f}"
    return f"{value:,.3f}"


def fmt_count(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    return f"{int(value):,}"


def fmt_percent(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    return f"{value:.2f}%" if value < 10 else f"{value:.1f}%"


def fmt_seconds(value: object) -> str:
    """A duration: ``8.34 s``, ``12 min 5 s``, ``8 h 0 min``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "—"
    if value < 60:
        return f"{value:.2f} s"
    if value < 3600:
        return f"{int(value // 60)} min {int(value % 60)} s"
    return f"{int(value // 3600)} h {int(value % 3600 // 60)} min"


def badge(state: str, text: str) -> Raw:
    """A coloured label; ``state`` is one of pass, fail, unknown, none, partial."""
    return Raw(f'<span class="badge badge-{esc(state)}">{esc(text)}</span>')


def table(
    headers: Sequence[str | Raw],
    rows: Iterable[Sequence[Cell]],
    *,
    css: str = "",
    row_attrs: Iterable[Mapping[str, str]] | None = None,
    numeric_from: int = 1,
) -> Raw:
    """A table; columns from ``numeric_from`` on are right-aligned numbers."""
    head = "".join(
        f"<th{' class=num' if i >= numeric_from else ''}>{cell_value(h)}</th>"
        for i, h in enumerate(headers)
    )
    attrs_list = list(row_attrs) if row_attrs is not None else None
    body: list[str] = []
    for number, row in enumerate(rows):
        attrs = ""
        if attrs_list is not None and number < len(attrs_list):
            attrs = "".join(f' {esc(k)}="{esc(v)}"' for k, v in attrs_list[number].items())
        cells = "".join(
            f"<td{' class=num' if i >= numeric_from else ''}>{cell_value(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr{attrs}>{cells}</tr>")
    css_attr = f' class="{esc(css)}"' if css else ""
    return Raw(
        f'<div class="table-wrap"><table{css_attr}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def details(summary: str | Raw, content: str | Raw, *, open_: bool = False) -> Raw:
    inner = content.html if isinstance(content, Raw) else esc(content)
    head = summary.html if isinstance(summary, Raw) else esc(summary)
    flag = " open" if open_ else ""
    return Raw(f"<details{flag}><summary>{head}</summary>{inner}</details>")


def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no ``</script>``, no ``<!--``."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def page(*, title: str, body: str, figures: list[dict[str, Any]], plotly_js: str) -> str:
    """The whole self-contained document: CSS, plotly.js and the figure specs inline."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="lgbench">\n'
        f"<title>{esc(title)}</title>\n"
        f"<style>\n{_asset('report.css')}</style>\n"
        "</head>\n<body>\n"
        f"{body}\n"
        f'<script type="application/json" id="lgbench-figures">{_script_json(figures)}</script>\n'
        f"<script>\n{plotly_js}\n</script>\n"
        f"<script>\n{_asset('report.js')}</script>\n"
        "</body>\n</html>\n"
    )
