"""The cell: one combination of dimension values, and the context every child process reads."""

from certify.cell.model import Cell, cell_slug

__all__ = ["Cell", "cell_slug"]
