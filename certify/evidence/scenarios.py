"""Scenarios as a kind of evidence: pytest in the cell's runtime, with certify's plugin.

A job is a batch of the run's scheduler (`certify.run.schedule`): cells of one runtime that one
pytest process runs one after the other, each with its own Spark session, in one driver JVM
where their settings allow. The plugin records every test the moment it finishes; a pytest that
did not finish marks its cells' suites here.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from certify.cell.context import CellContext
from certify.cell.options import BATCH_VAR, DRIVERS_VAR
from certify.evidence.protocol import KindJob
from certify.host.pool import session_marker
from certify.host.provenance import PROVENANCE_VAR, now
from certify.plan import PlannedCell
from certify.platforms.base import CellJob
from certify.pytest.claims import claimed_by
from certify.results import Outcome

# pytest's exit codes that mean its tests ran to the end (0 passed, 1 some failed)
_COMPLETED = (0, 1)
_WHY = {
    2: "was interrupted",
    3: "hit an internal error",
    4: "was called wrongly",
    5: "collected no tests",
    -9: "timed out",
}


class Scenarios:
    """The `scenario` kind."""

    kind = "scenario"
    exclusive = False  # cells' scenarios run side by side, each in its own names

    def planned(self, planned: PlannedCell) -> tuple[str, ...]:
        """The profile's suites for the cell."""
        return planned.suites

    def run(self, job: KindJob) -> None:
        """The lane's cells (of one runtime) in one pytest process, in the lane's order.

        With a claims folder the process takes only the cells no other lane has claimed.
        """
        ready = [c for c in job.cells if _present(c)]
        if ready:
            _run_batch(ready, job)


def _present(cell: CellJob) -> list[str]:
    return [s for s in cell.planned.suites if (cell.root / "scenarios" / s).is_dir()]


def with_suites(cells: Sequence[CellJob]) -> list[CellJob]:
    """The cells with a suite to run; each missing suite folder is recorded as an error, once."""
    ready = []
    for cell in cells:
        present = _present(cell)
        for suite in (s for s in cell.planned.suites if s not in present):
            outcome = Outcome(cell.run_id, cell.cell_id, "scenario", suite)
            message = f"suite folder scenarios/{suite} does not exist"
            cell.store.add(outcome.record("error", message))
        if present:
            ready.append(cell)
    return ready


def _run_batch(batch: Sequence[CellJob], job: KindJob) -> None:
    """One pytest process over `batch`; a pytest that did not finish marks its cells' suites."""
    first = batch[0]
    suites = list(dict.fromkeys(s for c in batch for s in _present(c)))
    if not suites:
        return
    started = now()
    rc, log = _pytest(batch, suites, job)
    if rc in _COMPLETED:
        return
    why = _WHY.get(rc, f"exited with code {rc}")
    for cell in batch:
        if job.claims is not None and claimed_by(job.claims, cell.cell_id) != job.batch:
            continue  # another lane ran it (or will): its own pytest answers for it
        # pytest stops with 2 after collection errors; those are recorded already, per module
        collect_errors = {
            r.suite
            for r in first.store.records(cell.run_id, cell.cell_id)
            if r.status == "error" and "::" not in r.test_id
        }
        for suite in [s for s in cell.planned.suites if s in suites and s not in collect_errors]:
            outcome = Outcome(cell.run_id, cell.cell_id, "scenario", suite, started)
            cell.store.add(
                outcome.record("error", f"pytest {why}; see {log}", test_id=f"{suite}::<pytest>")
            )


def _contexts(batch: Sequence[CellJob]) -> list[CellContext]:
    """The cell context of every cell of the batch, as the plugin reads it."""
    return [
        CellContext(
            c.cell_id,
            c.planned.cell.values,
            c.planned.cell.tier,
            c.workdir.resolve(),
            c.session.options(c.planned, c.workdir.resolve(), c.run_id),
        )
        for c in batch
    ]


def _cell_args(batch: Sequence[CellJob], evidence: Path, claims: Path | None) -> list[str]:
    """Which cells the pytest runs: one by options, or several (in order) by a manifest; with
    a claims folder, those of the manifest it claims first."""
    contexts = _contexts(batch)
    if len(contexts) == 1 and claims is None:
        [one] = contexts
        return [
            "--certify-cell", one.id, "--certify-values", json.dumps(dict(one.values)),
            "--certify-tier", one.tier, "--certify-workdir", str(one.workdir),
            "--certify-options", json.dumps(one.options.to_json()),
        ]  # fmt: skip
    manifest = evidence / "cells.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps([c.to_json() for c in contexts], indent=2) + "\n")
    claimed = ["--certify-claims", str(claims)] if claims is not None else []
    return ["--certify-cells", str(manifest), *claimed]


def _pytest(batch: Sequence[CellJob], suites: list[str], job: KindJob) -> tuple[int, Path]:
    first = batch[0]
    runtime = first.runtime
    name = job.batch if job.claims is not None else first.planned.cell.slug
    evidence = first.out / "evidence" / name
    retry = next((c.planned.retry for c in batch if c.planned.retry), None)
    argv = [
        str(runtime.python), "-m", "pytest", *(f"scenarios/{s}" for s in suites),
        "-p", "certify.pytest.plugin", "-p", "no:cacheprovider", "-q", "--color=no",
        "--rootdir", str(first.root), "--junitxml", str(evidence / "pytest-junit.xml"),
        "--certify-store", str(first.store.path.resolve()), "--certify-run-id", first.run_id,
        *_cell_args(batch, evidence, job.claims),
        *(["--certify-retry", retry] if retry else []),
        # allure-results with the cell on every result (a no-op where allure-pytest is missing)
        "-p", "certify.pytest.allure",
        "--certify-alluredir", str((first.out / "allure-results").resolve()),
    ]  # fmt: skip
    log = evidence / "pytest.log"
    names = ", ".join(c.cell_id for c in batch)
    print(f"certify: running {', '.join(suites)} on {names}", file=sys.stderr, flush=True)
    timeout = job.settings.cell_timeout_s
    timeout = timeout * len(batch) if timeout is not None else None  # each cell has its own
    rc = job.children.run(argv, log, first.root, _env(batch, job), timeout)
    return rc, log


def _env(batch: Sequence[CellJob], job: KindJob) -> dict[str, str]:
    """The pytest's environment: the runtime's interpreter, provenance, credentials, slots."""
    first = batch[0]
    # no jars here: a lane's cells share this process, and the recorder names each cell's own
    extra = {"runtime": first.runtime.name, "runtime_kind": first.runtime.kind}
    env = {
        **os.environ,
        "PYSPARK_PYTHON": str(first.runtime.python),
        "PYSPARK_DRIVER_PYTHON": str(first.runtime.python),
        "PYTHONDONTWRITEBYTECODE": "1",
        PROVENANCE_VAR: json.dumps(extra),
        # how many drivers share the machine: a local-mode driver takes its share of the cores
        DRIVERS_VAR: str(job.settings.workers or 1),
        BATCH_VAR: job.batch or "main",
        **session_marker(first.session.session_id),
    }
    for cell in batch:
        # credentials reach the cells only here, never on a command line or in their options
        env.update(cell.session.env(cell.planned))
    env.pop("VIRTUAL_ENV", None)
    return env
