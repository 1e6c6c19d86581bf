"""`certify load run`: the load entries of a profile on its cells, then the report and gate."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from certify.config.policy import Policy
from certify.errors import InfrastructureError, UsageError
from certify.load.runner import run_load
from certify.matrix.model import Matrix
from certify.plan import Plan, PlannedCell
from certify.platforms import Platform
from certify.platforms.base import PlatformSession, Runtime
from certify.report import Report
from certify.report.finalize import finalize
from certify.results import Record, RecordStore
from certify.run.process import Interrupted, raise_on_signals
from certify.run.provenance import collect, now


@dataclass(frozen=True)
class LoadRunOptions:
    """How to run a profile's load entries."""

    out: Path
    root: Path
    platform: Platform
    policy: Policy
    argv: tuple[str, ...] = ()
    shape: str | None = None  # overrides every entry's shape
    seconds: float | None = None  # overrides every profile's duration
    timeout_s: float = 600.0


def load_plan(plan: Plan, profile: str, only: str | None = None) -> Plan:
    """`plan` reduced to its load entries (only `only` if given), on the cells that have any."""
    cells = []
    for planned in plan.cells:
        names = tuple(n for n in planned.load if only is None or n == only)
        if names:
            cells.append(replace(planned, suites=(), chaos=(), load=names))
    if not cells:
        known = sorted({n for p in plan.cells for n in p.load})
        what = f"load profile {only!r}" if only else "load entries"
        raise UsageError(
            f"profile {profile!r} plans no {what} on any cell (its load profiles: "
            f"{', '.join(known) or 'none'}); add `load:` entries to the profile or pick another"
        )
    return replace(plan, cells=tuple(cells))


def execute_load(matrix: Matrix, plan: Plan, options: LoadRunOptions) -> Report:
    """Run every load entry of `plan`, then write the report (also when interrupted)."""
    from certify.run.runner import new_run_id

    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    for name in ("evidence", "work"):
        shutil.rmtree(out / name, ignore_errors=True)
    for stale in [*out.glob("results.sqlite*"), *out.glob("report.*")]:
        stale.unlink()
    (out / "plan.json").write_text(json.dumps(plan.to_json(), indent=2) + "\n")
    store = RecordStore(out / "results.sqlite")
    run: dict[str, Any] = {
        "id": new_run_id(), "profile": plan.profile, "matrix": plan.matrix,
        "platform": options.platform.name, "started": now(), "argv": list(options.argv),
        "provenance": collect(options.root), "resumed": False, "mode": "load",
    }  # fmt: skip
    interrupted: Interrupted | None = None
    try:
        with raise_on_signals():
            _run_cells(matrix, plan, options, store, str(run["id"]))
    except Interrupted as exc:
        interrupted = exc
    run["finished"] = now()
    run["interrupted"] = interrupted is not None
    why = str(interrupted) if interrupted else None
    report = finalize(run, plan, store, out, options.policy, why)
    if interrupted is not None:
        raise interrupted
    return report


def _not_run(store: RecordStore, run_id: str, planned: PlannedCell, status: str, why: str) -> None:
    for name in planned.load:
        store.add(
            Record(run_id, planned.cell.id, name, f"load/{name}", status, kind="load",
                   message=why, started=now(), finished=now())
        )  # fmt: skip


def _run_cells(
    matrix: Matrix, plan: Plan, options: LoadRunOptions, store: RecordStore, run_id: str
) -> None:
    """Assess the cells, start their services once, run each cell's load entries in turn."""
    platform = options.platform
    runnable: list[tuple[PlannedCell, Runtime]] = []
    assessments = {}
    for planned in plan.cells:
        found = platform.assess(matrix, planned, fetch=True)
        if not found.runnable:
            _not_run(store, run_id, planned, "not_run", found.reason or "not runnable here")
            continue
        try:
            runnable.append((planned, platform.runtime(matrix, planned)))
        except InfrastructureError as exc:
            _not_run(store, run_id, planned, "not_run", f"its runtime is not available: {exc}")
            continue
        assessments[planned.cell.id] = found
    if not runnable:
        return
    cells = [p for p, _ in runnable]
    try:
        session = platform.start(
            matrix, cells, options.out / "evidence" / "services", "run", assessments
        )
    except InfrastructureError as exc:
        for planned in cells:
            _not_run(store, run_id, planned, "error", f"platform services failed: {exc}")
        return
    try:
        for planned, runtime in runnable:
            _run_cell(matrix, plan, planned, runtime, session, options, store, run_id)
    finally:
        session.stop()


def _run_cell(
    matrix: Matrix, plan: Plan, planned: PlannedCell, runtime: Runtime,
    session: PlatformSession, options: LoadRunOptions, store: RecordStore, run_id: str,
) -> None:  # fmt: skip
    entries = {e.name: e for e in matrix.spec.profiles[plan.profile].load}
    for name in planned.load:
        entry = entries.get(name)
        record = run_load(
            name, planned, runtime, session, options.out, options.root, store, run_id,
            shape=options.shape or (entry.shape if entry else None),
            timeout_s=options.timeout_s, seconds=options.seconds,
        )  # fmt: skip
        if entry is not None and entry.during:
            # the fault of `during` is certify run's: here the load runs without it, and says so
            note = f"; during={entry.during} is run by `certify run`, not `certify load run`"
            store.add(replace(record, message=record.message + note))
