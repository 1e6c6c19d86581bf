"""What a scenario author needs from certify, and nothing else.

    from certify.scenario import CellContext, not_applicable, not_run

Scenarios and fixtures import from here; everything under `certify.pytest`, `certify.run` or
`certify.platforms` is internal and may change.
"""

from __future__ import annotations

from certify.cell import cell_slug
from certify.cell.context import CellContext
from certify.pytest.plugin import not_applicable, not_run

__all__ = ["CellContext", "cell_slug", "not_applicable", "not_run"]
