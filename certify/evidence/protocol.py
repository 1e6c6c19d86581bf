"""The one interface every kind of evidence implements (in the way pytest-xdist puts its
schedulers behind `scheduler/protocol.py`).

A kind says which of its criteria the profile plans for a cell, and turns a job (cells of one
runtime in a started platform session) into records in the run's store. The runner loops over
the kinds in order; a new kind of evidence (benchmarks, say) is one new file beside these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from certify.config.models import LoadEntry
from certify.host.pool import Children
from certify.plan import PlannedCell
from certify.platforms.base import CellJob


@dataclass(frozen=True)
class Settings:
    """What the kinds take from how the run was asked for."""

    workers: int | None = None  # the run's budget of concurrent Spark drivers (its slots)
    durations: Mapping[str, float] = field(default_factory=dict)  # seconds per cell (ordering)
    cell_timeout_s: float | None = 3600.0
    load_shape: str | None = None  # overrides every load entry's shape (certify load run)
    load_seconds: float | None = None  # overrides every load profile's duration
    loads: Mapping[str, LoadEntry] = field(default_factory=dict)  # the profile's load entries


@dataclass(frozen=True)
class KindJob:
    """The work of one kind: a batch of cells (one runtime's for scenarios), in one session."""

    cells: Sequence[CellJob]
    settings: Settings
    children: Children
    batch: str = ""  # the scheduler's name for the lane (`lane-3`), in every record
    claims: Path | None = None  # where the lanes of a runtime claim its cells (None: run all)


class EvidenceKind(Protocol):
    """A kind of evidence: scenarios, chaos experiments, load profiles."""

    @property
    def kind(self) -> str:
        """The records' kind (`scenario`, `experiment`, `load`)."""
        ...

    @property
    def exclusive(self) -> bool:
        """True when nothing else of the run may run beside it (faults, load measurements)."""
        ...

    def planned(self, planned: PlannedCell) -> tuple[str, ...]:
        """The names of this kind the profile plans for the cell (suites, experiments, ...)."""
        ...

    def run(self, job: KindJob) -> None:
        """Run the job's planned criteria of this kind and store one record per outcome."""
        ...
