"""The chaos and load sections of report.md and report.html, per cell.

Chaos: experiment, verdict, recovery time, rows verified, data integrity, fault confirmed and
the policy's chaos criteria. Load: the figures, every SLO met or missed with its measured value,
and for a load under chaos the figures before, during and after the fault window.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from certify.report.chaosload import WINDOWS, ChaosRow, LoadRow, fmt, slo_text, window_text
from certify.report.html_assets import COLOURS
from certify.report.model import CellResult, Report
from certify.report.verdict import NOT_APPLICABLE, rank, shown

MD_CELL_LIMIT = 100
HTML_ROW_LIMIT = 300
CHAOS_HEADERS = (
    "experiment",
    "verdict",
    "recovery time",
    "rows verified",
    "data integrity",
    "fault confirmed",
    "policy criteria",
)
LOAD_HEADERS = ("profile", "verdict", "p50", "p95", "p99", "error rate", "rps", "SLOs")
WINDOW_HEADERS = ("profile", "during", *WINDOWS, "throughput recovery")

Sections = list[tuple[CellResult, tuple[ChaosRow, ...], tuple[LoadRow, ...]]]
# what outputs show of a verdict: `not applicable` is greyed lighter than a real `not_run`
SHOWN_COLOURS = {**COLOURS, NOT_APPLICABLE: "#bdbdbd"}


def colour_of(text: str) -> str:
    """The colour of a shown verdict (`not applicable`, or one starting with a verdict)."""
    return SHOWN_COLOURS.get(text) or SHOWN_COLOURS.get(text.split(" ")[0], "#000")


def sections(report: Report) -> Sections:
    """(cell, chaos rows, load rows) of every cell that ran chaos or load, the worst first."""
    found = []
    for cell in report.cells:
        chaos, load = cell.chaos_section, cell.load_section
        if chaos or load:
            found.append((cell, chaos, load))
    return sorted(found, key=lambda s: (rank(s[0].verdict), s[0].id))


def _verdict(verdict: str, status: str, applicable: bool) -> str:
    if not applicable:
        return shown(verdict, applicable)
    if status == "not_run":
        return f"{verdict} (in scope, not run)"
    return verdict if status == "passed" else f"{verdict} ({status})"


def _applies(cell: CellResult, criterion: str) -> bool:
    """Whether the cell's criterion applies to it (an unknown one does: fail closed)."""
    return next((s.applicable for s in cell.suites if s.criterion == criterion), True)


def _chaos(cell: CellResult, row: ChaosRow) -> list[str]:
    return chaos_cells(row, _applies(cell, f"chaos:{row.experiment}"))


def _load(cell: CellResult, row: LoadRow) -> list[str]:
    return load_cells(row, _applies(cell, f"load:{row.profile}"))


def chaos_cells(row: ChaosRow, applicable: bool = True) -> list[str]:
    """One chaos row as plain-text table cells (in CHAOS_HEADERS order)."""
    return [
        row.experiment,
        _verdict(row.verdict, row.status, applicable),
        fmt(row.recovery_time_s, "s"),
        fmt(row.rows_verified),
        row.data_integrity,
        fmt(row.fault_confirmed),
        row.policy or "-",
    ]


def load_cells(row: LoadRow, applicable: bool = True) -> list[str]:
    """One load row as plain-text table cells (in LOAD_HEADERS order)."""
    slos = "; ".join(slo_text(s) for s in row.detail.slos) or "-"
    return [
        row.profile,
        _verdict(row.verdict, row.detail.status, applicable),
        *(fmt(row.figure(k), "ms") for k in ("p50_ms", "p95_ms", "p99_ms")),
        fmt(row.figure("error_rate")),
        fmt(row.figure("rps")),
        slos,
    ]


def window_cells(row: LoadRow) -> list[str]:
    """A load under chaos: its figures per window and the throughput recovery."""
    recovered = row.detail.throughput_recovery_s
    return [
        row.profile,
        str(row.detail.during or "-"),
        *(window_text(row.detail.windows, w) for w in WINDOWS),
        fmt(recovered, "s") if recovered is not None else "never recovered",
    ]


# -- Markdown -------------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(headers) + " |",
        "|" + " --- |" * len(headers),
        *("| " + " | ".join(_md(c) for c in row) + " |" for row in rows),
    ]


def markdown(report: Report) -> list[str]:
    """`## Chaos and load per cell`: each cell's chaos and load tables (the worst cells first)."""
    found = sections(report)
    if not found:
        return []
    lines = ["", "## Chaos and load per cell"]
    for cell, chaos, load in found[:MD_CELL_LIMIT]:
        lines += ["", f"### `{cell.id}` ({cell.verdict})"]
        if chaos:
            lines += ["", "Chaos:", "", *_md_table(CHAOS_HEADERS, [_chaos(cell, r) for r in chaos])]
        if load:
            lines += ["", "Load:", "", *_md_table(LOAD_HEADERS, [_load(cell, r) for r in load])]
        chaotic = [r for r in load if r.detail.windows]
        if chaotic:
            rows = [window_cells(r) for r in chaotic]
            lines += ["", "Load under chaos:", "", *_md_table(WINDOW_HEADERS, rows)]
    if len(found) > MD_CELL_LIMIT:
        lines += ["", f"... and {len(found) - MD_CELL_LIMIT} more cells (see report.json)"]
    return lines


# -- HTML -----------------------------------------------------------------------------------


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], colour: int | None = 1) -> str:
    """A list table of plain-text cells; column `colour` holds a verdict and is coloured."""

    def td(i: int, text: str) -> str:
        if i == colour:
            tint = colour_of(text)
            return f'<td class="v" style="color:{tint}">{_e(text)}</td>'
        return f"<td>{_e(text)}</td>"

    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(td(i, c) for i, c in enumerate(row)) + "</tr>"
        for row in rows[:HTML_ROW_LIMIT]
    )
    more = (
        f'<p class="note">… and {len(rows) - HTML_ROW_LIMIT} more rows (see report.json)</p>'
        if len(rows) > HTML_ROW_LIMIT
        else ""
    )
    return f'<div class="scroll"><table class="list"><tr>{head}</tr>{body}</table></div>{more}'


def html(report: Report) -> str:
    """The `Chaos experiments` and `Load profiles` sections: every cell's rows, worst first."""
    found = sections(report)
    chaos = [[c.id, *_chaos(c, r)] for c, rows, _ in found for r in rows]
    load = [[c.id, *_load(c, r)] for c, _, rows in found for r in rows]
    windows = [[c.id, *window_cells(r)] for c, _, rows in found for r in rows if r.detail.windows]
    parts = []
    if chaos:
        parts.append(
            '<section id="chaos"><h2>Chaos experiments</h2>'
            + _table(["cell", *CHAOS_HEADERS], chaos, 2)
            + "</section>"
        )
    if load:
        body = _table(["cell", *LOAD_HEADERS], load, 2)
        if windows:
            body += "<h3>Load under chaos</h3>" + _table(["cell", *WINDOW_HEADERS], windows, None)
        parts.append(f'<section id="load"><h2>Load profiles</h2>{body}</section>')
    return "".join(parts)


def panel_headers() -> dict[str, list[str]]:
    """Column names of the panel's tables (sent once, not per cell)."""
    return {
        "chaos": list(CHAOS_HEADERS),
        "load": list(LOAD_HEADERS),
        "windows": list(WINDOW_HEADERS),
    }


def panel(cell: CellResult) -> dict[str, list[list[str]]]:
    """The cell's chaos and load rows for the click panel (only keys it has, to stay small)."""
    out: dict[str, list[list[str]]] = {}
    chaos = [_chaos(cell, r) for r in cell.chaos_section]
    if chaos:
        out["chaos"] = chaos
    load_table = cell.load_section
    if load_table:
        out["load"] = [_load(cell, r) for r in load_table]
        chaotic = [window_cells(r) for r in load_table if r.detail.windows]
        if chaotic:
            out["windows"] = chaotic
    return out
