"""The record store: concurrent writers lose and duplicate nothing; records round-trip."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from certify.results import Record, RecordStore

WORKERS, PER_WORKER = 4, 500


def _write(path: str, worker: int) -> None:
    store = RecordStore(Path(path))
    for i in range(PER_WORKER):
        store.add(Record("run", f"cell-{worker}", "smoke", f"t::{i}", "passed", duration_s=i))


def test_concurrent_writers_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    RecordStore(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write, args=(str(path), w)) for w in range(WORKERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    records = RecordStore(path).records("run")
    keys = [(r.cell_id, r.test_id) for r in records]
    assert len(keys) == WORKERS * PER_WORKER
    assert len(set(keys)) == len(keys)
    for worker in range(WORKERS):
        mine = [r for r in records if r.cell_id == f"cell-{worker}"]
        assert [r.test_id for r in mine] == [f"t::{i}" for i in range(PER_WORKER)]


def test_writing_a_test_again_replaces_it(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "r.sqlite")
    store.add(Record("run", "c", "smoke", "t::a", "failed", message="first"))
    store.add(Record("run", "c", "smoke", "t::a", "passed"))
    [record] = store.records("run")
    assert record.status == "passed"


def test_records_are_filtered_by_run_and_cell(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "r.sqlite")
    store.add(Record("r1", "c1", "smoke", "t::a", "passed"))
    store.add(Record("r1", "c2", "smoke", "t::a", "passed"))
    store.add(Record("r2", "c1", "smoke", "t::a", "failed"))
    assert [(r.run_id, r.cell_id) for r in store.records("r1")] == [("r1", "c1"), ("r1", "c2")]
    assert [r.status for r in store.records("r2", "c1")] == ["failed"]


def test_record_json_round_trip_and_schema_check() -> None:
    record = Record("r", "c", "smoke", "t::a", "flaky", attempts=2, provenance={"java": "17"})
    assert Record.from_json(record.to_json()) == record
    with pytest.raises(ValueError, match=r"not a certify\.record/2 record"):
        Record.from_json({**record.to_json(), "schema": "other/9"})
