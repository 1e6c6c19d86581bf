"""The run folder's record store: SQLite in WAL mode, safe for concurrent writer processes.

Each record is committed on its own, so a run killed at any moment keeps every finished record.
A record is keyed by (run, cell, test): writing it again replaces it, so a resumed run never
duplicates one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from certify.results.record import Record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    run_id TEXT NOT NULL,
    cell_id TEXT NOT NULL,
    test_id TEXT NOT NULL,
    suite TEXT NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (run_id, cell_id, test_id)
);
CREATE TABLE IF NOT EXISTS attempts (
    run_id TEXT NOT NULL,
    cell_id TEXT NOT NULL,
    test_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (run_id, cell_id, test_id, attempt)
);
CREATE TABLE IF NOT EXISTS expected (
    run_id TEXT NOT NULL,
    cell_id TEXT NOT NULL,
    test_id TEXT NOT NULL,
    suite TEXT NOT NULL,
    PRIMARY KEY (run_id, cell_id, test_id)
);
"""


class RecordStore:
    """Append records from any number of processes; read them back in insertion order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # a generous timeout: xdist workers and the runner write at the same moments
        with closing(sqlite3.connect(self.path, timeout=60.0)) as db:
            db.execute("PRAGMA synchronous=NORMAL")
            with db:
                yield db

    def add(self, record: Record) -> None:
        """Commit one record durably (replacing an earlier record of the same test)."""
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO records (run_id, cell_id, test_id, suite, status, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.run_id,
                    record.cell_id,
                    record.test_id,
                    record.suite,
                    record.status,
                    record.dumps(),
                ),
            )

    def records(self, run_id: str | None = None, cell_id: str | None = None) -> list[Record]:
        """Every record (of one run and cell if given), in the order they were written."""
        where = [(col, val) for col, val in (("run_id", run_id), ("cell_id", cell_id)) if val]
        query = "SELECT body FROM records"
        if where:
            query += " WHERE " + " AND ".join(f"{col} = ?" for col, _ in where)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY rowid", [v for _, v in where]).fetchall()
        return [Record.from_json(json.loads(body)) for (body,) in rows]

    def add_attempts(
        self, run_id: str, cell_id: str, test_id: str, attempts: list[dict[str, Any]]
    ) -> None:
        """Keep every attempt of a retried test as evidence."""
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO attempts (run_id, cell_id, test_id, attempt, body)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (run_id, cell_id, test_id, int(a["attempt"]), json.dumps(a, sort_keys=True))
                    for a in attempts
                ],
            )

    def attempts(self, run_id: str, cell_id: str, test_id: str) -> list[dict[str, Any]]:
        """The attempts kept for one test, in order."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT body FROM attempts WHERE run_id = ? AND cell_id = ? AND test_id = ?"
                " ORDER BY attempt",
                (run_id, cell_id, test_id),
            ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def expect(self, run_id: str, cell_id: str, tests: list[tuple[str, str]]) -> None:
        """Declare the (suite, test id) pairs a cell's run collected, before any of them runs."""
        with self._connect() as db:
            db.executemany(
                "INSERT OR IGNORE INTO expected (run_id, cell_id, test_id, suite)"
                " VALUES (?, ?, ?, ?)",
                [(run_id, cell_id, test_id, suite) for suite, test_id in tests],
            )

    def expected(self, run_id: str) -> dict[str, list[tuple[str, str]]]:
        """Cell id -> the (suite, test id) pairs collected for it in `run_id`."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT cell_id, suite, test_id FROM expected WHERE run_id = ? ORDER BY rowid",
                (run_id,),
            ).fetchall()
        out: dict[str, list[tuple[str, str]]] = {}
        for cell_id, suite, test_id in rows:
            out.setdefault(cell_id, []).append((suite, test_id))
        return out

    def delete_cell(self, run_id: str, cell_id: str) -> None:
        """Forget what a run recorded for a cell (before it runs again from scratch)."""
        with self._connect() as db:
            for table in ("records", "expected", "attempts"):
                db.execute(
                    f"DELETE FROM {table} WHERE run_id = ? AND cell_id = ?", (run_id, cell_id)
                )
