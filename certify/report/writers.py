"""Render one Report into the run folder: report.json, report.md, report.html, junit.xml, Allure."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import certify.report.render_chaosload as render_chaosload
from certify.host.files import atomic_write
from certify.report.history import CHANGE_TITLES
from certify.report.model import CellResult, Report
from certify.report.verdict import applies, cell_shown, status_words
from certify.results.findings import JsonObject

_JUNIT_STATUS = {"failed": "failure", "error": "error", "skipped": "skipped", "not_run": "skipped"}
# Characters XML 1.0 cannot carry at all; test output sometimes holds them (ANSI, NUL).
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MD_LIST_LIMIT = 50


def write_json(report: Report, out: Path, doc: JsonObject | None = None) -> Path:
    """`report.json` (certify.report/1)."""
    path = out / "report.json"
    # compact: the indenting encoder is pure Python, about 10x slower on 100,000 tests
    atomic_write(path, json.dumps(doc or report.to_json(), separators=(",", ":")) + "\n")
    return path


def _x(text: str) -> str:
    return escape(_XML_BAD.sub("\ufffd", text))


def _qa(text: str) -> str:
    return quoteattr(_XML_BAD.sub("\ufffd", text))


def write_junit(report: Report, out: Path) -> Path:
    """`junit.xml`: one testsuite per cell, the cell id in every test name and class name."""
    parts = [
        "<?xml version='1.0' encoding='utf-8'?>\n",
        f"<testsuites name={_qa('certify ' + report.plan.profile)}>\n",
    ]
    for cell in report.cells:
        parts.extend(_junit_suite(cell))
    parts.append("</testsuites>\n")
    path = out / "junit.xml"
    atomic_write(path, "".join(parts))
    return path


def _junit_suite(cell: CellResult) -> list[str]:
    counts = {"failure": 0, "error": 0, "skipped": 0}
    cases: list[str] = []
    total = 0.0
    for record in cell.records:
        name = record.test_id.split("::", 1)[-1]
        head = (
            f"    <testcase name={_qa(f'{name}[{cell.id}]')} "
            f'classname={_qa(f"{record.suite}.{cell.id}")} time="{record.duration_s:.3f}" '
            f"file={_qa(record.test_id.split('::')[0])}"
        )
        total += record.duration_s
        tag = _JUNIT_STATUS.get(record.status)
        if tag is None and record.status not in ("passed", "flaky"):
            tag = "error"  # unknown status: never shown as a pass
        if tag is None:
            cases.append(head + " />\n")
            continue
        counts[tag] += 1
        first = record.message.strip().splitlines()[0] if record.message.strip() else ""
        message = f"{status_words(record.status, record.applicable)}: {first}"[:500]
        cases.append(
            f"{head}>\n      <{tag} message={_qa(message)}>{_x(record.message)}</{tag}>\n"
            "    </testcase>\n"
        )
    if not cell.records:
        cases.append(
            f"    <testcase name={_qa(f'certify[{cell.id}]')} "
            f'classname={_qa(f"certify.{cell.id}")} time="0">\n'
            f"      <error message={_qa(f'{cell.verdict}: no results recorded')}>"
            f"{_x(chr(10).join(cell.reasons))}</error>\n    </testcase>\n"
        )
        counts["error"] += 1
    props = [
        ("cell", cell.id),
        ("tier", cell.planned.cell.tier),
        ("verdict", cell.verdict),
        *cell.planned.cell.values.items(),
    ]
    head = (
        f'  <testsuite name={_qa(cell.id)} tests="{max(len(cell.records), 1)}" '
        f'failures="{counts["failure"]}" errors="{counts["error"]}" '
        f'skipped="{counts["skipped"]}" time="{total:.3f}">\n    <properties>\n'
        + "".join(f"      <property name={_qa(k)} value={_qa(v)} />\n" for k, v in props)
        + "    </properties>\n"
    )
    return [head, *cases, "  </testsuite>\n"]


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_changes(report: Report) -> list[str]:
    changes = report.changes
    if changes is None:
        return ["", "## Changes since the previous run", "", "No earlier run of this profile."]
    lines = ["", f"## Changes since the previous run (`{changes.previous}`)", ""]
    for kind, items in changes.items():
        lines.append(f"- {CHANGE_TITLES[kind]}: {len(items)}")
        for item in items[:_MD_LIST_LIMIT]:
            lines.append(
                f"  - `{item.cell}` {_md(item.test)}" + (f" ({item.detail})" if item.detail else "")
            )
        if len(items) > _MD_LIST_LIMIT:
            lines.append(f"  - ... and {len(items) - _MD_LIST_LIMIT} more")
    return lines


def _markdown_not_run(report: Report) -> list[str]:
    """Tests in scope that were not exercised, apart from those the cells' values rule out."""
    missing = [
        (cell.id, r)
        for cell in report.cells
        for r in cell.records
        if r.status in ("not_run", "skipped") and applies(r.status, r.applicable)
    ]
    out_of_scope = sum(
        not applies(r.status, r.applicable) for cell in report.cells for r in cell.records
    )
    if not missing and not out_of_scope:
        return []
    lines = ["", "## Not run", ""]
    if missing:
        lines += [
            f"{len(missing)} test(s) apply to their cell but were not exercised: no cell "
            "certifies without them.",
            "",
            "| cell | test | status | reason |",
            "| --- | --- | --- | --- |",
        ]
        for cell_id, r in missing[:_MD_LIST_LIMIT]:
            first = r.message.strip().splitlines()[0] if r.message.strip() else ""
            words = status_words(r.status, r.applicable)
            lines.append(f"| `{cell_id}` | {_md(r.test_id)} | {words} | {_md(first[:300])} |")
        if len(missing) > _MD_LIST_LIMIT:
            lines.append(f"| ... and {len(missing) - _MD_LIST_LIMIT} more | | | |")
        lines.append("")
    if out_of_scope:
        lines.append(
            f"{out_of_scope} test(s) are not applicable to their cell's values (out of scope): "
            "shown in each cell's reasons, left out of its verdict."
        )
    return lines


def _markdown_emulated(report: Report) -> list[str]:
    """Cells whose evidence came from an emulator, and what that emulator does not prove."""
    rows = []
    for cell in sorted(report.cells, key=lambda c: c.id):
        found = cell.records[0].provenance.get("emulated") if cell.records else None
        if isinstance(found, list) and found:
            rows.append(f"| `{cell.id}` | {'<br>'.join(_md(str(e)) for e in found)} |")
    if not rows:
        return []
    return ["", "## Emulated services", "", "| cell | emulated here |", "| --- | --- |", *rows]


def write_markdown(report: Report, out: Path) -> Path:
    """`report.md`: gate and reasons first, the cells by verdict, then changes since last run."""
    lines = [f"# certify {report.plan.profile}: gate {report.gate.verdict.upper()}", ""]
    lines += [f"- {_md(r)}" for r in report.gate.reasons] or ["All blocking cells pass the policy."]
    counts = report.summary()["verdicts"]
    lines += [
        "",
        "## Cells by verdict",
        "",
        ", ".join(f"{n} {v}" for v, n in sorted(counts.items())),
    ]
    lines += ["", "| cell | tier | verdict | reasons |", "| --- | --- | --- | --- |"]
    for cell in sorted(report.cells, key=lambda c: (c.verdict, c.id)):
        why = "<br>".join(_md(r) for r in cell.reasons[:3])
        shown = cell_shown(cell.verdict, (s.applicable for s in cell.suites))
        lines.append(f"| `{cell.id}` | {cell.planned.cell.tier} | {shown} | {why} |")
    lines += _markdown_not_run(report)
    lines += _markdown_emulated(report)
    lines += render_chaosload.markdown(report)
    lines += _markdown_changes(report)
    if report.waivers:
        lines += ["", "## Waivers", "", "| criterion | cells | owner | expires | status |"]
        lines.append("| --- | --- | --- | --- | --- |")
        for use in report.waivers:
            w = use.waiver
            status = use.status.upper() if use.status == "expired" else use.status
            lines.append(
                f"| {w.criterion} | `{_md(w.cells)}` | {_md(w.owner)} | {w.expires} | {status} |"
            )
    cov = report.plan.coverage()
    lines += [
        "",
        f"Coverage: {cov['covered']}/{cov['required']} tuples (t={cov['t']}); "
        f"run `{report.run.get('id', '')}`; policy {report.gate.policy.get('source', 'built-in')}.",
    ]
    path = out / "report.md"
    atomic_write(path, "\n".join(lines) + "\n")
    return path


def write_allure_environment(report: Report, out: Path) -> Path | None:
    """`allure-results/environment.properties`: the run and its cells, for the Allure report."""
    folder = out / "allure-results"
    if not folder.is_dir():
        return None
    found = report.run.get("provenance")
    prov = found if isinstance(found, dict) else {}
    pairs = [
        ("certify.profile", report.plan.profile),
        ("certify.matrix", report.plan.matrix),
        ("certify.run", str(report.run.get("id", ""))),
        ("certify.platform", str(report.run.get("platform", ""))),
        ("certify.gate", report.gate.verdict),
        *((f"version.{k}", str(prov.get(k))) for k in ("certify", "python", "java", "pyspark")),
        *((f"cell.{i + 1}", c.id) for i, c in enumerate(report.cells)),
    ]
    text = "".join(f"{k}={v.replace(chr(10), ' ')}\n" for k, v in pairs)
    path = folder / "environment.properties"
    atomic_write(path, text)
    return path


def write_all(report: Report, out: Path, doc: JsonObject | None = None) -> list[Path]:
    """Every output of a report."""
    from certify.report.html import write_html

    paths = [
        write_json(report, out, doc),
        write_markdown(report, out),
        write_html(report, out),
        write_junit(report, out),
    ]
    env = write_allure_environment(report, out)
    return paths + ([env] if env else [])
