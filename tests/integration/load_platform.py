"""One local platform session for the load tests and benchmarks/load.py (no tests here): a Spark
4.1 Connect cell on a Hive metastore and a Spark 3.5 Iceberg REST + S3 cell (SeaweedFS)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certify.matrix.model import Matrix, load_matrix
from certify.plan import build_plan
from certify.plan.planner import PlannedCell
from certify.platforms.base import Runtime
from certify.platforms.local.platform import LocalPlatform
from tests.integration.cells import CONNECT_HIVE, REST_S3, cell_id, write_matrix

PROFILE = "load-cells"


@dataclass
class LoadPlatform:
    """The started session and its two cells with their runtimes."""

    matrix: Matrix
    session: Any
    cells: dict[str, tuple[PlannedCell, Runtime]]

    def cell(self, values: dict[str, str]) -> tuple[PlannedCell, Runtime]:
        """(planned cell, runtime) of a cell of this platform."""
        return self.cells[cell_id(values)]

    def pid(self, prefix: str) -> int:
        """The pid of the running service whose name starts with `prefix`."""
        for row in self.session.status():
            if row["name"].startswith(prefix) and row["pid"]:
                return int(row["pid"])
        raise LookupError(f"no running service named {prefix}*: {self.session.status()}")


@contextmanager
def load_platform(
    folder: Path, cells: list[dict[str, str]] | None = None
) -> Iterator[LoadPlatform]:
    """Start the services of the load cells; stop them all on exit."""
    matrix = load_matrix(write_matrix(folder, {PROFILE: cells or [CONNECT_HIVE, REST_S3]}))
    plan = build_plan(matrix, PROFILE)
    platform = LocalPlatform()
    found = {p.cell.id: platform.assess(matrix, p, fetch=True) for p in plan.cells}
    runnable = [p for p in plan.cells if found[p.cell.id].runnable]
    assert runnable, {k: v.reason for k, v in found.items()}
    runtimes = {p.cell.id: (p, platform.runtime(matrix, p)) for p in runnable}
    session = platform.start(matrix, runnable, folder / "services", "run", found)
    try:
        yield LoadPlatform(matrix, session, runtimes)
    finally:
        session.stop()
