"""`certify run`: plan -> per cell: platform check, pytest in the runtime -> records -> report."""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from certify.errors import InfrastructureError, Interrupted
from certify.evidence import KINDS, EvidenceKind, KindJob, Settings
from certify.evidence.scenarios import with_suites
from certify.host.pool import Children, run_concurrently
from certify.host.process import raise_on_signals
from certify.host.provenance import collect, now
from certify.matrix.model import Matrix
from certify.plan import Plan, PlannedCell
from certify.platforms import Platform
from certify.platforms.base import Assessment, CellJob, PlatformSession, Runtime
from certify.platforms.sparkconf import jvm_key
from certify.pytest.claims import claimed_by
from certify.report import Policy, Report
from certify.report.digests import file_sha256
from certify.report.finalize import Decision, finalize
from certify.results import Outcome, RecordStore
from certify.run.resume import RunSpec, finished
from certify.run.schedule import Unit, plan_lanes, slots_for

# pytest's exit codes that mean its tests ran to the end (0 passed, 1 some failed)
_COMPLETED = (0, 1)


@dataclass(frozen=True)
class RunOptions:
    """How to run a plan."""

    out: Path
    root: Path
    platform: Platform
    argv: tuple[str, ...] = ()
    cell_timeout_s: float | None = 3600.0
    policy: Policy = field(default_factory=Policy)
    history: Path | None = None  # folder keeping every run's report.json; None keeps none
    resume: RunSpec | None = None  # the run to continue in `out` (its finished cells are kept)
    spec: RunSpec | None = None  # how this run was planned, saved for --resume
    workers: int | None = None  # -n N: at most N Spark drivers at once (None: the machine's choice)
    durations: dict[str, float] = field(default_factory=dict)  # seconds per cell, for ordering
    load_shape: str | None = None  # overrides every load entry's shape (certify load run)
    load_seconds: float | None = None  # overrides every load profile's duration


def new_run_id() -> str:
    """A unique, sortable run id."""
    return (
        now().replace(":", "").replace("-", "").replace(".", "")[:15] + "-" + uuid.uuid4().hex[:6]
    )


def execute(
    matrix: Matrix, plan: Plan, options: RunOptions, full_plan: Plan | None = None
) -> Report:
    """Run every planned cell, then aggregate and write the report (also when interrupted).

    `plan` holds the cells this invocation runs (a shard of `full_plan` when sharded);
    plan.json lists the full plan so `certify report merge` can tell a missing shard.
    """
    out = options.out
    if options.resume is None:
        _clear_outputs(out)
        (out / "plan.json").write_text(json.dumps((full_plan or plan).to_json(), indent=2) + "\n")
    store = RecordStore(out / "results.sqlite")
    run_id = options.resume.id if options.resume else new_run_id()
    if options.spec is not None and options.resume is None:
        replace(options.spec, id=run_id).write(out)
    run: dict[str, Any] = {
        "id": run_id,
        "profile": plan.profile,
        "matrix": plan.matrix,
        "platform": options.platform.name,
        "started": now(),
        "argv": list(options.argv),
        "provenance": collect(options.root),
        "resumed": options.resume is not None,
        # what the run was decided from: `certify gate` refuses a matrix or policy changed since
        "policy_sha256": options.policy.digest(),
    }
    if (matrix_sha256 := file_sha256(matrix.path)) is not None:
        run["matrix_sha256"] = matrix_sha256
    spec = options.resume or options.spec
    if spec is not None and spec.shard:
        run["shard"] = spec.shard
    interrupted: Interrupted | None = None
    try:
        with raise_on_signals():
            _run_cells(matrix, plan, options, store, run_id)
    except Interrupted as exc:
        interrupted = exc
    run["finished"] = now()
    run["interrupted"] = interrupted is not None
    why = str(interrupted) if interrupted else None
    report = finalize(run, plan, store, out, Decision(options.policy, why, options.history))
    if interrupted is not None:
        raise interrupted
    return report


def _run_cells(
    matrix: Matrix, plan: Plan, options: RunOptions, store: RecordStore, run_id: str
) -> None:
    """Assess every cell; start the services the runnable ones need; run them per runtime."""
    platform = options.platform
    runnable: list[tuple[PlannedCell, Runtime]] = []
    assessments: dict[str, Assessment] = {}
    for planned in plan.cells:
        if options.resume is not None:
            if finished(store, run_id, planned):
                continue
            store.delete_cell(run_id, planned.cell.id)
        found = platform.assess(matrix, planned, fetch=True)
        if not found.runnable:
            _record_all(store, run_id, planned, "not_run", found.reason or "not runnable here")
            continue
        try:
            runtime = platform.runtime(matrix, planned)
        except InfrastructureError as exc:
            _record_all(store, run_id, planned, "not_run", f"its runtime is not available: {exc}")
            continue
        runnable.append((planned, runtime))
        assessments[planned.cell.id] = found
    if not runnable:
        return
    cells = [p for p, _ in runnable]
    slots = slots_for(options.workers, len(cells))
    try:
        session = platform.start(
            matrix, cells, options.out / "evidence" / "services", "run", assessments, slots
        )
    except InfrastructureError as exc:
        for planned in cells:
            _record_all(store, run_id, planned, "error", f"platform services failed: {exc}")
        return
    jobs = CellJobs(session, options, store, run_id)
    try:
        ready = []
        for planned, runtime in runnable:
            why = session.failed(planned)
            if why is not None:  # a service of its own (its Connect server) did not start
                _record_all(store, run_id, planned, "error", f"platform services failed: {why}")
            else:
                ready.append(jobs(planned, runtime))
        _run_jobs(matrix, plan, options, ready, slots)
    finally:
        session.stop()


@dataclass(frozen=True)
class CellJobs:
    """Makes the CellJob of each runnable cell in the run's platform session."""

    session: PlatformSession
    options: RunOptions
    store: RecordStore
    run_id: str

    def __call__(self, planned: PlannedCell, runtime: Runtime) -> CellJob:
        """The cell's job."""
        out, root = self.options.out, self.options.root
        return CellJob(planned, runtime, self.session, out, root, self.store, self.run_id)


def _run_jobs(
    matrix: Matrix, plan: Plan, options: RunOptions, jobs: list[CellJob], slots: int
) -> None:
    """Shared kinds (scenarios) in batches over the run's slots, then exclusive ones, alone."""
    profile = matrix.spec.profiles.get(plan.profile)
    settings = Settings(
        workers=slots,
        durations=options.durations,
        cell_timeout_s=options.cell_timeout_s,
        load_shape=options.load_shape,
        load_seconds=options.load_seconds,
        loads={e.name: e for e in profile.load} if profile is not None else {},
    )
    ready = with_suites(jobs)
    by_id = {j.cell_id: j for j in ready}
    units = [Unit(j.cell_id, j.runtime.name, _jvm_key(j)) for j in ready]
    claims = options.out / "evidence" / "claims"
    shutil.rmtree(claims, ignore_errors=True)  # a resumed run claims its unfinished cells anew
    shared = [k for k in KINDS if not k.exclusive]
    work = [
        partial(_run_lane, [by_id[c] for c in lane.cells], shared, settings, f"lane-{i}", claims)
        for i, lane in enumerate(plan_lanes(units, slots, options.durations), 1)
    ]
    run_concurrently(work, slots)
    _record_unclaimed(ready, claims)
    exclusive = [k for k in KINDS if k.exclusive]
    if any(k.planned(j.planned) for k in exclusive for j in jobs):
        run_concurrently([partial(_run_lane, jobs, exclusive, settings, "exclusive", None)], 1)


def _jvm_key(job: CellJob) -> str:
    """The cell's driver-JVM key ("" for a Connect client or a cell without Spark)."""
    conf = job.session.options(job.planned, job.workdir.resolve(), job.run_id).spark.conf
    return jvm_key(conf) if conf is not None else ""


def _run_lane(
    cells: list[CellJob],
    kinds: list[EvidenceKind],
    settings: Settings,
    name: str,
    claims: Path | None,
    children: Children,
) -> None:
    """The lane's cells through `kinds`, in order (those another lane has not claimed)."""
    if claims is not None and all(claimed_by(claims, c.cell_id) for c in cells):
        return  # the runtime's other lanes took every cell: no process to start
    job = KindJob(cells, settings, children, name, claims)
    for kind in kinds:
        kind.run(job)


def _has_scenario_records(job: CellJob) -> bool:
    """Whether the cell has any scenario record (a collection error is recorded per cell)."""
    return any(r.kind == "scenario" for r in job.store.records(job.run_id, job.cell_id))


def _record_unclaimed(jobs: list[CellJob], claims: Path) -> None:
    """A cell no lane claimed and nothing recorded (every pytest of its runtime died before
    reaching it) is an error: it must not look merely unfinished."""
    for job in jobs:
        if claimed_by(claims, job.cell_id) is None and not _has_scenario_records(job):
            for suite in job.planned.suites:
                outcome = Outcome(job.run_id, job.cell_id, "scenario", suite)
                job.store.add(
                    outcome.record(
                        "error",
                        "its scenarios never started: every pytest of its runtime ended before "
                        "reaching it (see evidence/lane-*/pytest.log)",
                        test_id=f"{suite}::<pytest>",
                    )
                )


def _record_all(
    store: RecordStore, run_id: str, planned: PlannedCell, status: str, message: str
) -> None:
    """One record per suite, experiment and load profile of the cell (a cell that did not run)."""
    for kind in KINDS:
        for name in kind.planned(planned):
            store.add(Outcome(run_id, planned.cell.id, kind.kind, name).record(status, message))


def _clear_outputs(out: Path) -> None:
    """Remove what an earlier run wrote to `out` (only certify's own files)."""
    import shutil

    out.mkdir(parents=True, exist_ok=True)
    for name in ("evidence", "work", "allure-results"):
        shutil.rmtree(out / name, ignore_errors=True)
    for pattern in ("results.sqlite*", "report.*", "junit.xml", "plan.json"):
        for path in out.glob(pattern):
            path.unlink()
