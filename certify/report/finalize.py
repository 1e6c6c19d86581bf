"""Turn a run's stored records into the report and write every output to the run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from certify.plan import Plan
from certify.report.gate import Policy, evaluate_gate
from certify.report.model import Report, build_cells
from certify.report.writers import write_all
from certify.results import RecordStore


def finalize(
    run: dict[str, Any],
    plan: Plan,
    store: RecordStore,
    out: Path,
    policy: Policy,
    interrupted: str | None = None,
) -> Report:
    """Aggregate the records of `run["id"]`, decide the gate and write all outputs to `out`."""
    cells = build_cells(plan, store.records(run["id"]), store.expected(run["id"]))
    report = Report(run, plan, cells, evaluate_gate(plan, cells, policy, interrupted))
    write_all(report, out)
    return report
