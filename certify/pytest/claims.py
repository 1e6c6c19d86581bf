"""Cells claimed at run time: pytest processes of one runtime share its cells like a queue.

`certify run` starts up to `-n N` pytest processes per runtime, each given every cell of the
runtime (`--certify-cells`, longest first) and one claims folder (`--certify-claims`). Before
it runs a cell's tests, a process claims the cell by creating `<claims>/<cell slug>` with
O_EXCL: the first process to get there runs the cell, every other skips it. So a process that
is done with its cell takes the next unclaimed one at once (no slot idles on a wrong estimate),
and keeps its driver JVM warm for it when the JVM settings agree.

A claim file holds the name of the batch that took it, so that the runner can tell which cells a
process that died was running.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from certify.cell.model import cell_slug
from certify.pytest.items import item_cell


def claim(folder: Path, cell_id: str, owner: str) -> bool:
    """Take `cell_id` for `owner`; False when another process already has it."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(folder / cell_slug(cell_id), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as out:
        out.write(owner + "\n")
    return True


def claimed_by(folder: Path, cell_id: str) -> str | None:
    """The batch that claimed `cell_id`, or None while nobody has."""
    try:
        return (folder / cell_slug(cell_id)).read_text().strip() or None
    except OSError:
        return None


def _groups(items: Sequence[pytest.Item]) -> list[tuple[str, list[pytest.Item]]]:
    """Consecutive items of one cell (the plugin sorts them by cell, in manifest order)."""
    groups: list[tuple[str, list[pytest.Item]]] = []
    for item in items:
        cell = item_cell(item)
        cell_id = cell.id if cell is not None else ""
        if groups and groups[-1][0] == cell_id:
            groups[-1][1].append(item)
        else:
            groups.append((cell_id, [item]))
    return groups


class Claims:
    """Replaces pytest's run loop: a cell's tests run only in the process that claimed it."""

    def __init__(self, folder: Path, owner: str) -> None:
        self.folder = folder
        self.owner = owner

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        """Run each claimed cell's tests; every fixture ends with its cell (nextitem None)."""
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            raise session.Interrupted(f"{session.testsfailed} errors during collection")
        if session.config.option.collectonly:
            return True
        for cell_id, items in _groups(session.items):
            if cell_id and not claim(self.folder, cell_id, self.owner):
                continue
            for i, item in enumerate(items):
                nextitem = items[i + 1] if i + 1 < len(items) else None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                if session.shouldfail:
                    raise session.Failed(session.shouldfail)
                if session.shouldstop:
                    raise session.Interrupted(session.shouldstop)
        return True
