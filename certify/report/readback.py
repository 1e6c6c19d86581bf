"""Read a report.json back into evidence (plan, records, policy) to decide or render it again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from certify.cell import Cell
from certify.config.policy import Policy
from certify.errors import UnusableReport
from certify.plan import CoverageGroup, Plan, PlannedCell
from certify.report.chaosload import RECORD_KEYS
from certify.report.jsondoc import array, integer, number, obj, objs, text, texts
from certify.report.model import RunInputs
from certify.results import Record
from certify.results.findings import JsonObject, JsonValue, metrics_from_json
from certify.results.record import finding_of


@dataclass(frozen=True)
class Evidence:
    """What a report.json holds that a verdict is decided from."""

    path: Path
    doc: JsonObject  # the report document as read (checked against the shipped schema)
    run: JsonObject
    plan: Plan
    records: list[Record]
    expected: dict[str, list[tuple[str, str]]]

    def inputs(self) -> RunInputs:
        """The run, plan, records and collected tests, to decide the report again."""
        return RunInputs(self.run, self.plan, self.records, self.expected)

    def policy(self) -> Policy:
        """The policy the report was decided under (fail closed if it cannot be read)."""
        data = obj(self.doc["gate"], "gate").get("policy")
        if not data:
            return Policy()
        data = obj(data, "gate.policy")
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


def read_report(path: Path) -> JsonObject:
    """The report document at `path`, checked against the shipped schema."""
    import jsonschema

    from certify.report import schema

    path = report_path(path)
    try:
        body = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UnusableReport(f"{path}: no such report") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UnusableReport(f"{path}: cannot read the report: {exc}") from None
    try:
        doc = json.loads(body)
    except RecursionError:
        raise UnusableReport(f"{path}: nested too deeply to be a certify report") from None
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
    return obj(doc, "report")  # the schema says it is an object


def planned_cell(cell: JsonObject, lists: JsonObject) -> PlannedCell:
    """A planned cell from its JSON (`values`, `tier`, `runtime`) and its suites/chaos/load."""
    values = obj(cell["values"], "values")
    return PlannedCell(
        Cell(tuple((k, text(v, "values")) for k, v in values.items()), text(cell["tier"], "tier")),
        text(cell.get("runtime", "default"), "runtime"),
        tuple(texts(lists.get("suites", []), "suites")),
        tuple(texts(lists.get("chaos", []), "chaos")),
        tuple(texts(lists.get("load", []), "load")),
    )


def _group(g: JsonObject) -> CoverageGroup:
    return CoverageGroup(
        text(g["tier"], "tier"),
        text(g["strategy"], "strategy"),
        integer(g["t"], "t"),
        integer(g["required"], "required"),
        integer(g["covered"], "covered"),
        integer(g["cells"], "cells"),
        integer(g["invalid"], "invalid"),
    )


def plan_of(doc: JsonObject) -> Plan:
    """The plan a report was made for, rebuilt from its `plan` and `cells`."""
    plan = obj(doc["plan"], "plan")
    cells = objs(doc["cells"], "cells")
    planned = [planned_cell(c, obj(c.get("planned") or _suites_only(c), "planned")) for c in cells]
    coverage = obj(plan["coverage"], "plan.coverage")
    groups = tuple(_group(g) for g in objs(coverage.get("groups", []), "coverage.groups"))
    first: list[JsonValue] = list(obj(cells[0]["values"], "values")) if cells else []
    return Plan(
        text(plan["matrix"], "plan.matrix"),
        text(plan.get("matrix_path", ""), "plan.matrix_path"),
        text(plan["profile"], "plan.profile"),
        integer(plan["seed"], "plan.seed"),
        tuple(planned),
        groups,
        tuple(texts(plan.get("dimensions") or first, "plan.dimensions")),
    )


def _suites_only(cell: JsonObject) -> JsonObject:
    """What a report written before cells listed their plan says was planned: its suites."""
    return {"suites": [obj(s, "suites")["name"] for s in array(cell["suites"], "suites")]}


def _record(run_id: str, cell_id: str, base: JsonObject, test: JsonObject) -> Record:
    """One test entry of a cell as the record it was made from."""
    kind = text(test.get("kind", "scenario"), "kind")
    return Record(
        run_id=run_id,
        cell_id=cell_id,
        suite=text(test["suite"], "suite"),
        test_id=text(test["test_id"], "test_id"),
        status=text(test["status"], "status"),
        kind=kind,
        attempts=integer(test.get("attempts", 1), "attempts"),
        applicable=bool(test.get("applicable", True)),
        duration_s=number(test["duration_s"], "duration_s"),
        message=text(test.get("message", ""), "message"),
        started=text(test.get("started", ""), "started"),
        finished=text(test.get("finished", ""), "finished"),
        provenance={k: v for k, v in base.items() if k not in RECORD_KEYS},
        # reports before records kept their own findings had them per cell
        metrics=metrics_from_json(test.get("metrics", base.get("metrics"))),
        finding=finding_of(kind, {**base, **test}),
    )


def _pair(entry: JsonValue) -> tuple[str, str]:
    found = obj(entry, "test")
    return text(found["suite"], "suite"), text(found["test_id"], "test_id")


def evidence_of(doc: JsonObject, path: Path) -> Evidence:
    """Records and expectations of every cell of a report document."""
    run = dict(obj(doc["run"], "run"))
    run_id = text(run["id"], "run.id")
    records: list[Record] = []
    expected: dict[str, list[tuple[str, str]]] = {}
    for cell in objs(doc["cells"], "cells"):
        cell_id = text(cell["id"], "cell.id")
        base = obj(cell.get("provenance") or {}, "provenance")
        tests = objs(cell["tests"], "tests")
        # experiment and load results carry their own metrics (reports before that: the cell's)
        records.extend(_record(run_id, cell_id, base, test) for test in tests)
        unfinished = [_pair(u) for u in array(cell.get("unfinished", []), "unfinished")]
        if unfinished:  # what was collected: the tests with a result and those without
            done = [p for p in map(_pair, tests) if "::" in p[1]]
            expected[cell_id] = done + unfinished
    return Evidence(path, doc, run, plan_of(doc), records, expected)


def load_evidence(path: Path) -> Evidence:
    """Read, check and unpack the report at `path` (a report.json or a run folder)."""
    doc = read_report(path)
    return evidence_of(doc, report_path(path))
