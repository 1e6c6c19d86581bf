"""What the plugin knows of each collected test: its cell and its id in records.

The plugin tags every test of a certified cell at collection (typed stash keys, never attribute
probes); the recorder and the Allure labels read the tags back from the item. A test's id in
records is its node id without the cell's parametrisation, so the same test has the same id
whether its pytest ran one cell or several (JUnit and Allure keep the node id with the cell).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from certify.cell.context import CellContext

# the session-scoped parameter that carries the cell when one pytest runs several cells
CELL_PARAM = "certify_cell"

cell_key = pytest.StashKey[CellContext]()
record_id_key = pytest.StashKey[str]()


def parametrised_cell(item: pytest.Item) -> CellContext | None:
    """The cell a test was parametrised with (several cells in one pytest), else None."""
    callspec = getattr(item, "callspec", None)  # only parametrised Function items have one
    if callspec is None or CELL_PARAM not in callspec.params:
        return None
    cell: CellContext = callspec.params[CELL_PARAM]
    return cell


def record_test_id(item: pytest.Item, cell: CellContext) -> str:
    """The test's id in records: its node id without the cell's parametrisation id."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or item.parent is None or parametrised_cell(item) is not cell:
        return item.nodeid
    # one id per parametrisation: the cell's is exactly its id (the plugin passes ids=)
    others = [part for part in callspec._idlist if part != cell.id]
    name = f"{item.parent.nodeid}::{getattr(item, 'originalname', item.name)}"
    return f"{name}[{'-'.join(others)}]" if others else name


def tag(items: Sequence[pytest.Item], cells: Sequence[CellContext]) -> None:
    """Stash each test's cell (its parameter, or the only cell) and its record test id."""
    only = cells[0] if len(cells) == 1 else None
    for item in items:
        cell = parametrised_cell(item) or only
        if cell is not None:
            item.stash[cell_key] = cell
            item.stash[record_id_key] = record_test_id(item, cell)


def item_cell(item: pytest.Item) -> CellContext | None:
    """The cell a collected test runs for (None outside a certify run)."""
    return item.stash.get(cell_key, None)


def item_record_id(item: pytest.Item) -> str | None:
    """The test's id in records (None outside a certify run)."""
    return item.stash.get(record_id_key, None)
