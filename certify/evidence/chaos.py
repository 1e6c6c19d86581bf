"""Chaos experiments as a kind of evidence: each planned experiment on each cell, after scenarios.

An experiment that one of the cell's load profiles names in `during` runs under that load
instead (see `certify.evidence.load`): its record and the load's windows are one piece of
evidence.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from certify.chaos.runner import run_experiment
from certify.config.models import LoadEntry
from certify.evidence.protocol import KindJob
from certify.plan import PlannedCell


def under_load(planned: PlannedCell, loads: Mapping[str, LoadEntry]) -> set[str]:
    """The cell's experiments that run during one of its load profiles."""
    return {e.during for e in loads.values() if e.during and e.name in planned.load}


class Experiments:
    """The `experiment` kind."""

    kind = "experiment"
    exclusive = True  # its faults hit services that every cell of the run shares

    def planned(self, planned: PlannedCell) -> tuple[str, ...]:
        """The profile's experiments for the cell."""
        return planned.chaos

    def run(self, job: KindJob) -> None:
        """Each cell's experiments that do not run under a load, one after the other."""
        for cell in job.cells:
            during_loads = under_load(cell.planned, job.settings.loads)
            for name in cell.planned.chaos:
                if name in during_loads:
                    continue
                print(f"certify: chaos {name} on {cell.cell_id}", file=sys.stderr, flush=True)
                run_experiment(name, cell)
