"""Assemble the one aggregated Report from evidence, and write every output of a run."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from certify.config.policy import Policy
from certify.plan import Plan
from certify.report.aggregate import aggregate
from certify.report.gate import evaluate_gate
from certify.report.history import History, TrendPoint, history_of
from certify.report.model import Report, RunInputs
from certify.report.writers import write_all
from certify.results import RecordStore
from certify.results.findings import JsonObject


@dataclass(frozen=True)
class Decision:
    """How a finished run's report is decided: under which policy, cut short or not, history."""

    policy: Policy
    interrupted: str | None = None  # why the run stopped early (a signal), if it did
    history: Path | None = None  # the history folder to compare with and keep the report in


def _duration(run: JsonObject) -> float | None:
    try:
        started = datetime.fromisoformat(str(run["started"]).replace("Z", "+00:00"))
        finished = datetime.fromisoformat(str(run["finished"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return max(0.0, round((finished - started).total_seconds(), 3))


def assemble(
    inputs: RunInputs,
    policy: Policy,
    history: History | None = None,
    now: datetime | None = None,
) -> Report:
    """Aggregate records under `policy`, decide the gate, compare with history: the Report.

    The report's `run` is a copy of `inputs.run` with the run's duration added when missing.
    """
    run = dict(inputs.run)
    if "duration_s" not in run and (duration := _duration(run)) is not None:
        run["duration_s"] = duration
    interrupted = run.get("interrupted_reason") or (
        "interrupted" if run.get("interrupted") else None
    )
    problems = [str(run["evidence_error"])] if run.get("evidence_error") else []
    plan = inputs.plan
    cells, waivers = aggregate(plan, inputs.records, inputs.expected, policy, now)
    reason = str(interrupted) if interrupted else None
    gate = evaluate_gate(plan, cells, policy, reason, problems)
    report = Report(run, plan, cells, gate, waivers)
    if history is not None:
        summary = report.summary()
        took = run.get("duration_s")
        point = TrendPoint(
            str(run["id"]),
            str(run.get("started", "")),
            summary["verdicts"],
            summary["tests"],
            float(took) if isinstance(took, int | float) else 0.0,
            gate.verdict,
        )
        current = {(c.id, r.test_id): (r.status, r.duration_s) for c in cells for r in c.records}
        changes, trend = history_of(history, plan.profile, str(run["id"]), current, point)
        report = replace(report, changes=changes, trend=trend)
    return report


def publish(report: Report, out: Path, history: History | None = None) -> JsonObject:
    """Write every output of `report` to `out` and keep it in `history`; returns report.json."""
    out.mkdir(parents=True, exist_ok=True)
    doc = report.to_json()
    written = write_all(report, out, doc)[0]
    if history is not None:
        history.add(doc, written)
    return doc


def finalize(
    run: JsonObject, plan: Plan, store: RecordStore, out: Path, decision: Decision
) -> Report:
    """Aggregate the records of `run["id"]`, decide the gate and write all outputs to `out`.

    `run` gains what the report must say about it: why the run was interrupted, and why its
    evidence could not be read.
    """
    try:
        records = store.records(str(run["id"]))
        expected = store.expected(str(run["id"]))
    except (sqlite3.Error, ValueError, TypeError, KeyError) as exc:
        # unreadable evidence is no evidence: every cell ends incomplete and the gate says why
        records, expected = [], {}
        run["evidence_error"] = f"the record store {store.path} is unreadable: {exc}"
    if decision.interrupted:
        run["interrupted_reason"] = decision.interrupted
    kept = History(decision.history) if decision.history is not None else None
    report = assemble(RunInputs(run, plan, records, expected), decision.policy, kept)
    publish(report, out, kept)
    return report
