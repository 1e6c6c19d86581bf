"""The Spark side of the chaos workload: seed a table, append under a fault, verify afterwards.

A Spark Connect client needs two guards of its own against a server killed under it:
- a session it replaces (the server restarted and lost it) is stopped and kept referenced until
  the workload ends, never left to the garbage collector: pyspark's `SparkSession.__del__`
  closes the client from inside whatever call the collection interrupts, and that close joins
  the release threads of every session (a class-wide pool). When the interrupted call is a gRPC
  call holding its channel's lock and a release thread waits for that lock, the workload
  deadlocks for good (seen as a write "stuck" after the restart, with no outcome ever);
- the remote write runs under a deadline: a write the server never answers is interrupted and
  reported as failed, and the data-integrity check then decides whether the table really holds
  nothing of it (a write that committed anyway shows as `changed`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from certify.chaos.workload_io import (
    Reporter,
    WorkloadSpec,
    answer_json,
    error_text,
    expected_answer,
)
from certify.platforms.clients import connect_session
from certify.platforms.sparkconf import bound_connect_retries, is_iceberg
from certify.results.findings import JsonObject

_COLUMNS = "id BIGINT, customer INT, amount_cents BIGINT, region STRING, day INT"
_T = TypeVar("_T")


def digest(checksums: dict[str, str]) -> str:
    """One short digest of a table's column checksums."""
    return hashlib.sha256(json.dumps(checksums, sort_keys=True).encode()).hexdigest()[:16]


def within(action: Callable[[], _T], timeout_s: float, what: str) -> _T:
    """`action()` in a daemon thread; TimeoutError when it has not returned after `timeout_s`."""
    box: dict[str, _T] = {}
    errors: list[BaseException] = []

    def run() -> None:
        try:
            box["value"] = action()
        except BaseException as exc:  # handed to the caller's thread as it is
            errors.append(exc)

    worker = threading.Thread(target=run, daemon=True, name=f"certify-{what}")
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise TimeoutError(f"{what}: no answer from Spark Connect within {timeout_s:.0f} s")
    if errors:
        raise errors[0]
    return box["value"]


class SparkJob:
    """One Spark session (classic or Connect) writing one table of the cell's database."""

    def __init__(self, spec: WorkloadSpec, report: Reporter) -> None:
        self.spec = spec
        self.report = report
        remote = spec.params.get("remote")
        self.remote = str(remote) if remote else spec.options.spark.remote
        self.iceberg = is_iceberg(spec.values.get("catalog", ""))
        self.table = f"{spec.options.database}.{spec.table}"
        self.seed_rows = int(spec.number("seed_rows", 1000))
        self.rows = int(spec.number("rows", 200_000))
        self.write_timeout_s = spec.number("write_timeout_s", 120.0)
        self.retired: list[Any] = []  # replaced Connect sessions: see the module's docstring
        self.spark = self._session()

    def _session(self) -> Any:
        from pyspark.sql import SparkSession

        if self.remote:
            session = connect_session(str(self.remote), self.spec.options.spark.session, new=True)
            bound_connect_retries(session)
            return session
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.appName(f"certify chaos {self.spec.table}")
        conf = {**(self.spec.options.spark.conf or {}), **self.spec.conf}
        for key, value in conf.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return session

    def _fresh(self) -> None:
        """A new Connect session (after a server restart the old one is gone)."""
        if self.remote:
            old = self.spark
            self.retired.append(old)  # never garbage-collected mid-call (a deadlock)
            with contextlib.suppress(Exception):  # bounded: it releases the session remotely
                within(old.stop, 30.0, "stopping the lost session")
            self.spark = self._session()

    def _state(self) -> tuple[int, dict[str, str]]:
        from fixtures.data import column_checksums

        frame = self.spark.table(self.table)
        checksums = column_checksums(frame)
        rows = int(next(iter(checksums.values())).split(":")[0]) if checksums else 0
        return rows, checksums

    def seed(self) -> None:
        """A fresh table holding rows [0, seed_rows); its state is the baseline."""
        from fixtures.data import orders_frame

        database = self.table.split(".")[0]
        self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
        self.spark.sql(f"DROP TABLE IF EXISTS {self.table}")
        using = "iceberg" if self.iceberg else "parquet"
        self.spark.sql(f"CREATE TABLE {self.table} ({_COLUMNS}) USING {using}")
        orders_frame(self.spark, self.seed_rows, partitions=1).write.insertInto(self.table)
        rows, checksums = self._state()
        baseline: JsonObject = {"rows": rows, "checksum": digest(checksums)}
        if self.iceberg:
            baseline["snapshots"] = [s for s in self._snapshots()]
        self.report.phase("seeded", baseline=baseline)

    def _snapshots(self) -> list[int]:
        rows = self.spark.sql(f"SELECT snapshot_id FROM {self.table}.snapshots").collect()
        return sorted(int(r[0]) for r in rows)

    def _insert(self) -> None:
        """Append rows [seed, seed + rows), each partition pausing so the fault lands mid-job."""
        from pyspark.sql import functions as F

        from fixtures.data import orders_frame

        total, parts = self.seed_rows + self.rows, int(self.spec.number("partitions", 8))
        per = max(1, total // parts)
        pause = int(self.spec.number("task_pause_ms", 1000))
        sleep = f"java_method('java.lang.Thread', 'sleep', cast({pause} as bigint)) = 'null'"
        frame = orders_frame(self.spark, total, partitions=parts).where(
            (F.col("id") >= self.seed_rows) & F.expr(f"id % {per} != 0 OR {sleep}")
        )
        frame.write.insertInto(self.table)

    def write(self) -> JsonObject:
        """The append under the fault: completed with the answer checked, or failed."""
        self.report.phase("writing")
        started = time.time()
        try:
            if self.remote:
                within(self._insert, self.write_timeout_s, "the write")
            else:  # a classic driver lives in this process: Spark itself retries its tasks
                self._insert()
        except Exception as exc:
            if isinstance(exc, TimeoutError):
                self._abandon()
            return {
                "outcome": "failed",
                "error": error_text(exc),
                "started_at": started,
                "finished_at": time.time(),
            }
        finished = time.time()
        total = self.seed_rows + self.rows
        answer, want = self._answer(), expected_answer(total)
        return {
            "outcome": "completed",
            "started_at": started,
            "finished_at": finished,
            "answer_ok": answer == want,
            "answer": answer_json(answer),
            "expected": answer_json(want),
        }

    def _abandon(self) -> None:
        """Interrupt a write the server never answered and go on with a fresh session."""
        with contextlib.suppress(Exception):
            within(self.spark.interruptAll, 10.0, "interrupting the write")
        self._fresh()

    def _answer(self) -> dict[str, list[int]]:
        query = f"SELECT region, count(*), sum(amount_cents) FROM {self.table} GROUP BY region"
        rows = self.spark.sql(query).collect()
        return {str(r[0]): [int(r[1]), int(r[2])] for r in sorted(rows)}

    def probe_query(self, timeout_s: float) -> float | None:
        """When a query on the table first worked again (None if not within `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self.spark.sql(f"SELECT count(*) FROM {self.table}").collect()
                return time.time()
            except Exception:
                time.sleep(1.0)
                self._fresh()
        return None

    def verify(self, outcome: JsonObject) -> JsonObject:
        """Read the table again: does it hold exactly what the outcome says it must?"""
        from fixtures.data import column_checksums, orders_frame

        self._fresh()
        with contextlib.suppress(Exception):
            self.spark.sql(f"REFRESH TABLE {self.table}")
        completed = outcome.get("outcome") == "completed"
        want_rows = self.seed_rows + (self.rows if completed else 0)
        want = column_checksums(orders_frame(self.spark, want_rows, partitions=2))
        rows, got = self._state()
        table: JsonObject = {
            "table": self.table,
            "rows_before": want_rows,
            "rows_after": rows,
            "checksum_before": digest(want),
            "checksum_after": digest(got),
        }
        problems = self._snapshot_problems(completed) if self.iceberg else []
        table["verdict"] = _verdict(want_rows, rows, want == got and not problems)
        return {"tables": [table], "problems": [p for p in problems], "at": time.time()}

    def _snapshot_problems(self, completed: bool) -> list[str]:
        before = self.report.baseline_snapshots()
        added = [s for s in self._snapshots() if s not in before]
        if len(added) != (1 if completed else 0):
            return [
                f"{len(added)} new snapshot(s) after a {'completed' if completed else 'failed'}"
                " write (want exactly one commit or none)"
            ]
        return []

    def drop(self) -> None:
        """Drop the table (purged, if Iceberg), then the database if nothing else is in it."""
        self._fresh()
        purge = " PURGE" if self.iceberg else ""
        self.spark.sql(f"DROP TABLE IF EXISTS {self.table}{purge}").collect()
        with contextlib.suppress(Exception):  # not empty: the cell's other tables stay
            self.spark.sql(f"DROP DATABASE IF EXISTS {self.table.split('.')[0]}").collect()

    def close(self) -> None:
        """Stop the session (the driver JVM ends with this process)."""
        with contextlib.suppress(Exception):
            self.spark.stop()


def _verdict(want_rows: int, rows: int, same: bool) -> str:
    if same and rows == want_rows:
        return "intact"
    return "lost" if rows < want_rows else "changed"
