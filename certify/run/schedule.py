"""One scheduler for the whole run: a budget of concurrent Spark drivers, cells longest first.

The budget (`-n N`, or the machine's choice for `-n auto`) is the number of slots; each slot
runs one pytest process at a time, and each process (a batch) runs cells of one runtime one
after the other in one driver JVM where their Spark settings allow it (`jvm_key`). Batches come
from a longest-processing-time-first assignment of the cells to the slots, using the last
run's durations: a slot keeps adding cells to its batch while they share its runtime, so a
runtime's cells reuse one pytest and one JVM, and the slots end at about the same time.

Chaos experiments and load profiles are exclusive: their faults hit services every cell
shares and their latencies must not measure a neighbour, so they run one at a time after every
batch (see `certify.run.runner`).
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
# what starting a pytest process and its driver JVM costs (seconds), charged once per batch
BATCH_START_S = 12.0


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
class Batch:
    """Cells of one runtime run by one pytest process, in this order."""

    runtime: str
    cells: list[str] = field(default_factory=list)
    estimate_s: float = 0.0


@dataclass
class _Slot:
    load_s: float = 0.0
    batches: list[Batch] = field(default_factory=list)


def estimates(units: Sequence[Unit], durations: Mapping[str, float]) -> dict[str, float]:
    """Seconds each cell is expected to take: its last duration, else the median of those."""
    known = [durations[u.cell_id] for u in units if durations.get(u.cell_id)]
    default = statistics.median(known) if known else DEFAULT_CELL_S
    return {u.cell_id: float(durations.get(u.cell_id) or default) for u in units}


def plan_batches(units: Sequence[Unit], slots: int, durations: Mapping[str, float]) -> list[Batch]:
    """Batches in the order to start them (longest first), made for `slots` slots.

    Cells are taken longest first (ties in plan order) and each goes to the slot that is free
    soonest; it joins that slot's current batch when the runtime is the same, else it starts a
    new batch there (charged BATCH_START_S). A batch's cells are ordered by JVM key so that
    equal keys are neighbours and share a driver JVM.
    """
    cost = estimates(units, durations)
    order = sorted(range(len(units)), key=lambda i: (-cost[units[i].cell_id], i))
    pool = [_Slot() for _ in range(max(1, slots))]
    for i in order:
        unit = units[i]
        slot = min(pool, key=lambda s: s.load_s)
        current = slot.batches[-1] if slot.batches else None
        if current is None or current.runtime != unit.runtime:
            current = Batch(unit.runtime)
            slot.batches.append(current)
            slot.load_s += BATCH_START_S
            current.estimate_s += BATCH_START_S
        current.cells.append(unit.cell_id)
        current.estimate_s += cost[unit.cell_id]
        slot.load_s += cost[unit.cell_id]
    keys = {u.cell_id: u.jvm_key for u in units}
    position = {u.cell_id: i for i, u in enumerate(units)}
    batches = [b for s in pool for b in s.batches]
    for batch in batches:
        # stable: equal keys next to each other, in the order the cells were assigned
        first: dict[str, int] = {}
        for cell in batch.cells:
            first.setdefault(keys[cell], len(first))
        ranked = sorted(enumerate(batch.cells), key=lambda ic: (first[keys[ic[1]]], ic[0]))
        batch.cells = [cell for _, cell in ranked]
    # the slots' first batches start first, then in slot order: longest first overall
    waves: list[Batch] = []
    depth = max((len(s.batches) for s in pool), default=0)
    for level in range(depth):
        wave = [s.batches[level] for s in pool if level < len(s.batches)]
        waves += sorted(wave, key=lambda b: (-b.estimate_s, position[b.cells[0]]))
    return waves
