"""The cell: one combination of dimension values, its stable id, tier and folder name."""

from __future__ import annotations

from dataclasses import dataclass

from certify.matrix.space import cell_id


def cell_slug(cell_id: str) -> str:
    """A folder name for a cell id (`spark=3.5,catalog=hive` -> `spark-3.5_catalog-hive`)."""
    return cell_id.replace("=", "-").replace(",", "_")


@dataclass(frozen=True)
class Cell:
    """One combination of dimension values, with its stable id and tier."""

    pairs: tuple[tuple[str, str], ...]
    tier: str

    @property
    def id(self) -> str:
        """The stable id, e.g. `spark=3.5,catalog=hive,storage=local`."""
        return cell_id([k for k, _ in self.pairs], [v for _, v in self.pairs])

    @property
    def values(self) -> dict[str, str]:
        """Dimension -> value, in dimension order."""
        return dict(self.pairs)

    @property
    def slug(self) -> str:
        """The cell's folder name under `evidence/` and `work/`."""
        return cell_slug(self.id)
