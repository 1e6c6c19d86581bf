"""The cell context: what every child process (pytest, chaos workload, locust) knows of its cell.

One serialisable shape, written by the runner and read by the children: the cell's id, values and
tier, its private work folder and the platform's options for it (endpoints and settings, never
secrets: those travel in the environment only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CellContext:
    """The cell a scenario runs against: id, dimension values, tier and a private work folder."""

    id: str
    values: Mapping[str, str]
    tier: str
    workdir: Path
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON form every child reads (inverse of `from_json`)."""
        return {
            "id": self.id,
            "values": dict(self.values),
            "tier": self.tier,
            "workdir": str(self.workdir),
            "options": dict(self.options),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CellContext:
        """A cell from a manifest entry (`id`, `values`, `tier`, `workdir`, `options`)."""
        return cls(
            str(data["id"]),
            dict(data["values"]),
            str(data.get("tier", "experimental")),
            Path(data["workdir"]),
            dict(data.get("options") or {}),
        )
