"""The cell: one combination of dimension values, and the context every child process reads."""

from certify.cell.context import CellContext
from certify.cell.model import Cell, cell_slug, database_name
from certify.cell.options import PlatformOptions, S3Options, SparkOptions, SqlCatalogOptions

__all__ = [
    "Cell",
    "CellContext",
    "PlatformOptions",
    "S3Options",
    "SparkOptions",
    "SqlCatalogOptions",
    "cell_slug",
    "database_name",
]
