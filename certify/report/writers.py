"""Render one Report into the run folder: report.json, report.md and junit.xml."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from certify.report.model import CellResult, Report

_JUNIT_STATUS = {"failed": "failure", "error": "error", "skipped": "skipped", "not_run": "skipped"}


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a report."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json(report: Report, out: Path) -> Path:
    """`report.json` (certify.report/1)."""
    path = out / "report.json"
    _atomic_write(path, json.dumps(report.to_json(), indent=2, sort_keys=False) + "\n")
    return path


def write_junit(report: Report, out: Path) -> Path:
    """`junit.xml`: one testsuite per cell, the cell id in every test name and class name."""
    root = ET.Element("testsuites", name=f"certify {report.plan.profile}")
    for cell in report.cells:
        root.append(_junit_suite(cell))
    ET.indent(root)
    path = out / "junit.xml"
    _atomic_write(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")
    return path


def _junit_suite(cell: CellResult) -> ET.Element:
    counts = {"failure": 0, "error": 0, "skipped": 0}
    suite = ET.Element("testsuite", name=cell.id)
    props = ET.SubElement(suite, "properties")
    for key, value in [
        ("cell", cell.id),
        ("tier", cell.planned.cell.tier),
        ("verdict", cell.verdict),
        *cell.planned.cell.values.items(),
    ]:
        ET.SubElement(props, "property", name=key, value=value)
    total = 0.0
    for record in cell.records:
        name = record.test_id.split("::", 1)[-1]
        case = ET.SubElement(
            suite,
            "testcase",
            name=f"{name}[{cell.id}]",
            classname=f"{record.suite}.{cell.id}",
            time=f"{record.duration_s:.3f}",
            file=record.test_id.split("::")[0],
        )
        total += record.duration_s
        tag = _JUNIT_STATUS.get(record.status)
        if tag is None and record.status not in ("passed", "flaky"):
            tag = "error"  # unknown status: never shown as a pass
        if tag is not None:
            counts[tag] += 1
            first = record.message.strip().splitlines()[0] if record.message.strip() else ""
            elem = ET.SubElement(case, tag, message=f"{record.status}: {first}"[:500])
            elem.text = record.message
    if not cell.records:
        case = ET.SubElement(
            suite, "testcase", name=f"certify[{cell.id}]", classname=f"certify.{cell.id}", time="0"
        )
        ET.SubElement(
            case, "error", message=f"{cell.verdict}: no results recorded"
        ).text = "\n".join(cell.reasons)
        counts["error"] += 1
    suite.set("tests", str(max(len(cell.records), 1)))
    suite.set("failures", str(counts["failure"]))
    suite.set("errors", str(counts["error"]))
    suite.set("skipped", str(counts["skipped"]))
    suite.set("time", f"{total:.3f}")
    return suite


def write_markdown(report: Report, out: Path) -> Path:
    """`report.md`: gate first, then the cells by verdict."""
    lines = [f"# certify {report.plan.profile}: gate {report.gate.verdict.upper()}", ""]
    lines += [f"- {r}" for r in report.gate.reasons] or ["All blocking cells certified."]
    lines += ["", "| cell | tier | verdict | reasons |", "| --- | --- | --- | --- |"]
    for cell in sorted(report.cells, key=lambda c: (c.verdict, c.id)):
        why = "<br>".join(r.replace("|", "\\|") for r in cell.reasons[:3])
        lines.append(f"| `{cell.id}` | {cell.planned.cell.tier} | {cell.verdict} | {why} |")
    cov = report.plan.coverage()
    lines += [
        "",
        f"Coverage: {cov['covered']}/{cov['required']} tuples (t={cov['t']}); "
        f"run `{report.run.get('id', '')}`.",
    ]
    path = out / "report.md"
    _atomic_write(path, "\n".join(lines) + "\n")
    return path


def write_all(report: Report, out: Path) -> list[Path]:
    """Every output of a report."""
    return [write_json(report, out), write_markdown(report, out), write_junit(report, out)]
