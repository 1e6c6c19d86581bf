"""The interface every platform backend implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from certify.cell.options import PlatformOptions
from certify.matrix.model import Matrix
from certify.plan import PlannedCell
from certify.platforms.faults import FaultTarget
from certify.results import RecordStore


@dataclass(frozen=True)
class Runtime:
    """A Python interpreter able to run a Spark line's scenarios."""

    name: str
    python: Path
    pyspark: str | None
    kind: str = "host"


@dataclass(frozen=True, order=True)
class Need:
    """A service a cell needs: its kind, and the Spark line / catalog when it depends on them."""

    kind: str
    line: str = ""
    catalog: str = ""
    classpath: str = ""  # the jars a JVM service is started with, when cells must agree on them


@dataclass(frozen=True)
class Assessment:
    """What the platform can do for one cell here."""

    runnable: bool
    reason: str | None = None
    spark: str | None = None
    needs: tuple[Need, ...] = ()
    jars: tuple[Any, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    emulated: tuple[str, ...] = ()  # values an emulator serves here, and which one


class PlatformSession(Protocol):
    """The started services of a run (or a `platform up`), and what cells get from them.

    Everything a kind of evidence needs from a platform is declared here: callers never probe
    a session with `getattr`.
    """

    @property
    def session_id(self) -> str:
        """The marker every process of the session carries (`CERTIFY_SESSION`); "" for none."""
        ...

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear in any output (logs are redacted of them)."""
        ...

    def fault_target(self, planned: PlannedCell, token: str) -> FaultTarget | None:
        """What chaos experiments may do to the cell's services (None: no faults here).

        `token` marks the experiment's own workload processes, which its faults may hit.
        """
        ...

    def options(self, planned: PlannedCell, workdir: Path, scope: str = "") -> PlatformOptions:
        """Endpoints and settings for the cell's fixtures (no secrets: they go in `env`).

        Children read them as `PlatformOptions.to_json()`; `workdir` is the cell's work folder.
        `scope` is the run id: every name the cell makes in a shared service (its database,
        S3 prefix: `certify.cell.CellNames`) derives from (scope or the session's id, cell id).
        """
        ...

    def env(self, planned: PlannedCell) -> dict[str, str]:
        """Environment for the cell's pytest process: credentials live only here."""
        ...

    def failed(self, planned: PlannedCell) -> str | None:
        """Why a service only some cells need did not start (theirs alone fail), or None."""
        ...

    def status(self) -> list[dict[str, Any]]:
        """Each service: name, pid, endpoint, healthy."""
        ...

    def stop(self) -> None:
        """Stop every service (idempotent)."""
        ...


class Platform(Protocol):
    """Where cells run: what it can run here, the runtime of a cell, and its services."""

    name: str

    def assess(self, matrix: Matrix, planned: PlannedCell, fetch: bool = False) -> Assessment:
        """Whether and how the cell can run here; `fetch` lets it download jars."""
        ...

    def unavailable(self, matrix: Matrix, planned: PlannedCell) -> str | None:
        """Why this platform cannot run the cell here (a reason a person can act on), or None."""
        ...

    def runtime(self, matrix: Matrix, planned: PlannedCell, build: bool = True) -> Runtime:
        """The interpreter that runs the cell's scenarios (only for runnable cells)."""
        ...

    def start(
        self,
        matrix: Matrix,
        cells: Sequence[PlannedCell],
        logs: Path,
        mode: str = "run",
        assessments: Mapping[str, Assessment] | None = None,
        slots: int = 1,
    ) -> PlatformSession:
        """Start the services `cells` need (shared where they can be) and return the session.

        `slots` cells run at once: services sized per cell (executor cores) are sized for them.
        """
        ...

    def capabilities(self) -> dict[str, Any]:
        """What this platform can run here (Java, GPU, binaries, jars, services)."""
        ...


@dataclass(frozen=True)
class CellJob:
    """One cell's place in a started platform session: what every kind of evidence runs with.

    Chaos experiments, load profiles and scenarios all take this one object (plus what is
    particular to them) instead of the same seven arguments each.
    """

    planned: PlannedCell
    runtime: Runtime
    session: PlatformSession
    out: Path  # the run folder: evidence/<cell slug>/... and work/<cell slug>/ go under it
    root: Path  # the project folder (scenarios/, chaos/, load/)
    store: RecordStore
    run_id: str

    @property
    def cell_id(self) -> str:
        """The cell's stable id."""
        return self.planned.cell.id

    @property
    def evidence(self) -> Path:
        """The cell's evidence folder under the run folder."""
        return self.out / "evidence" / self.planned.cell.slug

    @property
    def workdir(self) -> Path:
        """The cell's private work folder under the run folder."""
        return self.out / "work" / self.planned.cell.slug
