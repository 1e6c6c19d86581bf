"""The record store: concurrent writers lose and duplicate nothing; records round-trip."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from certify.errors import UnusableReport
from certify.results import Record, RecordStore
from certify.results.store import read_snapshot

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


def test_a_snapshot_reads_every_run_without_writing_to_the_store(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    store = RecordStore(path)
    store.add(Record("r1", "c1", "smoke", "t::a", "passed"))
    store.add(Record("r2", "c1", "smoke", "t::a", "failed"))
    store.expect("r1", "c1", [("smoke", "t::a"), ("smoke", "t::b")])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    snapshot = read_snapshot(path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert snapshot.run_ids() == ["r1", "r2"]
    assert [r.status for r in snapshot.of_run("r2")] == ["failed"]
    assert snapshot.expected == {"r1": {"c1": [("smoke", "t::a"), ("smoke", "t::b")]}}
    assert snapshot.problems == ()


def test_a_row_whose_key_and_body_disagree_is_named(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    RecordStore(path).add(Record("r1", "c1", "smoke", "t::a", "failed"))
    RecordStore(path).add(Record("r1", "c1", "smoke", "t::b", "passed"))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE records SET status = 'passed' WHERE test_id = 't::a'")
        db.execute("UPDATE records SET body = '{\"schema\": 1}' WHERE test_id = 't::b'")
    problems = read_snapshot(path).problems
    assert problems[0] == (
        "results.sqlite row 1 (c1 t::a): its body says run r1, cell c1, test t::a, suite smoke, "
        "status failed: the row was edited"
    )
    assert problems[1].startswith("results.sqlite row 2 (c1 t::b): not a certify record (")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "the record store is missing"),
        (lambda p: p.mkdir(), "the record store is not a regular file"),
        (lambda p: p.write_bytes(b"x" * 4096), "not a readable record store (file is not a"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.commit(),
            "not a certify record store (no records/expected tables)",
        ),
    ],
)
def test_a_store_that_cannot_be_read_is_unusable_never_a_traceback(
    tmp_path: Path, make: Callable[[Path], object], message: str
) -> None:
    path = tmp_path / "results.sqlite"
    make(path)
    with pytest.raises(UnusableReport, match=re.escape(message)):
        read_snapshot(path)


def test_a_damaged_page_is_found_by_the_integrity_check(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    store = RecordStore(path)
    for i in range(200):
        store.add(Record("r", "c", "smoke", f"t::{i}", "passed", message="x" * 200))
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    for page in range(1, len(data) // 4096):
        data[page * 4096] = 0xFF  # no b-tree page has this type
    path.write_bytes(bytes(data))
    with pytest.raises(UnusableReport, match=r"damaged|malformed"):
        read_snapshot(path)
