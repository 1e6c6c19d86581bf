"""`certify chaos run`: the profile's chaos experiments on its runnable cells, then the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from certify.chaos.runner import run_experiment
from certify.config.policy import Policy
from certify.errors import InfrastructureError
from certify.matrix.model import Matrix
from certify.plan import Plan, PlannedCell
from certify.platforms import LocalPlatform
from certify.platforms.base import Runtime
from certify.report import Report
from certify.report.finalize import finalize
from certify.results import Record, RecordStore
from certify.run.process import Interrupted, raise_on_signals
from certify.run.provenance import collect, now
from certify.run.runner import new_run_id


def execute_chaos(
    matrix: Matrix, plan: Plan, out: Path, root: Path, policy: Policy, argv: tuple[str, ...]
) -> Report:
    """Run every planned experiment, write the report (also when interrupted)."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "evidence", ignore_errors=True)
    for stale in out.glob("results.sqlite*"):
        stale.unlink()
    (out / "plan.json").write_text(json.dumps(plan.to_json(), indent=2) + "\n")
    store = RecordStore(out / "results.sqlite")
    run_id = new_run_id()
    run: dict[str, Any] = {
        "id": run_id,
        "profile": plan.profile,
        "matrix": plan.matrix,
        "platform": "local",
        "started": now(),
        "argv": list(argv),
        "provenance": collect(root),
        "resumed": False,
    }
    interrupted: Interrupted | None = None
    try:
        with raise_on_signals():
            _run(matrix, plan, out, root, store, run_id)
    except Interrupted as exc:
        interrupted = exc
    run["finished"] = now()
    run["interrupted"] = interrupted is not None
    report = finalize(run, plan, store, out, policy, str(interrupted) if interrupted else None)
    if interrupted is not None:
        raise interrupted
    return report


def _not_all(store: RecordStore, run_id: str, planned: PlannedCell, status: str, why: str) -> None:
    for name in planned.chaos:
        store.add(
            Record(
                run_id,
                planned.cell.id,
                name,
                f"chaos/{name}",
                status,
                kind="experiment",
                message=why,
                started=now(),
                finished=now(),
            )
        )


def _run(
    matrix: Matrix, plan: Plan, out: Path, root: Path, store: RecordStore, run_id: str
) -> None:
    platform = LocalPlatform()
    runnable: list[tuple[PlannedCell, Runtime]] = []
    found = {}
    for planned in (p for p in plan.cells if p.chaos):
        store.expect(run_id, planned.cell.id, [(n, f"chaos/{n}") for n in planned.chaos])
        assessment = platform.assess(matrix, planned, fetch=True)
        if not assessment.runnable:
            _not_all(store, run_id, planned, "not_run", assessment.reason or "not runnable here")
            continue
        try:
            runtime = platform.runtime(matrix, planned)
        except InfrastructureError as exc:
            _not_all(store, run_id, planned, "not_run", f"its runtime is not available: {exc}")
            continue
        runnable.append((planned, runtime))
        found[planned.cell.id] = assessment
    if not runnable:
        return
    cells = [p for p, _ in runnable]
    try:
        session = platform.start(matrix, cells, out / "evidence" / "services", "run", found)
    except InfrastructureError as exc:
        for planned in cells:
            _not_all(store, run_id, planned, "error", f"platform services failed: {exc}")
        return
    try:
        for planned, runtime in runnable:
            for name in planned.chaos:
                run_experiment(name, planned, runtime, session, out, root, store, run_id)
    finally:
        session.stop()
