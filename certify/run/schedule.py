"""One scheduler for the whole run: a budget of concurrent Spark drivers, cells longest first.

The budget (`-n N`, or the machine's choice for `-n auto`) is the number of slots; each slot
runs one pytest process at a time (a lane). A lane belongs to one runtime and is given every
cell of it, longest first by the last run's durations (cells with the same driver-JVM settings
next to each other); the runtime's lanes claim its cells as they go (`certify.pytest.claims`),
so whichever lane is free takes the next cell at once and no slot idles on a wrong estimate.
A lane keeps its driver JVM warm from one cell to the next where their JVM settings agree.
Lanes start runtime by runtime, the runtime with the most work first, one lane per runtime per
round, so every runtime gets going early and the long one gets the slots that free up.

Chaos experiments and load profiles are exclusive: their faults hit services every cell
shares and their latencies must not measure a neighbour, so they run one at a time after every
lane (see `certify.run.runner`).
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from certify.host.pool import available_memory_gib

# what one slot holds at its peak: a driver JVM and its executor, or a Connect session's share
# of its server, beside the services of the run (benchmarks/profile.py measures it)
SLOT_MEMORY_GIB = 2.5
# caps `-n auto` (a shared machine, a test that wants one driver at a time)
MAX_DRIVERS_VAR = "CERTIFY_MAX_DRIVERS"
# a cell without a duration in the last run: the median of the known ones, else this
DEFAULT_CELL_S = 60.0


def auto_slots(cells: int) -> int:
    """`-n auto`: one slot per core, as memory permits, never more than there are cells."""
    cores = os.cpu_count() or 1
    cap = os.environ.get(MAX_DRIVERS_VAR, "")
    limit = int(cap) if cap.isdigit() and int(cap) > 0 else cores
    return max(1, min(cells, cores, limit, int(available_memory_gib() // SLOT_MEMORY_GIB)))


def slots_for(workers: int | None, cells: int) -> int:
    """The run's budget of concurrent drivers: `-n N` (the total), or `auto_slots`."""
    if not workers:
        return auto_slots(cells)
    return max(1, min(workers, cells)) if cells else 1


@dataclass(frozen=True)
class Unit:
    """What the scheduler knows of one cell: its id, runtime and driver-JVM key."""

    cell_id: str
    runtime: str
    jvm_key: str = ""


@dataclass
class Lane:
    """One pytest process of a runtime: it claims the runtime's cells in `cells` order."""

    runtime: str
    cells: list[str] = field(default_factory=list)
    work_s: float = 0.0  # the runtime's expected seconds in all


def estimates(units: Sequence[Unit], durations: Mapping[str, float]) -> dict[str, float]:
    """Seconds each cell is expected to take: its last duration, else the median of those."""
    known = [durations[u.cell_id] for u in units if durations.get(u.cell_id)]
    default = statistics.median(known) if known else DEFAULT_CELL_S
    return {u.cell_id: float(durations.get(u.cell_id) or default) for u in units}


def claim_order(units: Sequence[Unit], cost: Mapping[str, float]) -> list[str]:
    """A runtime's cells in the order its lanes claim them: by JVM key group (the group with
    the most work first), longest first inside a group, ties in plan order."""
    groups: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        groups.setdefault(unit.jvm_key, []).append(i)
    ordered = sorted(groups.values(), key=lambda g: (-sum(cost[units[i].cell_id] for i in g), g[0]))
    out: list[str] = []
    for group in ordered:
        out += [units[i].cell_id for i in sorted(group, key=lambda i: (-cost[units[i].cell_id], i))]
    return out


def plan_lanes(units: Sequence[Unit], slots: int, durations: Mapping[str, float]) -> list[Lane]:
    """The lanes to start, in order: per round one lane of each runtime that still has cells
    for one more (most work first), a runtime getting at most one lane per cell and per slot."""
    cost = estimates(units, durations)
    runtimes: dict[str, list[Unit]] = {}
    for unit in units:
        runtimes.setdefault(unit.runtime, []).append(unit)
    lanes = {
        name: Lane(name, claim_order(group, cost), sum(cost[u.cell_id] for u in group))
        for name, group in runtimes.items()
    }
    by_work = sorted(lanes.values(), key=lambda lane: -lane.work_s)
    count = {lane.runtime: min(len(lane.cells), max(1, slots)) for lane in by_work}
    out: list[Lane] = []
    for round_ in range(max(count.values(), default=0)):
        out += [lane for lane in by_work if round_ < count[lane.runtime]]
    return out
