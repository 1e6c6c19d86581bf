"""The cell context: what every child process (pytest, chaos workload, locust) knows of its cell.

One serialisable shape, written by the runner and read by the children: the cell's id, values and
tier, its private work folder and the platform's options for it (endpoints and settings, never
secrets: those travel in the environment only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from certify.cell.names import ADHOC_SCOPE, CellNames, database_name
from certify.cell.options import PlatformOptions
from certify.results.findings import JsonObject


@dataclass(frozen=True)
class CellContext:
    """The cell a scenario runs against: id, dimension values, tier and a private work folder."""

    id: str
    values: Mapping[str, str]
    tier: str
    workdir: Path
    options: PlatformOptions = field(default_factory=PlatformOptions)

    @property
    def database(self) -> str:
        """The cell's private database / namespace: the platform's, else the adhoc scope's."""
        return self.options.database or database_name(ADHOC_SCOPE, self.id)

    @property
    def names(self) -> CellNames:
        """Every name the cell makes in shared services (its database, S3 prefix, ...)."""
        return CellNames(self.database)

    def to_json(self) -> JsonObject:
        """The JSON form every child reads (inverse of `from_json`)."""
        return {
            "id": self.id,
            "values": dict(self.values),
            "tier": self.tier,
            "workdir": str(self.workdir),
            "options": self.options.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> CellContext:
        """A cell from a manifest entry (`id`, `values`, `tier`, `workdir`, `options`)."""
        values = data.get("values")
        options = data.get("options")
        return cls(
            str(data["id"]),
            {str(k): str(v) for k, v in values.items()} if isinstance(values, Mapping) else {},
            str(data.get("tier", "experimental")),
            Path(str(data["workdir"])),
            PlatformOptions.from_json(options if isinstance(options, Mapping) else {}),
        )
