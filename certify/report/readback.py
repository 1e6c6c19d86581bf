"""Read a report.json back into evidence (plan, records, policy) to decide or render it again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from certify.cell import Cell
from certify.config.policy import Policy
from certify.errors import UnusableReport
from certify.plan import CoverageGroup, Plan, PlannedCell
from certify.report.chaosload import RECORD_KEYS
from certify.results import Record
from certify.results.findings import metrics_from_json
from certify.results.record import finding_of


@dataclass(frozen=True)
class Evidence:
    """What a report.json holds that a verdict is decided from."""

    path: Path
    doc: dict[str, Any]
    run: dict[str, Any]
    plan: Plan
    records: list[Record]
    expected: dict[str, list[tuple[str, str]]]

    def policy(self) -> Policy:
        """The policy the report was decided under (fail closed if it cannot be read)."""
        data = self.doc["gate"].get("policy")
        if not data:
            return Policy()
        if "schema" not in data:  # reports written before policies had a file form
            legacy = ("blocking_tiers", "require_complete_coverage", "max_reasons_per_cell")
            data = {k: v for k, v in data.items() if k in legacy}
        try:
            return Policy.from_json(data)
        except ValidationError as exc:
            raise UnusableReport(
                f"{self.path}: the policy in gate.policy is not valid ({exc.error_count()} "
                "error(s)); pass one with --policy FILE"
            ) from exc


def report_path(path: Path) -> Path:
    """`path` itself, or `path/report.json` for a run folder."""
    return path / "report.json" if path.is_dir() else path


def read_report(path: Path) -> dict[str, Any]:
    """The report document at `path`, checked against the shipped schema."""
    import jsonschema

    from certify.report import schema

    path = report_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UnusableReport(f"{path}: no such report") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UnusableReport(f"{path}: cannot read the report: {exc}") from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise UnusableReport(f"{path}: not valid JSON (truncated or damaged?): {exc}") from None
    validator = jsonschema.Draft202012Validator(schema())
    error = next(iter(sorted(validator.iter_errors(doc), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
        raise UnusableReport(
            f"{path}: not a valid certify.report/1 document at {where.lstrip('.') or '<top>'}: "
            f"{error.message[:300]}"
        )
    loaded: dict[str, Any] = doc
    return loaded


def planned_cell(cell: dict[str, Any], lists: dict[str, Any]) -> PlannedCell:
    """A planned cell from its JSON (`values`, `tier`, `runtime`) and its suites/chaos/load."""
    return PlannedCell(
        Cell(tuple(cell["values"].items()), cell["tier"]),
        cell.get("runtime", "default"),
        tuple(lists.get("suites", ())),
        tuple(lists.get("chaos", ())),
        tuple(lists.get("load", ())),
    )


def plan_of(doc: dict[str, Any]) -> Plan:
    """The plan a report was made for, rebuilt from its `plan` and `cells`."""
    plan = doc["plan"]
    cells = [
        planned_cell(c, c.get("planned") or {"suites": [s["name"] for s in c["suites"]]})
        for c in doc["cells"]
    ]
    groups = tuple(
        CoverageGroup(
            g["tier"], g["strategy"], g["t"], g["required"], g["covered"], g["cells"], g["invalid"]
        )
        for g in plan["coverage"].get("groups", [])
    )
    first = doc["cells"][0]["values"] if doc["cells"] else {}
    return Plan(
        plan["matrix"],
        plan.get("matrix_path", ""),
        plan["profile"],
        plan["seed"],
        tuple(cells),
        groups,
        tuple(plan.get("dimensions") or first),
    )


def evidence_of(doc: dict[str, Any], path: Path) -> Evidence:
    """Records and expectations of every cell of a report document."""
    run = dict(doc["run"])
    records: list[Record] = []
    expected: dict[str, list[tuple[str, str]]] = {}
    for cell in doc["cells"]:
        base = cell.get("provenance") or {}
        for test in cell["tests"]:
            # experiment and load results carry their own metrics (reports before that: the cell's)
            kind = test.get("kind", "scenario")
            records.append(
                Record(
                    run_id=run["id"],
                    cell_id=cell["id"],
                    suite=test["suite"],
                    test_id=test["test_id"],
                    status=test["status"],
                    kind=kind,
                    attempts=test.get("attempts", 1),
                    applicable=bool(test.get("applicable", True)),
                    duration_s=test["duration_s"],
                    message=test.get("message", ""),
                    started=test.get("started", ""),
                    finished=test.get("finished", ""),
                    provenance={k: v for k, v in base.items() if k not in RECORD_KEYS},
                    # reports before records kept their own findings had them per cell
                    metrics=metrics_from_json(test.get("metrics", base.get("metrics"))),
                    finding=finding_of(kind, {**base, **test}),
                )
            )
        unfinished = [(u["suite"], u["test_id"]) for u in cell.get("unfinished", [])]
        if unfinished:  # what was collected: the tests with a result and those without
            done = [(t["suite"], t["test_id"]) for t in cell["tests"] if "::" in t["test_id"]]
            expected[cell["id"]] = done + unfinished
    return Evidence(path, doc, run, plan_of(doc), records, expected)


def load_evidence(path: Path) -> Evidence:
    """Read, check and unpack the report at `path` (a report.json or a run folder)."""
    doc = read_report(path)
    return evidence_of(doc, report_path(path))
