"""The cell: one combination of dimension values, and the context every child process reads."""

from certify.cell.context import CellContext
from certify.cell.model import Cell, cell_slug
from certify.cell.names import (
    ADHOC_SCOPE,
    KEEP_VAR,
    CellNames,
    database_name,
    keep_requested,
    run_database_name,
)
from certify.cell.options import PlatformOptions, S3Options, SparkOptions, SqlCatalogOptions

__all__ = [
    "ADHOC_SCOPE",
    "KEEP_VAR",
    "Cell",
    "CellContext",
    "CellNames",
    "PlatformOptions",
    "S3Options",
    "SparkOptions",
    "SqlCatalogOptions",
    "cell_slug",
    "database_name",
    "keep_requested",
    "run_database_name",
]
