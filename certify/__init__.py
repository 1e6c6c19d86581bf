"""certify: certification of Spark data platforms across a declared matrix of combinations.

The public API is what this module exports; everything else is internal.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from certify.cell import Cell
from certify.errors import CertifyError, ConfigError, InfrastructureError, Issue, UsageError
from certify.matrix.model import Matrix, load_matrix, validate_files
from certify.matrix.space import cell_id, parse_cell_id
from certify.plan import Plan, PlannedCell, build_plan
from certify.results import Record, RecordStore

try:
    __version__ = version("spark-certify")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = [
    "Cell",
    "CertifyError",
    "ConfigError",
    "InfrastructureError",
    "Issue",
    "Matrix",
    "Plan",
    "PlannedCell",
    "Record",
    "RecordStore",
    "UsageError",
    "__version__",
    "build_plan",
    "cell_id",
    "load_matrix",
    "parse_cell_id",
    "validate_files",
]
