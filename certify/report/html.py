"""report.html: one self-contained page (inline CSS, JS and SVG) rendered from the Report."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from html import escape
from pathlib import Path

import certify.report.render_chaosload as render_chaosload
from certify.report.history import CHANGE_TITLES, TrendPoint
from certify.report.html_assets import COLOURS, CSS, GLYPHS, JS
from certify.report.model import CellResult, Report
from certify.report.render_chaosload import SHOWN_COLOURS, colour_of
from certify.report.verdict import VERDICTS, applies, cell_shown, shown, status_words
from certify.results import Record

_TITLE_REASONS = 3
_REASON_CHARS = 240
_LIST_LIMIT = 300


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _cut(text: str, limit: int = _REASON_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _axes(report: Report) -> tuple[list[str], list[str]]:
    """Split the dimensions into row and column axes so the grid is as square as it can be."""
    dims = list(report.plan.dimensions) or list(
        report.cells[0].planned.cell.values if report.cells else []
    )
    if len(dims) < 2:
        return dims, []
    best: tuple[int, int, int] | None = None
    for k in range(1, len(dims)):
        rows = {tuple(c.planned.cell.values.get(d, "") for d in dims[:k]) for c in report.cells}
        cols = {tuple(c.planned.cell.values.get(d, "") for d in dims[k:]) for c in report.cells}
        score = (max(len(rows), len(cols)), len(rows) * len(cols), k)
        if best is None or score < best:
            best = score
    k = best[2] if best else 1
    return dims[:k], dims[k:]


def _tuples(cells: Sequence[CellResult], dims: list[str]) -> list[tuple[str, ...]]:
    """Distinct value tuples in the order the cells first show them."""
    return list(dict.fromkeys(tuple(c.planned.cell.values.get(d, "") for d in dims) for c in cells))


def _heat_header(col_dims: list[str], cols: list[tuple[str, ...]], row_dims: list[str]) -> str:
    rows = []
    for level, dim in enumerate(col_dims):
        cells = [f'<th class="dim" colspan="{len(row_dims)}">{_e(dim)}</th>']
        i = 0
        while i < len(cols):
            j = i
            while j < len(cols) and cols[j][: level + 1] == cols[i][: level + 1]:
                j += 1
            cells.append(f'<th colspan="{j - i}">{_e(cols[i][level])}</th>')
            i = j
        rows.append("<tr>" + "".join(cells) + "</tr>")
    names = "".join(f'<th class="dim">{_e(d)}</th>' for d in row_dims)
    return "<thead>" + "".join(rows) + f'<tr>{names}<th colspan="{len(cols)}"></th></tr></thead>'


def _heat_cell(cell: CellResult) -> str:
    verdict = cell_shown(cell.verdict, (s.applicable for s in cell.suites))
    title = "\n".join(
        [f"{cell.id}", f"{verdict} ({cell.planned.cell.tier})"]
        + [_cut(r, 160) for r in cell.reasons[:_TITLE_REASONS]]
        + (
            [f"… {len(cell.reasons) - _TITLE_REASONS} more (click)"]
            if len(cell.reasons) > _TITLE_REASONS
            else []
        )
    )
    return (
        f'<td class="c v-{_e(cell.verdict)}" tabindex="0" data-id="{_e(cell.id)}" '
        f'style="background:{COLOURS.get(cell.verdict, "#000")}" title="{_e(title)}">'
        f"{GLYPHS.get(cell.verdict, '?')}</td>"
    )


def _heatmap(report: Report) -> str:
    row_dims, col_dims = _axes(report)
    rows, cols = _tuples(report.cells, row_dims), _tuples(report.cells, col_dims)
    col_index = {c: i for i, c in enumerate(cols)}
    grid: dict[tuple[str, ...], list[str]] = {r: ['<td class="e"></td>'] * len(cols) for r in rows}
    for cell in report.cells:
        values = cell.planned.cell.values
        row = tuple(values.get(d, "") for d in row_dims)
        col = tuple(values.get(d, "") for d in col_dims)
        grid[row][col_index[col]] = _heat_cell(cell)
    body = [
        "<tr>" + "".join(f"<th>{_e(v)}</th>" for v in row) + "".join(grid[row]) + "</tr>"
        for row in rows
    ]
    return (
        f'<div class="scroll"><table class="heat" id="heat" data-cells="{len(report.cells)}">'
        + _heat_header(col_dims, cols, row_dims)
        + "<tbody>"
        + "".join(body)
        + "</tbody></table></div>"
    )


def _legend(report: Report) -> str:
    counts = Counter(c.verdict for c in report.cells)
    chips = [
        f'<span class="chip" data-verdict="{v}" title="show or hide {v} cells">'
        f'<span class="sw" style="background:{COLOURS[v]}"></span>{v} {counts.get(v, 0)}</span>'
        for v in reversed(VERDICTS)
    ]
    return '<div class="counts">' + "".join(chips) + "</div>"


def _data(report: Report) -> str:
    """The per-cell details the click panel shows, as JSON safe inside a script element."""
    data = {
        c.id: {
            "tier": c.planned.cell.tier,
            "verdict": cell_shown(c.verdict, (s.applicable for s in c.suites)),
            "criteria": [
                [
                    s.criterion,
                    shown(s.verdict, s.applicable),
                    ", ".join(f"{n} {k}" for k, n in sorted(s.counts.items())),
                    [_cut(r) for r in s.reasons[:8]],
                ]
                for s in c.suites
            ],
            **render_chaosload.panel(c),
        }
        for c in report.cells
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _list_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], limit: int = _LIST_LIMIT
) -> str:
    """A plain table of already-escaped cells, capped at `limit` rows."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows[:limit])
    more = (
        f'<p class="note">… and {len(rows) - limit} more rows (see report.json)</p>'
        if len(rows) > limit
        else ""
    )
    return f'<div class="scroll"><table class="list"><tr>{head}</tr>{body}</table></div>{more}'


def _verdict(v: str) -> str:
    return f'<b style="color:{colour_of(v)}">{_e(v)}</b>'


def _suites(report: Report) -> str:
    by_criterion: dict[str, list[tuple[CellResult, int]]] = {}
    for cell in report.cells:
        for i, s in enumerate(cell.suites):
            if s.kind in ("scenario", "experiment", "load", "slo"):
                by_criterion.setdefault(s.criterion, []).append((cell, i))
    parts = []
    for criterion, entries in by_criterion.items():
        verdicts = Counter(
            shown(cell.suites[i].verdict, cell.suites[i].applicable) for cell, i in entries
        )
        summary = ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items()))
        rows = []
        for cell, i in sorted(entries, key=lambda e: (e[0].suites[e[1]].verdict, e[0].id)):
            s = cell.suites[i]
            counts = ", ".join(f"{n} {k}" for k, n in sorted(s.counts.items()))
            first = _e(_cut(s.reasons[0])) if s.reasons else ""
            verdict = _verdict(shown(s.verdict, s.applicable))
            rows.append([f"<code>{_e(cell.id)}</code>", verdict, _e(counts), first])
        table = _list_table(["cell", "verdict", "results", "first reason"], rows)
        open_ = " open" if set(verdicts) - {"certified", shown("", False)} else ""
        parts.append(
            f"<details{open_}><summary>{_e(criterion)}: {_e(summary)}</summary>{table}</details>"
        )
    return "".join(parts) or '<p class="note">No suites were planned.</p>'


def _bars(points: Sequence[TrendPoint]) -> str:
    """Stacked bars of cells by verdict per run, and a line of the run duration."""
    w, h, pad = 760, 180, 70
    step = min((w - 2 * pad) / max(len(points), 1), 48.0)
    top = max((sum(p.verdicts.values()) for p in points), default=1) or 1
    longest = max((p.duration_s for p in points), default=0.0) or 1.0
    parts = [f'<svg viewBox="0 0 {w} {h + 90}" width="{w}" height="{h + 90}" role="img">']
    line = []
    for i, p in enumerate(points):
        x, y = pad + i * step, float(h)
        for v in reversed(VERDICTS):
            n = p.verdicts.get(v, 0)
            if n:
                bh = (h - 10) * n / top
                y -= bh
                parts.append(
                    f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{max(step - 4, 1):.1f}" '
                    f'height="{bh:.1f}" fill="{COLOURS[v]}">'
                    f"<title>{_e(p.run_id)}: {n} {v}</title></rect>"
                )
        cx, cy = x + step / 2, h - (h - 10) * p.duration_s / longest
        line.append(f"{cx:.1f},{cy:.1f}")
        label = _e(p.started[5:16].replace("T", " ") or p.run_id[:10])
        at = f"{cx:.1f},{h + 12}"  # slanted, so neighbouring runs' labels never overlap
        slant = f'transform="translate({at}) rotate(-35)" text-anchor="end"'
        parts.append(f"<text {slant}>{label}</text>")
    parts.append(
        f'<polyline points="{" ".join(line)}" fill="none" stroke="#1a73e8" stroke-width="2"/>'
    )
    legend = f"bars: cells by verdict (max {top}); line: run duration (max {longest:.0f}s)"
    parts.append(f'<text x="{pad}" y="{h + 84}">{legend}</text>')
    return "".join(parts) + "</svg>"


def _changes(report: Report) -> str:
    if report.changes is None:
        return '<p class="note">No earlier run of this profile in the history.</p>'
    parts = [f'<p class="meta">compared with run {_e(report.changes.previous)}</p>']
    for kind, items in report.changes.items():
        rows = [[f"<code>{_e(i.cell)}</code>", _e(i.test), _e(i.detail)] for i in items]
        body = _list_table(["cell", "test", "detail"], rows, 100) if rows else ""
        title = f"<summary>{CHANGE_TITLES[kind]}: {len(rows)}</summary>"
        parts.append(f"<details{' open' if rows else ''}>{title}{body}</details>")
    return "".join(parts)


def _waivers(report: Report) -> str:
    if not report.waivers:
        return ""
    rows = [
        [
            _e(u.waiver.criterion),
            f"<code>{_e(u.waiver.cells)}</code>",
            _e(u.waiver.owner),
            _e(u.waiver.expires.isoformat()),
            f"<b>{_e(u.status)}</b>",
            _e(u.waiver.reason),
        ]
        for u in report.waivers
    ]
    table = _list_table(["criterion", "cells", "owner", "expires", "status", "reason"], rows)
    return f'<section id="waivers"><h2>Waivers</h2>{table}</section>'


def _failures(records: Sequence[tuple[str, Record]]) -> str:
    rows = [
        [
            f"<code>{_e(cell)}</code>",
            f"<code>{_e(r.test_id)}</code>",
            _verdict(r.status),
            _e(_cut(r.message.strip().splitlines()[-1] if r.message.strip() else "")),
        ]
        for cell, r in records
    ]
    if not rows:
        return '<p class="note">No failed or erroring test.</p>'
    return _list_table(["cell", "test", "status", "message"], rows)


def _not_run(report: Report) -> str:
    """Tests that apply to their cell but were not exercised; a count of those out of scope."""
    rows = [
        [
            f"<code>{_e(c.id)}</code>",
            f"<code>{_e(r.test_id)}</code>",
            _e(status_words(r.status, r.applicable)),
            _e(_cut(r.message.strip().splitlines()[0] if r.message.strip() else "")),
        ]
        for c in report.cells
        for r in c.records
        if r.status in ("not_run", "skipped") and applies(r.status, r.applicable)
    ]
    out_of_scope = sum(not applies(r.status, r.applicable) for c in report.cells for r in c.records)
    note = (
        f'<p class="note">{out_of_scope} test(s) are not applicable to their cell\'s values '
        "(out of scope): shown with their reasons, left out of the verdicts.</p>"
        if out_of_scope
        else ""
    )
    if not rows:
        return '<p class="note">Every test in scope ran.</p>' + note
    lead = (
        f'<p class="note">{len(rows)} test(s) apply to their cell but were not exercised: '
        "no cell certifies without them.</p>"
    )
    return lead + _list_table(["cell", "test", "status", "reason"], rows) + note


def _header(report: Report) -> str:
    gate, run = report.gate, report.run
    meta = " · ".join(
        [
            f"run {_e(run.get('id', ''))}",
            f"matrix {_e(report.plan.matrix)}",
            f"platform {_e(run.get('platform', ''))}",
            _e(run.get("started", "")),
            f"policy {_e(gate.policy.get('source', 'built-in'))}",
        ]
    )
    badge = (
        f'<span class="badge {gate.verdict}" id="gate-verdict">gate {gate.verdict.upper()}</span>'
    )
    reasons = (
        "".join(f"<li>{_e(r)}</li>" for r in gate.reasons)
        or "<li>All blocking cells pass the policy.</li>"
    )
    return (
        f"<header><h1>certify {_e(report.plan.profile)}</h1>{badge}"
        f'<span class="meta">{meta}</span></header>'
        f'<section id="gate"><h2>Gate</h2><ul class="reasons">{reasons}</ul></section>'
    )


def _section(name: str, title: str, body: str) -> str:
    return f'<section id="{name}"><h2>{title}</h2>{body}</section>'


def render_html(report: Report) -> str:
    """The whole page."""
    failing = [
        (c.id, r) for c in report.cells for r in c.records if r.status in ("failed", "error")
    ]
    trend = (
        _bars(report.trend)
        if len(report.trend) > 1
        else '<p class="note">One run so far: trends start with the second run of this profile.</p>'
    )
    matrix = _legend(report) + _heatmap(report) + '<div id="detail" hidden></div>'
    return "".join(
        [
            '<!doctype html><html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width,initial-scale=1">',
            f"<title>certify {_e(report.plan.profile)}: gate {report.gate.verdict.upper()}</title>",
            f"<style>{CSS}</style></head><body>",
            _header(report),
            _section("matrix", f"Matrix ({len(report.cells)} cells)", matrix),
            _section("changes", "Changes since the previous run", _changes(report)),
            _section("trend", "Trend", trend),
            _section("suites", "Suites", _suites(report)),
            _section("failures", f"Failed tests ({len(failing)})", _failures(failing)),
            _section("not-run", "Not run", _not_run(report)),
            render_chaosload.html(report),
            _waivers(report),
            f'<script type="application/json" id="cells-data">{_data(report)}</script>',
            f"<script>var COLOURS={json.dumps(SHOWN_COLOURS)};"
            f"var TABLES={json.dumps(render_chaosload.panel_headers())};{JS}</script>"
            "</body></html>\n",
        ]
    )


def write_html(report: Report, out: Path) -> Path:
    """`report.html`."""
    from certify.host.files import atomic_write

    path = out / "report.html"
    atomic_write(path, render_html(report))
    return path
