"""The aggregated report every output renders: cells with their criteria, the gate, history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypedDict

from certify.config.policy import Waiver
from certify.plan import Plan, PlannedCell
from certify.report.chaosload import (
    RECORD_KEYS,
    ChaosRow,
    LoadRow,
    chaos_rows,
    load_rows,
    suite_detail,
)
from certify.report.history import Changes, TrendPoint
from certify.results import Record
from certify.results.findings import JsonObject, JsonValue, findings_json

REPORT_SCHEMA = "certify.report/1"
# How a criterion is named from the kind of evidence behind it (policy rules use their own name).
_PREFIX = {
    "scenario": "suite",
    "experiment": "chaos",
    "load": "load",
    "slo": "slo",
    "chaos-criteria": "chaos-criteria",
}


@dataclass(frozen=True)
class Check:
    """One check a policy rule made on one record: its threshold, what was measured, met."""

    criterion: str  # the policy rule's name
    check: str  # what it checked, e.g. max_recovery_s
    threshold: JsonValue
    measured: JsonValue
    met: bool | None  # None: nothing was measured (fail closed)
    blocking: bool

    def to_json(self) -> JsonObject:
        """The JSON form (one entry of a criterion's `checks` in report.json)."""
        return {
            "criterion": self.criterion,
            "check": self.check,
            "threshold": self.threshold,
            "measured": self.measured,
            "met": self.met,
            "blocking": self.blocking,
        }


@dataclass(frozen=True)
class SuiteResult:
    """Outcome of one criterion on one cell: a suite, experiment, load profile, SLO or rule."""

    name: str
    verdict: str
    counts: dict[str, int]
    reasons: tuple[str, ...]
    kind: str = "scenario"
    required: bool = True
    waived_by: str = ""
    # False when every test of the suite was not_run because it does not apply to the cell's
    # values (`requires`): shown with its reasons, left out of the cell's verdict
    applicable: bool = True
    # what a policy rule checked (chaos criteria: threshold, measured, met)
    checks: tuple[Check, ...] = ()

    @property
    def criterion(self) -> str:
        """The name policies and waivers use, e.g. `suite:smoke`, `slo:p95`, `flaky`."""
        prefix = _PREFIX.get(self.kind)
        return f"{prefix}:{self.name}" if prefix else self.name


@dataclass(frozen=True)
class CellResult:
    """Outcome of one cell: its verdict, the reasons for it, and every record behind it."""

    planned: PlannedCell
    verdict: str
    reasons: tuple[str, ...]
    suites: tuple[SuiteResult, ...]
    records: tuple[Record, ...]
    unfinished: tuple[tuple[str, str], ...] = ()

    @cached_property
    def id(self) -> str:
        """The cell id (computed once: every output asks for it per test)."""
        return self.planned.cell.id

    @cached_property
    def measured(self) -> tuple[Record, ...]:
        """The cell's experiment and load records (one pass; the chaos/load sections read them)."""
        return tuple(r for r in self.records if r.kind == "experiment" or r.kind == "load")

    @cached_property
    def chaos_section(self) -> tuple[ChaosRow, ...]:
        """One row per experiment of the cell (computed once for every output)."""
        return chaos_rows(self.measured, {s.criterion: s.verdict for s in self.suites})

    @cached_property
    def load_section(self) -> tuple[LoadRow, ...]:
        """One row per load profile of the cell, with SLOs and windows (computed once)."""
        return load_rows(self.measured, {s.criterion: s.verdict for s in self.suites})


@dataclass(frozen=True)
class WaiverUse:
    """A waiver of the policy and what it did in this run."""

    waiver: Waiver
    status: str  # active, expired or unused
    cells: tuple[str, ...] = ()

    def to_json(self) -> JsonObject:
        """The JSON form in report.json's `waivers`."""
        return {
            "cells": self.waiver.cells,
            "criterion": self.waiver.criterion,
            "reason": self.waiver.reason,
            "owner": self.waiver.owner,
            "expires": self.waiver.expires.isoformat(),
            "status": self.status,
            "applied_to": list(self.cells),
        }


@dataclass(frozen=True)
class Gate:
    """The release decision and every reason for it."""

    verdict: str
    reasons: tuple[str, ...]
    policy: JsonObject = field(default_factory=dict)  # the policy as report.json embeds it

    @property
    def passed(self) -> bool:
        """True when the gate lets the release through."""
        return self.verdict == "pass"


@dataclass(frozen=True)
class RunInputs:
    """What a report is decided from: the run, its plan, its records and the tests collected.

    `run` is report.json's `run` object (id, profile, times, provenance, ...); `expected` the
    (suite, test id) pairs collected per cell, so that a test without a result is missed.
    """

    run: JsonObject
    plan: Plan
    records: Sequence[Record]
    expected: Mapping[str, Sequence[tuple[str, str]]] = field(default_factory=dict)


class Summary(TypedDict):
    """Counts of cells by verdict and of records by status (report.json's `summary`)."""

    cells: int
    verdicts: dict[str, int]
    tests: dict[str, int]


@dataclass(frozen=True)
class Report:
    """Everything the outputs (JSON, Markdown, HTML, JUnit, Allure) render, built once."""

    run: JsonObject  # report.json's `run` as it is written: id, profile, times, provenance
    plan: Plan
    cells: tuple[CellResult, ...]
    gate: Gate
    waivers: tuple[WaiverUse, ...] = ()
    changes: Changes | None = None
    trend: tuple[TrendPoint, ...] = ()

    def summary(self) -> Summary:
        """Counts of cells by verdict and of records by status."""
        statuses = Counter(r.status for c in self.cells for r in c.records)
        return {
            "cells": len(self.cells),
            "verdicts": dict(Counter(c.verdict for c in self.cells)),
            "tests": dict(statuses),
        }

    def to_json(self) -> JsonObject:
        """The `certify.report/1` document."""
        summary = self.summary()
        return {
            "schema": REPORT_SCHEMA,
            "run": self.run,
            "plan": {
                "profile": self.plan.profile,
                "matrix": self.plan.matrix,
                "matrix_path": self.plan.matrix_path,
                "seed": self.plan.seed,
                "dimensions": list(self.plan.dimensions),
                "coverage": self.plan.coverage(),
            },
            "summary": {
                "cells": summary["cells"],
                "verdicts": dict(summary["verdicts"]),
                "tests": dict(summary["tests"]),
            },
            "cells": [cell_json(c) for c in self.cells],
            "gate": {
                "verdict": self.gate.verdict,
                "reasons": list(self.gate.reasons),
                "policy": self.gate.policy,
            },
            "waivers": [w.to_json() for w in self.waivers],
            "changes": self.changes.to_json() if self.changes else None,
        }


def suite_json(s: SuiteResult, records: tuple[Record, ...] = ()) -> JsonObject:
    """One criterion result as JSON; experiments and loads add what their records measured."""
    out: JsonObject = {
        "name": s.name,
        "criterion": s.criterion,
        "kind": s.kind,
        "required": s.required,
        "applicable": s.applicable,
        "verdict": s.verdict,
        "counts": dict(s.counts),
        "reasons": list(s.reasons),
    }
    if s.waived_by:
        out["waived_by"] = s.waived_by
    if s.checks:
        out["checks"] = [c.to_json() for c in s.checks]
    if s.kind in ("experiment", "load") and records:
        out.update(suite_detail(s.kind, s.name, records))
    return out


def record_json(r: Record) -> JsonObject:
    """One record as a report test entry (the cell and run are implied by where it sits).

    Experiment and load records keep their own metrics and chaos/load findings, so that
    `certify gate` can decide a report.json again with the same evidence.
    """
    out: JsonObject = {
        "test_id": r.test_id,
        "suite": r.suite,
        "status": r.status,
        "kind": r.kind,
        "attempts": r.attempts,
        "applicable": r.applicable,
        "duration_s": r.duration_s,
        "message": r.message,
        "started": r.started,
        "finished": r.finished,
    }
    if r.kind in ("experiment", "load"):
        out.update(findings_json(r.metrics, r.finding))
    return out


def cell_json(cell: CellResult) -> JsonObject:
    """One cell as JSON, with everything needed to decide its verdict again."""
    planned = cell.planned
    return {
        "id": cell.id,
        "values": dict(planned.cell.values),
        "tier": planned.cell.tier,
        "runtime": planned.runtime,
        "planned": {
            "suites": list(planned.suites),
            "chaos": list(planned.chaos),
            "load": list(planned.load),
        },
        "verdict": cell.verdict,
        "reasons": list(cell.reasons),
        "suites": [suite_json(s, cell.measured) for s in cell.suites],
        "tests": [record_json(r) for r in cell.records],
        "unfinished": [{"suite": s, "test_id": t} for s, t in cell.unfinished],
        "provenance": _cell_provenance(cell),
        "chaos": [row.to_json() for row in cell.chaos_section],
        "load": [row.to_json() for row in cell.load_section],
    }


def _cell_provenance(cell: CellResult) -> JsonObject:
    """What produced the cell's records (versions, host), without one record's own findings."""
    if not cell.records:
        return {}
    first = cell.records[0].provenance
    return {k: v for k, v in first.items() if k not in RECORD_KEYS}
