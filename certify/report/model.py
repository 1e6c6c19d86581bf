"""The aggregated report: records -> per-suite and per-cell verdicts -> the run's gate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from certify.plan import Plan, PlannedCell
from certify.report.verdict import suite_verdict, worst
from certify.results import Record

REPORT_SCHEMA = "certify.report/1"
_REASON_LIMIT = 300


@dataclass(frozen=True)
class SuiteResult:
    """Outcome of one suite on one cell."""

    name: str
    verdict: str
    counts: dict[str, int]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class CellResult:
    """Outcome of one cell: its verdict, the reasons for it, and every record behind it."""

    planned: PlannedCell
    verdict: str
    reasons: tuple[str, ...]
    suites: tuple[SuiteResult, ...]
    records: tuple[Record, ...]

    @property
    def id(self) -> str:
        """The cell id."""
        return self.planned.cell.id


@dataclass(frozen=True)
class Gate:
    """The release decision and every reason for it."""

    verdict: str
    reasons: tuple[str, ...]
    policy: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when the gate lets the release through."""
        return self.verdict == "pass"


@dataclass(frozen=True)
class Report:
    """Everything the outputs (JSON, Markdown, JUnit) render, built once."""

    run: dict[str, Any]
    plan: Plan
    cells: tuple[CellResult, ...]
    gate: Gate

    def summary(self) -> dict[str, Any]:
        """Counts of cells by verdict and of records by status."""
        statuses = Counter(r.status for c in self.cells for r in c.records)
        return {
            "cells": len(self.cells),
            "verdicts": dict(Counter(c.verdict for c in self.cells)),
            "tests": dict(statuses),
        }

    def to_json(self) -> dict[str, Any]:
        """The `certify.report/1` document."""
        return {
            "schema": REPORT_SCHEMA,
            "run": self.run,
            "plan": {
                "profile": self.plan.profile,
                "matrix": self.plan.matrix,
                "seed": self.plan.seed,
                "coverage": self.plan.coverage(),
            },
            "summary": self.summary(),
            "cells": [_cell_json(c) for c in self.cells],
            "gate": {
                "verdict": self.gate.verdict,
                "reasons": list(self.gate.reasons),
                "policy": self.gate.policy,
            },
        }


def _cell_json(cell: CellResult) -> dict[str, Any]:
    return {
        "id": cell.id,
        "values": cell.planned.cell.values,
        "tier": cell.planned.cell.tier,
        "runtime": cell.planned.runtime,
        "verdict": cell.verdict,
        "reasons": list(cell.reasons),
        "suites": [
            {"name": s.name, "verdict": s.verdict, "counts": s.counts, "reasons": list(s.reasons)}
            for s in cell.suites
        ],
        "tests": [
            {
                "test_id": r.test_id,
                "suite": r.suite,
                "status": r.status,
                "kind": r.kind,
                "attempts": r.attempts,
                "duration_s": r.duration_s,
                "message": r.message,
                "started": r.started,
                "finished": r.finished,
            }
            for r in cell.records
        ],
        "provenance": cell.records[0].provenance if cell.records else {},
    }


def _first_line(text: str) -> str:
    line = next(
        (ln.strip() for ln in text.splitlines() if ln.strip().startswith("E ")),
        text.strip().splitlines()[-1] if text.strip() else "",
    )
    return line[:_REASON_LIMIT]


def _suite_result(name: str, records: Sequence[Record], expected: Sequence[str]) -> SuiteResult:
    statuses = [r.status for r in records]
    verdict = suite_verdict(statuses)
    reasons: list[str] = []
    if not records:
        reasons.append(f"suite {name}: no results recorded (the run did not finish it)")
    # the failures first: they are what a reader must see
    for record in sorted(records, key=lambda r: r.status == "not_run"):
        if record.status not in ("passed", "flaky", "skipped"):
            reasons.append(f"{record.test_id}: {record.status}: {_first_line(record.message)}")
    if records and verdict == "incomplete":
        reasons.append(f"suite {name}: every test was skipped, nothing was certified")
    done = {r.test_id for r in records}
    unfinished = [t for t in expected if t not in done]
    if unfinished:
        verdict = worst([verdict, "incomplete"])
        reasons.append(
            f"suite {name}: {len(unfinished)} of {len(expected)} collected tests have no "
            f"result (first: {unfinished[0]})"
        )
    return SuiteResult(name, verdict, dict(Counter(statuses)), tuple(reasons))


def cell_result(
    planned: PlannedCell, records: Sequence[Record], expected: Sequence[tuple[str, str]] = ()
) -> CellResult:
    """Verdict of one cell from its records: the worst verdict of its required suites.

    `expected` lists the (suite, test id) pairs collected for the cell; any without a record
    makes its suite incomplete.
    """
    by_suite: dict[str, list[Record]] = {s: [] for s in planned.suites}
    for record in records:
        by_suite.setdefault(record.suite, []).append(record)
    suites = tuple(
        _suite_result(name, by_suite[name], [t for s, t in expected if s == name])
        for name in planned.suites
    )
    extra = [r for s, rs in by_suite.items() if s not in planned.suites for r in rs]
    verdict = worst(s.verdict for s in suites)
    reasons = [reason for s in suites if s.verdict == verdict for reason in s.reasons]
    return CellResult(
        planned,
        verdict,
        tuple(reasons),
        suites,
        tuple(r for s in planned.suites for r in by_suite[s]) + tuple(extra),
    )


def build_cells(
    plan: Plan,
    records: Sequence[Record],
    expected: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> tuple[CellResult, ...]:
    """Every planned cell's result; records of cells outside the plan are ignored."""
    grouped: dict[str, list[Record]] = {}
    for record in records:
        grouped.setdefault(record.cell_id, []).append(record)
    expected = expected or {}
    return tuple(
        cell_result(p, grouped.get(p.cell.id, []), expected.get(p.cell.id, ())) for p in plan.cells
    )
