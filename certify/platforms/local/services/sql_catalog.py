"""pyiceberg's SQL catalog on SQLite: a database file, no process."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from certify.platforms.local.services.base import Launch


@dataclass
class SqlCatalog:
    """A SQLite file for pyiceberg's `SqlCatalog` (it creates its tables on first use)."""

    name: str = "sql-catalog"
    timeout_s: float = 10.0
    path: Path | None = None

    def launch(self, home: Path) -> Launch:
        """Create the database file under `home`."""
        home.mkdir(parents=True, exist_ok=True)
        self.path = home / "catalog.db"
        with closing(sqlite3.connect(self.path)) as db:
            # cells of a run commit to this one file at once (Spark's JdbcCatalog in several
            # JVMs, pyiceberg): in write-ahead-log mode readers never block the writer, and a
            # writer waits (busy_timeout) instead of failing with SQLITE_BUSY at a reader's lock,
            # which a pr run hit in rollback-journal mode
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS certify_probe (id INTEGER)")
        return Launch(
            (), f"sqlite:///{self.path}", details={"warehouse": (home / "warehouse").as_uri()}
        )

    def healthy(self, launch: Launch) -> bool:
        """The database opens and answers a query."""
        if self.path is None:
            return False
        try:
            with closing(sqlite3.connect(self.path, timeout=5)) as db:
                return db.execute("SELECT count(*) FROM certify_probe").fetchone() is not None
        except sqlite3.Error:
            return False
