"""Each load profile for real on the local platform: figures, SLO misses, not-applicable cells,
and load while SeaweedFS is paused (SIGSTOP) and resumed. One platform session for all."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from certify.load.runner import FaultWindow, LoadOptions, run_load
from certify.platforms.base import CellJob
from certify.results import Record, RecordStore
from certify.results.findings import LoadFinding
from tests.integration.cells import CONNECT_HIVE, REST_S3
from tests.integration.load_platform import LoadPlatform, load_platform

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CELLS = {
    "spark-connect-sql": CONNECT_HIVE,
    "catalog-metadata": REST_S3,
    "online-lookup": REST_S3,
    "object-store": REST_S3,
}
METRICS = {"p50_ms", "p95_ms", "p99_ms", "error_rate", "rps", "requests", "failures"}


def _locusts() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "-m locust" in cmd:
                found.append(cmd)
    return found


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadPlatform]:
    """The services of a 4.1 Connect Hive cell and a 3.5 REST + S3 cell, started once."""
    with load_platform(tmp_path_factory.mktemp("load-platform")) as started:
        yield started
    assert not _locusts(), "a locust process outlived the tests"


@pytest.fixture(scope="module")
def run(platform: LoadPlatform, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("load-run")
    store = RecordStore(out / "results.sqlite")

    def go(profile: str, values: dict[str, str] | None = None, **kw: Any) -> Record:
        planned, runtime = platform.cell(values or CELLS[profile])
        record = run_load(
            profile,
            CellJob(planned, runtime, platform.session, out, ROOT, store, "t"),
            LoadOptions(**kw),
        )
        assert record in store.records("t", planned.cell.id)
        return record

    go.out = out  # type: ignore[attr-defined]
    return go


def _finding(record: Record) -> LoadFinding:
    assert isinstance(record.finding, LoadFinding), record
    return record.finding


def _evidence(run: Any, record: Record) -> None:
    load = _finding(record).run
    assert load is not None
    for key in ("json", "csv_history", "log"):
        assert (run.out / load.stats[key]).is_file(), key


@pytest.mark.parametrize("profile", list(CELLS))
def test_profile_runs_and_produces_figures(run: Any, profile: str) -> None:
    record = run(profile, seconds=10)
    assert record.status in ("passed", "failed"), record.message
    assert record.kind == "load" and record.test_id == f"load/{profile}"
    metrics = record.metrics
    assert metrics is not None and set(metrics) >= METRICS
    assert metrics["requests"] > 0 and metrics["p50_ms"] > 0
    slos = _finding(record).slos
    assert {s.metric for s in slos} == {"p50_ms", "p95_ms", "p99_ms", "error_rate", "rps"}
    assert all(s.measured is not None and s.note.startswith("rounding") for s in slos)
    assert (record.status == "passed") == all(s.met for s in slos)
    _evidence(run, record)


@pytest.mark.parametrize("profile", list(CELLS))
def test_a_threshold_beyond_reach_is_a_miss_with_the_measured_value(run: Any, profile: str) -> None:
    record = run(profile, seconds=5, slo={"p95_ms": 0.001})
    assert record.status == "failed", record.message
    [p95] = [s for s in _finding(record).slos if s.metric == "p95_ms"]
    assert p95.met is False and p95.threshold == 0.001
    assert record.metrics is not None and p95.measured is not None
    assert p95.measured == record.metrics["p95_ms"] >= 1
    assert f"p95_ms {p95.measured:g} > 0.001" in record.message


def test_catalog_metadata_notes_the_hive_half(run: Any) -> None:
    record = run("catalog-metadata", CONNECT_HIVE, seconds=5)
    parts = _finding(record).parts
    rest, hive = parts["rest"], parts["hive"]
    assert isinstance(rest, dict) and isinstance(hive, dict)
    assert rest["status"] == "not_run"
    if record.status == "not_run":
        # the runtime lacks pyiceberg[hive]'s thrift: the Hive half says so, nothing runs
        assert not record.applicable and "thrift" in str(hive["reason"])
    else:
        assert hive["status"] == "ran" and record.metrics and record.metrics["requests"] > 0


def test_a_profile_that_does_not_apply_is_not_run(run: Any) -> None:
    record = run("spark-connect-sql", REST_S3)
    assert (record.status, record.applicable) == ("not_run", False)
    assert "deploy" in record.message


def test_an_unknown_profile_is_an_error_naming_its_file(run: Any) -> None:
    record = run("no-such-load", REST_S3)
    assert record.status == "error" and "load/no-such-load.py" in record.message


def test_load_while_seaweedfs_is_paused(run: Any, platform: LoadPlatform) -> None:
    pid = platform.pid("seaweedfs")

    def pause() -> FaultWindow:
        start = time.time()
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(6)
        finally:
            os.kill(pid, signal.SIGCONT)
        return FaultWindow(start, time.time())

    record = run("object-store", seconds=21, shape="soak", during=pause, during_name="pause-s3")
    load = _finding(record)
    assert load.run is not None and load.windows is not None, record.message
    before, during = load.windows["before"], load.windows["during"]
    assert load.run.during == "pause-s3"
    assert before["rps"] > 5
    # the store answers nothing while stopped: throughput collapses in the window (which is
    # widened by one history row each way, so it also holds about 2 s of normal traffic)
    assert during["rps"] < before["rps"] / 2, load.windows
    assert load.throughput_recovery_s is not None and load.throughput_recovery_s < 8
    assert load.windows["after"]["rps"] > before["rps"] / 2
