"""Load profiles as a kind of evidence: each planned profile on each cell, after its experiments.

A profile entry with `during: EXPERIMENT` runs that experiment while the load runs; the load's
record then has before/during/after windows aligned on the experiment's fault window. When the
load does not get to its fault (it does not apply, or failed first), the experiment still runs
on its own, so that every planned experiment leaves a record.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from certify.chaos.runner import run_experiment
from certify.evidence.protocol import KindJob
from certify.load.runner import FaultWindow, LoadOptions, run_load
from certify.plan import PlannedCell
from certify.platforms.base import CellJob
from certify.results.findings import ChaosFinding


class Loads:
    """The `load` kind."""

    kind = "load"
    exclusive = True  # its latencies must not measure a neighbour's work

    def planned(self, planned: PlannedCell) -> tuple[str, ...]:
        """The profile's load profiles for the cell."""
        return planned.load

    def run(self, job: KindJob) -> None:
        """Each cell's load profiles, one after the other (each possibly under a fault)."""
        for cell in job.cells:
            for name in cell.planned.load:
                self._one(name, cell, job)

    def _one(self, name: str, cell: CellJob, job: KindJob) -> None:
        entry = job.settings.loads.get(name)
        during = entry.during if entry is not None else None
        shape = job.settings.load_shape or (entry.shape if entry is not None else None)
        options = LoadOptions(
            shape=shape,
            during=_fault(during, cell) if during else None,
            during_name=during,
            seconds=job.settings.load_seconds,
        )
        print(f"certify: load {name} on {cell.cell_id}", file=sys.stderr, flush=True)
        run_load(name, cell, options)
        if during and not _has_record(cell, during):
            # the load did not apply or did not get to its fault: the experiment still runs
            run_experiment(during, cell)


def _fault(experiment: str, cell: CellJob) -> Callable[[], FaultWindow | None]:
    """The callable the load runner calls mid-load: the experiment, and its fault window."""

    def during() -> FaultWindow | None:
        finding = run_experiment(experiment, cell).finding
        window = finding.window if isinstance(finding, ChaosFinding) else None
        if window is None or window.start is None or window.end is None:
            return None
        return FaultWindow(window.start, window.end)

    return during


def _has_record(cell: CellJob, experiment: str) -> bool:
    return any(
        r.kind == "experiment" and r.suite == experiment
        for r in cell.store.records(cell.run_id, cell.cell_id)
    )
