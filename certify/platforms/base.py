"""The interface every platform backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from certify.matrix.model import Matrix
from certify.plan import PlannedCell


@dataclass(frozen=True)
class Runtime:
    """A Python interpreter able to run a Spark line's scenarios."""

    name: str
    python: Path
    pyspark: str | None


class Platform(Protocol):
    """Where cells run: says what it can run here and which interpreter runs a cell."""

    name: str

    def unavailable(self, matrix: Matrix, planned: PlannedCell) -> str | None:
        """Why this platform cannot run the cell here (a reason a person can act on), or None."""
        ...

    def runtime(self, matrix: Matrix, planned: PlannedCell) -> Runtime:
        """The interpreter that runs the cell's scenarios (only for runnable cells)."""
        ...
