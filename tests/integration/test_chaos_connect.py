"""The Spark Connect server restart experiment for real on a Spark 4.1 Connect cell: it passes on
a healthy platform, fails when the server never comes back, and the platform is always restored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from certify.chaos.runner import run_experiment
from certify.host import procs
from certify.platforms.base import CellJob
from certify.results import Record, RecordStore
from certify.results.findings import ChaosFinding
from tests.integration.cells import CONNECT_HIVE
from tests.integration.load_platform import LoadPlatform, load_platform

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadPlatform]:
    with load_platform(tmp_path_factory.mktemp("chaos-connect"), [CONNECT_HIVE]) as started:
        yield started


def run(plat: LoadPlatform, name: str, out: Path, root: Path = ROOT) -> Record:
    planned, runtime = plat.cell(CONNECT_HIVE)
    store = RecordStore(out / "results.sqlite")
    return run_experiment(name, CellJob(planned, runtime, plat.session, out, root, store, "t"))


def finding(rec: Record) -> ChaosFinding:
    assert isinstance(rec.finding, ChaosFinding), rec
    return rec.finding


def assert_back(plat: LoadPlatform, rec: Record, before: dict[str, str]) -> None:
    rows = plat.session.status()
    assert all(r["healthy"] for r in rows), rows
    assert {r["name"]: r["endpoint"] for r in rows} == before
    assert finding(rec).leftovers == ()
    names = [procs.cmdline(p) for p in procs.marked(plat.session.session_id)]
    assert not [n for n in names if "certify.chaos" in n], names


def test_connect_server_restart_passes_on_a_healthy_platform(
    plat: LoadPlatform, tmp_path: Path
) -> None:
    before = {r["name"]: r["endpoint"] for r in plat.session.status()}
    server = plat.pid("spark-connect")
    rec = run(plat, "connect-server-restart", tmp_path)
    assert rec.status == "passed", rec.message
    chaos = finding(rec)
    assert chaos.fault is not None and chaos.fault.confirmed, chaos.fault
    assert chaos.recovery_time_s is not None and chaos.recovery_time_s > 0
    assert chaos.integrity.verdict == "intact"
    assert rec.metrics is not None and rec.metrics["rows_verified"] >= 1000
    assert chaos.restored == ()
    assert plat.pid("spark-connect") != server  # really killed and started again
    assert_back(plat, rec, before)


def _never_restarted(body: dict[str, Any]) -> None:
    body["method"] = [a for a in body["method"] if a["name"] != "restart-connect-server"]
    body["method"][-1]["provider"]["arguments"]["timeout_s"] = 10
    body["steady-state-hypothesis"]["probes"][0]["provider"]["arguments"]["timeout_s"] = 5
    body["rollbacks"] = []


def test_a_server_that_never_comes_back_fails_and_is_restored(
    plat: LoadPlatform, tmp_path: Path
) -> None:
    before = {r["name"]: r["endpoint"] for r in plat.session.status()}
    body = json.loads((ROOT / "chaos" / "connect-server-restart.json").read_text())
    _never_restarted(body)
    (tmp_path / "root" / "chaos").mkdir(parents=True)
    (tmp_path / "root" / "chaos" / "connect-gone.json").write_text(json.dumps(body))
    rec = run(plat, "connect-gone", tmp_path / "run", tmp_path / "root")
    assert rec.status == "failed", rec.message
    assert "restarted service spark-connect" in rec.message, rec.message
    assert_back(plat, rec, before)
