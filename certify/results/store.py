"""The run folder's record store: SQLite in WAL mode, safe for concurrent writer processes.

Each record is committed on its own, so a run killed at any moment keeps every finished record.
A record is keyed by (run, cell, test): writing it again replaces it, so a resumed run never
duplicates one.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certify.errors import UnusableReport
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


Expected = dict[str, list[tuple[str, str]]]  # cell id -> collected (suite, test id) pairs


@dataclass(frozen=True)
class StoreSnapshot:
    """Everything a store holds, read once without writing to it (what `certify gate` judges).

    `problems` are rows that do not say what their columns say (a body edited without its key,
    or the other way round) or that are not records at all.
    """

    path: Path
    records: tuple[Record, ...]
    expected: dict[str, Expected] = field(default_factory=dict)  # run id -> cell -> pairs
    problems: tuple[str, ...] = ()

    def run_ids(self) -> list[str]:
        """The runs the store holds records of, in the order they first appear."""
        return list(dict.fromkeys(r.run_id for r in self.records))

    def of_run(self, run_id: str) -> list[Record]:
        """The records of one run, in the order they were written."""
        return [r for r in self.records if r.run_id == run_id]


def read_snapshot(path: Path) -> StoreSnapshot:
    """Read the store at `path` from a private copy (the evidence is never opened for writing).

    Raises UnusableReport (exit 2) when it is missing, not a file, not SQLite, damaged or not a
    certify record store; rows that are not records are `problems`, not errors.
    """
    if not path.is_file():
        what = "missing" if not path.exists() else "not a regular file"
        raise UnusableReport(f"{path}: the record store is {what}")
    with tempfile.TemporaryDirectory(prefix="certify-store-") as tmp:
        copy = Path(tmp) / "results.sqlite"
        try:
            shutil.copyfile(path, copy)
            wal = path.with_name(path.name + "-wal")  # records not yet checkpointed live there
            if wal.is_file():
                shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
            with closing(sqlite3.connect(f"file:{copy}?mode=rw", uri=True, timeout=5.0)) as db:
                return _snapshot(path, db)
        except (OSError, sqlite3.Error) as exc:
            raise UnusableReport(
                f"{path}: not a readable record store ({exc}): damaged or not SQLite"
            ) from None


def _snapshot(path: Path, db: sqlite3.Connection) -> StoreSnapshot:
    check = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
    if check != ["ok"]:
        raise UnusableReport(f"{path}: the record store is damaged ({'; '.join(check[:3])})")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not {"records", "expected"} <= tables:
        raise UnusableReport(f"{path}: not a certify record store (no records/expected tables)")
    problems: list[str] = []
    records: list[Record] = []
    rows = db.execute(
        "SELECT rowid, run_id, cell_id, test_id, suite, status, body FROM records ORDER BY rowid"
    )
    for rowid, run_id, cell_id, test_id, suite, status, body in rows:
        where = f"{path.name} row {rowid} ({cell_id} {test_id})"
        try:
            record = Record.from_json(json.loads(body))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            problems.append(f"{where}: not a certify record ({exc})")
            continue
        keys = (record.run_id, record.cell_id, record.test_id, record.suite, record.status)
        if keys != (run_id, cell_id, test_id, suite, status):
            problems.append(
                f"{where}: its body says run {record.run_id}, cell {record.cell_id}, test "
                f"{record.test_id}, suite {record.suite}, status {record.status}: the row was "
                "edited"
            )
        records.append(record)
    expected: dict[str, Expected] = {}
    query = "SELECT run_id, cell_id, suite, test_id FROM expected ORDER BY rowid"
    for run_id, cell_id, suite, test_id in db.execute(query):
        expected.setdefault(run_id, {}).setdefault(cell_id, []).append((suite, test_id))
    return StoreSnapshot(path, tuple(records), expected, tuple(problems))
