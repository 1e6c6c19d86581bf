"""`certify run`: plan -> per cell: platform check, pytest in the runtime -> records -> report."""

from __future__ import annotations

import json
import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certify.matrix.model import Matrix
from certify.plan import Plan, PlannedCell
from certify.platforms import Platform
from certify.report import Policy, Report
from certify.report.finalize import finalize
from certify.results import Record, RecordStore
from certify.run.process import Interrupted, run_supervised
from certify.run.provenance import collect, now

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


def cell_slug(cell_id: str) -> str:
    """A folder name for a cell id (`spark=3.5,catalog=hive` -> `spark-3.5_catalog-hive`)."""
    return cell_id.replace("=", "-").replace(",", "_")


def new_run_id() -> str:
    """A unique, sortable run id."""
    return (
        now().replace(":", "").replace("-", "").replace(".", "")[:15] + "-" + uuid.uuid4().hex[:6]
    )


def execute(matrix: Matrix, plan: Plan, options: RunOptions) -> Report:
    """Run every planned cell, then aggregate and write the report (also when interrupted)."""
    out = options.out
    _clear_outputs(out)
    (out / "plan.json").write_text(json.dumps(plan.to_json(), indent=2) + "\n")
    store = RecordStore(out / "results.sqlite")
    run_id = new_run_id()
    run: dict[str, Any] = {
        "id": run_id,
        "profile": plan.profile,
        "matrix": plan.matrix,
        "platform": options.platform.name,
        "started": now(),
        "argv": list(options.argv),
        "provenance": collect(options.root),
    }
    interrupted: Interrupted | None = None
    try:
        for planned in plan.cells:
            _run_cell(matrix, planned, options, store, run_id)
    except Interrupted as exc:
        interrupted = exc
    run["finished"] = now()
    run["interrupted"] = interrupted is not None
    why = str(interrupted) if interrupted else None
    report = finalize(run, plan, store, out, options.policy, why)
    if interrupted is not None:
        raise interrupted
    return report


def _clear_outputs(out: Path) -> None:
    """Remove what an earlier run wrote to `out` (only certify's own files)."""
    import shutil

    out.mkdir(parents=True, exist_ok=True)
    for name in ("evidence", "work"):
        shutil.rmtree(out / name, ignore_errors=True)
    for pattern in ("results.sqlite*", "report.*", "junit.xml", "plan.json"):
        for path in out.glob(pattern):
            path.unlink()


def _run_cell(
    matrix: Matrix, planned: PlannedCell, options: RunOptions, store: RecordStore, run_id: str
) -> None:
    cell = planned.cell
    reason = options.platform.unavailable(matrix, planned)
    if reason is not None:
        for suite in planned.suites:
            store.add(
                Record(
                    run_id,
                    cell.id,
                    suite,
                    f"{suite}::*",
                    "not_run",
                    message=reason,
                    started=now(),
                    finished=now(),
                )
            )
        return
    missing = [s for s in planned.suites if not (options.root / "scenarios" / s).is_dir()]
    for suite in missing:
        store.add(
            Record(
                run_id,
                cell.id,
                suite,
                f"{suite}::*",
                "error",
                message=f"suite folder scenarios/{suite} does not exist",
                started=now(),
                finished=now(),
            )
        )
    suites = [s for s in planned.suites if s not in missing]
    if not suites:
        return
    started = now()
    rc, log = _pytest(matrix, planned, suites, options, store, run_id)
    if rc not in _COMPLETED:
        # pytest stops with 2 after collection errors; those are recorded already, per module
        collect_errors = {
            r.suite
            for r in store.records(run_id, cell.id)
            if r.status == "error" and "::" not in r.test_id
        }
        why = {
            2: "was interrupted",
            3: "hit an internal error",
            4: "was called wrongly",
            5: "collected no tests",
            -9: "timed out",
        }.get(rc, f"exited with code {rc}")
        for suite in [s for s in suites if s not in collect_errors]:
            store.add(
                Record(
                    run_id,
                    cell.id,
                    suite,
                    f"{suite}::<pytest>",
                    "error",
                    message=f"pytest {why}; see {log}",
                    started=started,
                    finished=now(),
                )
            )


def _pytest(
    matrix: Matrix,
    planned: PlannedCell,
    suites: list[str],
    options: RunOptions,
    store: RecordStore,
    run_id: str,
) -> tuple[int, Path]:
    cell = planned.cell
    runtime = options.platform.runtime(matrix, planned)
    evidence = options.out / "evidence" / cell_slug(cell.id)
    workdir = options.out / "work" / cell_slug(cell.id)
    argv = [
        str(runtime.python),
        "-m",
        "pytest",
        *(f"scenarios/{s}" for s in suites),
        "-p",
        "certify.pytest_plugin",
        "-p",
        "no:cacheprovider",
        "-q",
        "--color=no",
        "--rootdir",
        str(options.root),
        "--junitxml",
        str(evidence / "pytest-junit.xml"),
        "--certify-cell",
        cell.id,
        "--certify-values",
        json.dumps(cell.values),
        "--certify-tier",
        cell.tier,
        "--certify-store",
        str(store.path.resolve()),
        "--certify-run-id",
        run_id,
        "--certify-workdir",
        str(workdir.resolve()),
        *(["--certify-retry", planned.retry] if planned.retry else []),
    ]
    env = {
        **os.environ,
        "PYSPARK_PYTHON": str(runtime.python),
        "PYSPARK_DRIVER_PYTHON": str(runtime.python),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    log = evidence / "pytest.log"
    print(f"certify: running {', '.join(suites)} on {cell.id}", file=sys.stderr, flush=True)
    rc = run_supervised(argv, log, options.root, env, options.cell_timeout_s)
    return rc, log
