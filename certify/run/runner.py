"""`certify run`: plan -> per cell: platform check, pytest in the runtime -> records -> report."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from certify.cell import cell_slug
from certify.config.models import LoadEntry
from certify.errors import InfrastructureError, Interrupted
from certify.host.pool import (
    PARALLEL_VAR,
    Children,
    available_memory_gib,
    run_concurrently,
    session_marker,
)
from certify.host.process import raise_on_signals
from certify.host.provenance import PROVENANCE_VAR, collect, now
from certify.matrix.model import Matrix
from certify.plan import Plan, PlannedCell
from certify.platforms import Platform
from certify.platforms.base import Assessment, PlatformSession, Runtime
from certify.report import Policy, Report
from certify.report.finalize import finalize
from certify.results import Record, RecordStore
from certify.run.resume import RunSpec, finished

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
    parallel_runtimes: int | None = None
    history: Path | None = None  # folder keeping every run's report.json; None keeps none
    resume: RunSpec | None = None  # the run to continue in `out` (its finished cells are kept)
    spec: RunSpec | None = None  # how this run was planned, saved for --resume
    workers: int | None = None  # -n N: one pytest-xdist run per runtime with N workers
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
    }
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
    report = finalize(run, plan, store, out, options.policy, why, options.history)
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
    try:
        session = platform.start(
            matrix, cells, options.out / "evidence" / "services", "run", assessments
        )
    except InfrastructureError as exc:
        for planned in cells:
            _record_all(store, run_id, planned, "error", f"platform services failed: {exc}")
        return
    try:
        groups: dict[str, list[tuple[PlannedCell, Runtime]]] = {}
        for planned, runtime in runnable:
            groups.setdefault(runtime.name, []).append((planned, runtime))
        profile = matrix.spec.profiles.get(plan.profile)
        loads = {e.name: e for e in profile.load} if profile is not None else {}
        work = [
            partial(_run_group, g, options, store, run_id, session, loads) for g in groups.values()
        ]
        run_concurrently(work, _parallelism(len(work), options))
    finally:
        session.stop()


def _parallelism(groups: int, options: RunOptions) -> int:
    """How many runtimes run at once: cores and memory permitting (or as configured)."""
    if options.parallel_runtimes:
        return max(1, min(groups, options.parallel_runtimes))
    configured = os.environ.get(PARALLEL_VAR, "")
    if configured.isdigit():
        return max(1, min(groups, int(configured)))
    cores = os.cpu_count() or 1
    # a runtime's cell holds a driver JVM plus its executors or a server: about 3 GiB at peak
    # (benchmarks/services.py measures two runtimes at once against one after the other)
    return max(1, min(groups, cores, int(available_memory_gib() // 3)))


def _run_group(
    group: list[tuple[PlannedCell, Runtime]],
    options: RunOptions,
    store: RecordStore,
    run_id: str,
    session: PlatformSession,
    loads: Mapping[str, LoadEntry],
    children: Children,
) -> None:
    """The cells of one runtime: one pytest per cell, or one pytest-xdist run for all (-n N)."""
    ready = [(p, rt) for p, rt in group if _suites(p, options, store, run_id)]
    if options.workers:
        ready.sort(key=lambda pr: -options.durations.get(pr[0].cell.id, 0.0))  # longest first
        batches = [ready] if ready else []
    else:
        batches = [[one] for one in ready]
    for batch in batches:
        _run_batch(batch, options, store, run_id, session, children)
    for planned, runtime in group:
        if planned.chaos or planned.load:
            _run_chaos_and_load(planned, runtime, options, store, run_id, session, loads)


def _run_chaos_and_load(
    planned: PlannedCell,
    runtime: Runtime,
    options: RunOptions,
    store: RecordStore,
    run_id: str,
    session: PlatformSession,
    entries: Mapping[str, LoadEntry],
) -> None:
    """The cell's chaos experiments, then its load profiles (each possibly under an experiment).

    An experiment that a load profile names in `during` runs under that load only: its record
    and the load's before/during/after windows are one piece of evidence.
    """
    from certify.chaos.runner import run_experiment
    from certify.load.runner import FaultWindow, run_load

    under_load = {e.during for e in entries.values() if e.during and e.name in planned.load}
    common = (planned, runtime, session, options.out, options.root, store, run_id)
    for name in planned.chaos:
        if name not in under_load:
            print(f"certify: chaos {name} on {planned.cell.id}", file=sys.stderr, flush=True)
            run_experiment(name, *common)
    for name in planned.load:
        entry = entries.get(name)
        during = None
        if entry is not None and entry.during:
            experiment = entry.during

            def during(experiment: str = experiment) -> FaultWindow | None:
                record = run_experiment(experiment, *common)
                window = record.provenance.get("chaos", {}).get("fault_window") or {}
                if "start" not in window or "end" not in window:
                    return None
                return FaultWindow(float(window["start"]), float(window["end"]))

        shape = options.load_shape or (entry.shape if entry is not None else None)
        print(f"certify: load {name} on {planned.cell.id}", file=sys.stderr, flush=True)
        during_name = entry.during if entry is not None else None
        run_load(
            name,
            *common,
            shape=shape,
            during=during,
            during_name=during_name,
            seconds=options.load_seconds,
        )
        if entry is not None and entry.during and not _has_record(store, run_id, planned, entry):
            # the load did not apply or did not get to its fault: the experiment still runs
            run_experiment(entry.during, *common)


def _has_record(store: RecordStore, run_id: str, planned: PlannedCell, entry: LoadEntry) -> bool:
    return any(
        r.kind == "experiment" and r.suite == entry.during
        for r in store.records(run_id, planned.cell.id)
    )


def _record_all(
    store: RecordStore, run_id: str, planned: PlannedCell, status: str, message: str
) -> None:
    """One record per suite, experiment and load profile of the cell (a cell that did not run)."""
    criteria = [
        *((suite, f"{suite}::*", "scenario") for suite in planned.suites),
        *((name, f"chaos/{name}", "experiment") for name in planned.chaos),
        *((name, f"load/{name}", "load") for name in planned.load),
    ]
    for suite, test_id, kind in criteria:
        store.add(
            Record(
                run_id,
                planned.cell.id,
                suite,
                test_id,
                status,
                kind=kind,
                message=message,
                started=now(),
                finished=now(),
            )
        )


def _clear_outputs(out: Path) -> None:
    """Remove what an earlier run wrote to `out` (only certify's own files)."""
    import shutil

    out.mkdir(parents=True, exist_ok=True)
    for name in ("evidence", "work", "allure-results"):
        shutil.rmtree(out / name, ignore_errors=True)
    for pattern in ("results.sqlite*", "report.*", "junit.xml", "plan.json"):
        for path in out.glob(pattern):
            path.unlink()


def _suites(
    planned: PlannedCell, options: RunOptions, store: RecordStore, run_id: str
) -> list[str]:
    """The cell's suites that exist; a missing suite folder is recorded as an error."""
    present = []
    for suite in planned.suites:
        if (options.root / "scenarios" / suite).is_dir():
            present.append(suite)
            continue
        store.add(
            Record(
                run_id,
                planned.cell.id,
                suite,
                f"{suite}::*",
                "error",
                message=f"suite folder scenarios/{suite} does not exist",
                started=now(),
                finished=now(),
            )
        )
    return present


_WHY = {
    2: "was interrupted",
    3: "hit an internal error",
    4: "was called wrongly",
    5: "collected no tests",
    -9: "timed out",
}


def _run_batch(
    batch: list[tuple[PlannedCell, Runtime]],
    options: RunOptions,
    store: RecordStore,
    run_id: str,
    session: PlatformSession,
    children: Children,
) -> None:
    """One pytest process over `batch`; a pytest that did not finish marks its cells' suites."""
    cells = [p for p, _ in batch]
    suites = list(
        dict.fromkeys(
            s for p in cells for s in p.suites if (options.root / "scenarios" / s).is_dir()
        )
    )
    if not suites:
        return
    started = now()
    rc, log = _pytest(cells, batch[0][1], suites, options, store, run_id, session, children)
    if rc in _COMPLETED:
        return
    for planned in cells:
        # pytest stops with 2 after collection errors; those are recorded already, per module
        collect_errors = {
            r.suite
            for r in store.records(run_id, planned.cell.id)
            if r.status == "error" and "::" not in r.test_id
        }
        why = _WHY.get(rc, f"exited with code {rc}")
        for suite in [s for s in planned.suites if s in suites and s not in collect_errors]:
            store.add(
                Record(
                    run_id,
                    planned.cell.id,
                    suite,
                    f"{suite}::<pytest>",
                    "error",
                    message=f"pytest {why}; see {log}",
                    started=started,
                    finished=now(),
                )
            )


def _cell_args(
    cells: list[PlannedCell], options: RunOptions, session: PlatformSession, evidence: Path
) -> list[str]:
    """Which cells the pytest runs: one by options, or several by a manifest and xdist."""
    entries: list[dict[str, Any]] = []
    for planned in cells:
        workdir = (options.out / "work" / cell_slug(planned.cell.id)).resolve()
        entries.append(
            {
                "id": planned.cell.id,
                "values": planned.cell.values,
                "tier": planned.cell.tier,
                "workdir": str(workdir),
                "options": session.options(planned, workdir),
            }
        )
    if not options.workers:
        [one] = entries
        return [
            "--certify-cell", one["id"], "--certify-values", json.dumps(one["values"]),
            "--certify-tier", one["tier"], "--certify-workdir", one["workdir"],
            "--certify-options", json.dumps(one["options"]),
        ]  # fmt: skip
    manifest = evidence / "cells.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(entries, indent=2) + "\n")
    workers = str(min(options.workers, len(cells)))
    return ["--certify-cells", str(manifest), "-n", workers, "--dist", "loadgroup"]


def _pytest(
    cells: list[PlannedCell],
    runtime: Runtime,
    suites: list[str],
    options: RunOptions,
    store: RecordStore,
    run_id: str,
    session: PlatformSession,
    children: Children,
) -> tuple[int, Path]:
    name = cell_slug(cells[0].cell.id) if len(cells) == 1 else f"runtime-{runtime.name}"
    evidence = options.out / "evidence" / name
    retry = next((p.retry for p in cells if p.retry), None)
    argv = [
        str(runtime.python), "-m", "pytest", *(f"scenarios/{s}" for s in suites),
        "-p", "certify.pytest.plugin", "-p", "no:cacheprovider", "-q", "--color=no",
        "--rootdir", str(options.root), "--junitxml", str(evidence / "pytest-junit.xml"),
        "--certify-store", str(store.path.resolve()), "--certify-run-id", run_id,
        *_cell_args(cells, options, session, evidence),
        *(["--certify-retry", retry] if retry else []),
        # allure-results with the cell on every result (a no-op where allure-pytest is missing)
        "-p", "certify.pytest.allure",
        "--certify-alluredir", str((options.out / "allure-results").resolve()),
    ]  # fmt: skip
    jars = [j for p in cells for j in session.options(p, options.out).get("jars", [])]
    extra = {"runtime": runtime.name, "runtime_kind": runtime.kind, "jars": jars}
    env = {
        **os.environ,
        "PYSPARK_PYTHON": str(runtime.python),
        "PYSPARK_DRIVER_PYTHON": str(runtime.python),
        "PYTHONDONTWRITEBYTECODE": "1",
        PROVENANCE_VAR: json.dumps(extra),
        **session_marker(session.session_id),
    }
    for planned in cells:
        # credentials reach the cells only here, never on a command line or in their options
        env.update(session.env(planned))
    env.pop("VIRTUAL_ENV", None)
    log = evidence / "pytest.log"
    names = ", ".join(p.cell.id for p in cells)
    print(f"certify: running {', '.join(suites)} on {names}", file=sys.stderr, flush=True)
    rc = children.run(argv, log, options.root, env, options.cell_timeout_s)
    return rc, log
