"""Assemble the one aggregated Report from evidence, and write every output of a run."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from certify.config.policy import Policy
from certify.plan import Plan
from certify.report.aggregate import aggregate
from certify.report.gate import evaluate_gate
from certify.report.history import History, TrendPoint, history_of
from certify.report.model import Report
from certify.report.writers import write_all
from certify.results import Record, RecordStore


def _duration(run: Mapping[str, Any]) -> float | None:
    try:
        started = datetime.fromisoformat(str(run["started"]).replace("Z", "+00:00"))
        finished = datetime.fromisoformat(str(run["finished"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return max(0.0, round((finished - started).total_seconds(), 3))


def assemble(
    run: dict[str, Any],
    plan: Plan,
    records: Iterable[Record],
    expected: Mapping[str, Sequence[tuple[str, str]]],
    policy: Policy,
    history: History | None = None,
    now: datetime | None = None,
) -> Report:
    """Aggregate records under `policy`, decide the gate, compare with history: the Report."""
    if "duration_s" not in run and (duration := _duration(run)) is not None:
        run["duration_s"] = duration
    interrupted = run.get("interrupted_reason") or (
        "interrupted" if run.get("interrupted") else None
    )
    problems = [str(run["evidence_error"])] if run.get("evidence_error") else []
    cells, waivers = aggregate(plan, records, expected, policy, now)
    gate = evaluate_gate(plan, cells, policy, interrupted, problems)
    report = Report(run, plan, cells, gate, waivers)
    if history is not None:
        summary = report.summary()
        point = TrendPoint(
            str(run["id"]),
            str(run.get("started", "")),
            summary["verdicts"],
            summary["tests"],
            float(run.get("duration_s") or 0.0),
            gate.verdict,
        )
        current = {(c.id, r.test_id): (r.status, r.duration_s) for c in cells for r in c.records}
        changes, trend = history_of(history, plan.profile, str(run["id"]), current, point)
        report = replace(report, changes=changes, trend=trend)
    return report


def publish(report: Report, out: Path, history: History | None = None) -> dict[str, Any]:
    """Write every output of `report` to `out` and keep it in `history`; returns report.json."""
    out.mkdir(parents=True, exist_ok=True)
    doc = report.to_json()
    written = write_all(report, out, doc)[0]
    if history is not None:
        history.add(doc, written)
    return doc


def finalize(
    run: dict[str, Any],
    plan: Plan,
    store: RecordStore,
    out: Path,
    policy: Policy,
    interrupted: str | None = None,
    history: Path | None = None,
) -> Report:
    """Aggregate the records of `run["id"]`, decide the gate and write all outputs to `out`."""
    records: list[Record] = []
    expected: dict[str, list[tuple[str, str]]] = {}
    try:
        records = store.records(run["id"])
        expected = store.expected(run["id"])
    except (sqlite3.Error, ValueError, TypeError, KeyError) as exc:
        # unreadable evidence is no evidence: every cell ends incomplete and the gate says why
        records, expected = [], {}
        run["evidence_error"] = f"the record store {store.path} is unreadable: {exc}"
    if interrupted:
        run["interrupted_reason"] = interrupted
    kept = History(history) if history is not None else None
    report = assemble(run, plan, records, expected, policy, kept)
    publish(report, out, kept)
    return report
