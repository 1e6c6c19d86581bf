"""The pyiceberg side of the chaos workload (iceberg-rest + s3 cells): append under a fault."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from typing import Any

from certify.chaos.workload_io import (
    Reporter,
    WorkloadSpec,
    answer_json,
    error_text,
    expected_answer,
    expected_rows,
)
from certify.platforms.clients import rest_catalog
from certify.results.findings import JsonObject

KEY_VAR = "CERTIFY_S3_ACCESS_KEY_ID"
SECRET_VAR = "CERTIFY_S3_SECRET_ACCESS_KEY"
_NAMES = ("id", "customer", "amount_cents", "region", "day")


def _arrow(rows: list[tuple[Any, ...]]) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped]

    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("customer", pa.int32()),
            ("amount_cents", pa.int64()),
            ("region", pa.string()),
            ("day", pa.int32()),
        ]
    )
    columns: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)]
    return pa.table(columns or [[] for _ in _NAMES], schema=schema)


class IcebergJob:
    """A pyiceberg REST catalog on SeaweedFS S3, possibly reached through fault proxies."""

    def __init__(self, spec: WorkloadSpec, report: Reporter) -> None:
        self.spec = spec
        self.report = report
        self.database = spec.options.database
        self.name = f"{self.database}.{spec.table}"
        self.seed_rows = int(spec.number("seed_rows", 1000))
        self.rows = int(spec.number("rows", 20_000))
        self.catalog = self._catalog(spec.endpoints)

    def _catalog(self, overrides: Mapping[str, str]) -> Any:
        store = self.spec.options.s3
        s3 = {**(store.to_json() if store is not None else {}), **overrides}
        timeouts = {"s3.connect-timeout": "10", "s3.request-timeout": "30"}
        return rest_catalog(s3, os.environ[KEY_VAR], os.environ[SECRET_VAR], **timeouts)

    def _state(self, catalog: Any) -> tuple[int, str, Any]:
        from fixtures.data import row_digest

        table = catalog.load_table(self.name)
        data = table.scan().to_arrow()
        rows = list(zip(*(data.column(n).to_pylist() for n in _NAMES), strict=True))
        return len(rows), row_digest(rows), table

    def seed(self) -> None:
        """A fresh table holding rows [0, seed_rows)."""
        from pyiceberg.exceptions import NoSuchTableError

        self.catalog.create_namespace_if_not_exists(self.database)
        with contextlib.suppress(NoSuchTableError):
            self.catalog.drop_table(self.name)
        seed = _arrow(expected_rows(self.seed_rows))
        table = self.catalog.create_table(self.name, schema=seed.schema)
        table.append(seed)
        rows, checksum, table = self._state(self.catalog)
        snapshots = sorted(int(s.snapshot_id) for s in table.metadata.snapshots)
        baseline: JsonObject = {"rows": rows, "checksum": checksum[:16], "snapshots": [*snapshots]}
        self.report.phase("seeded", baseline=baseline)

    def write(self) -> JsonObject:
        """Write the new rows' files, hold the commit `hold_s`, then commit (one snapshot)."""
        total = self.seed_rows + self.rows
        data = _arrow([r for r in expected_rows(total) if r[0] >= self.seed_rows])
        self.report.phase("writing")
        started = time.time()
        try:
            table = self.catalog.load_table(self.name)
            tx = table.transaction()
            tx.append(data)
            self.report.phase("committing")
            time.sleep(self.spec.number("hold_s", 2.0))
            tx.commit_transaction()
        except Exception as exc:
            return {
                "outcome": "failed",
                "error": error_text(exc),
                "started_at": started,
                "finished_at": time.time(),
            }
        finished = time.time()
        answer = self._answer()
        want = expected_answer(total)
        return {
            "outcome": "completed",
            "started_at": started,
            "finished_at": finished,
            "answer_ok": answer == want,
            "answer": answer_json(answer),
            "expected": answer_json(want),
        }

    def _answer(self) -> dict[str, list[int]]:
        data = self.catalog.load_table(self.name).scan().to_arrow()
        totals: dict[str, list[int]] = {}
        for region, amount in zip(
            data.column("region").to_pylist(), data.column("amount_cents").to_pylist(), strict=True
        ):
            entry = totals.setdefault(region, [0, 0])
            entry[0] += 1
            entry[1] += amount
        return dict(sorted(totals.items()))

    def probe_query(self, timeout_s: float) -> float | None:
        """When a scan of the table first worked again (None if not within `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self.catalog.load_table(self.name).scan().to_arrow()
                return time.time()
            except Exception:
                time.sleep(0.5)
        return None

    def verify(self, outcome: JsonObject) -> JsonObject:
        """Read the table through the real endpoints: exact rows, one commit or none, no orphan."""
        from fixtures.data import row_digest

        completed = outcome.get("outcome") == "completed"
        want_rows = self.seed_rows + (self.rows if completed else 0)
        want = row_digest(expected_rows(want_rows))
        rows, got, table = self._state(self._catalog({}))
        problems = self._snapshot_problems(table, completed)
        same = got == want and not problems
        verdict = "intact" if same else ("lost" if rows < want_rows else "changed")
        entry: JsonObject = {
            "table": self.name,
            "rows_before": want_rows,
            "rows_after": rows,
            "checksum_before": want[:16],
            "checksum_after": got[:16],
            "verdict": verdict,
        }
        return {"tables": [entry], "problems": [*problems], "at": time.time()}

    def _snapshot_problems(self, table: Any, completed: bool) -> list[str]:
        before = set(self.report.baseline_snapshots())
        snapshots = {s.snapshot_id: s for s in table.metadata.snapshots}
        added = [s for s in snapshots if s not in before]
        problems = []
        if len(added) != (1 if completed else 0):
            problems.append(
                f"{len(added)} new snapshot(s) after a "
                f"{'completed' if completed else 'failed'} write"
            )
        reachable, current = set(), table.metadata.current_snapshot_id
        while current is not None and current in snapshots and current not in reachable:
            reachable.add(current)
            current = snapshots[current].parent_snapshot_id
        orphans = sorted(set(snapshots) - reachable)
        if orphans:
            problems.append(f"orphaned snapshot(s) not in the current lineage: {orphans}")
        return problems

    def drop(self) -> None:
        """Purge the table through the real endpoints, then the namespace if it is empty."""
        from pyiceberg.exceptions import NoSuchTableError

        catalog = self._catalog({})
        with contextlib.suppress(NoSuchTableError):
            catalog.purge_table(self.name)
        with contextlib.suppress(Exception):  # not empty: the cell's other tables stay
            catalog.drop_namespace(self.database)

    def close(self) -> None:
        """Nothing to stop (no JVM)."""


__all__ = ["IcebergJob"]
