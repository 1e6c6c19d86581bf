"""Chaos experiments for real on an Iceberg REST + S3 cell (SeaweedFS, pyiceberg): pass on a healthy
platform, fail when the platform cannot recover, and always leave the platform as it was."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from certify.chaos.runner import run_experiment
from certify.host import procs
from certify.platforms.base import CellJob
from certify.results import Record, RecordStore
from certify.results.findings import ChaosFinding
from tests.integration.cells import REST_S3
from tests.integration.load_platform import LoadPlatform, load_platform

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadPlatform]:
    with load_platform(tmp_path_factory.mktemp("chaos-s3"), [REST_S3]) as started:
        yield started


def variant(tmp: Path, name: str, new: str, change: Any) -> Path:
    """A project root whose chaos/NEW.json is experiment NAME changed by `change(body)`."""
    body = json.loads((ROOT / "chaos" / f"{name}.json").read_text())
    change(body)
    (tmp / "chaos").mkdir(parents=True, exist_ok=True)
    (tmp / "chaos" / f"{new}.json").write_text(json.dumps(body))
    return tmp


def run(plat: LoadPlatform, name: str, out: Path, root: Path = ROOT, **kw: Any) -> Record:
    planned, runtime = plat.cell(REST_S3)
    store = RecordStore(out / "results.sqlite")
    return run_experiment(
        name, CellJob(planned, runtime, plat.session, out, root, store, "t"), **kw
    )


def finding(rec: Record) -> ChaosFinding:
    assert isinstance(rec.finding, ChaosFinding), rec
    return rec.finding


def assert_back(plat: LoadPlatform, rec: Record) -> None:
    """Every service healthy on its endpoint, no proxy, no workload process left."""
    assert all(row["healthy"] for row in plat.session.status()), plat.session.status()
    assert finding(rec).leftovers == ()
    marked = procs.marked(plat.session.session_id)
    names = [procs.cmdline(p) for p in marked]
    assert not [n for n in names if "certify.chaos" in n], names


def test_object_store_outage_passes_and_data_survives_the_restart(
    plat: LoadPlatform, tmp_path: Path
) -> None:
    before = {r["name"]: r["endpoint"] for r in plat.session.status()}
    rec = run(plat, "object-store-outage", tmp_path)
    assert rec.status == "passed", rec.message
    chaos = finding(rec)
    assert chaos.fault is not None and chaos.fault.confirmed and chaos.recovery_time_s is not None
    assert chaos.integrity.verdict == "intact"
    assert rec.metrics is not None and rec.metrics["rows_verified"] >= 1000
    assert chaos.journal is not None and (tmp_path / chaos.journal).is_file()
    assert {r["name"]: r["endpoint"] for r in plat.session.status()} == before
    assert_back(plat, rec)


def test_object_store_latency_is_measured_by_the_proxy(plat: LoadPlatform, tmp_path: Path) -> None:
    rec = run(plat, "object-store-latency", tmp_path)
    assert rec.status == "passed", rec.message
    fault = finding(rec).fault
    assert fault is not None and fault.confirmed and "added up to" in fault.evidence
    assert_back(plat, rec)


def _never_restarted(body: dict[str, Any]) -> None:
    body["method"] = [a for a in body["method"] if a["name"] != "start-object-store"]
    for activity in body["method"]:
        if activity["name"] == "recovered":
            activity["provider"]["arguments"]["timeout_s"] = 5
    body["steady-state-hypothesis"]["probes"][0]["provider"]["arguments"]["timeout_s"] = 5
    body["rollbacks"] = []


def test_an_outage_never_rolled_back_fails_and_certify_restores(
    plat: LoadPlatform, tmp_path: Path
) -> None:
    root = variant(tmp_path / "root", "object-store-outage", "outage-forever", _never_restarted)
    rec = run(plat, "outage-forever", tmp_path / "run", root)
    assert rec.status == "failed", rec.message
    assert "restarted service seaweedfs" in rec.message
    assert_back(plat, rec)


def _corrupting(body: dict[str, Any]) -> None:
    # the planted data loss: the workload's table loses rows before the verification
    body["method"].insert(
        -1,
        {
            "type": "action",
            "name": "corrupt",
            "provider": {
                "type": "python",
                "module": "tests.integration.test_chaos_s3",
                "func": "drop_rows",
            },
        },
    )


def drop_rows(configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Delete rows of the workload's table behind its back (called by the corrupting variant)."""
    from pyiceberg.expressions import LessThan

    from certify.platforms.clients import rest_catalog

    cell = json.loads(Path(str((configuration or {})["cell"])).read_text())
    key, secret = os.environ["CERTIFY_S3_ACCESS_KEY_ID"], os.environ["CERTIFY_S3_SECRET_ACCESS_KEY"]
    catalog = rest_catalog(cell["options"]["s3"], key, secret)
    table = catalog.load_table(f"{cell['options']['database']}.chaos_object_store_latency")
    table.delete(LessThan("id", 100))
    return {"deleted_below": 100}


def test_lost_rows_fail_the_experiment(plat: LoadPlatform, tmp_path: Path) -> None:
    root = variant(tmp_path / "root", "object-store-latency", "latency-corrupt", _corrupting)
    rec = run(plat, "latency-corrupt", tmp_path / "run", root)
    assert rec.status == "failed", rec.message
    assert finding(rec).integrity.verdict in ("lost", "changed")
    assert rec.metrics is not None and rec.metrics["data_loss_rows"] >= 100
    assert_back(plat, rec)


def test_sigterm_mid_fault_still_rolls_back(plat: LoadPlatform, tmp_path: Path) -> None:
    def hold(body: dict[str, Any]) -> None:
        for activity in body["method"]:
            if activity["name"] == "stop-object-store":
                activity["pauses"] = {"after": 30}

    root = variant(tmp_path / "root", "object-store-outage", "outage-interrupted", hold)
    out = tmp_path / "run"

    def interrupt(proc: Any) -> None:
        def later() -> None:
            journal_dir = next(iter((out / "evidence").glob("*/chaos/outage-interrupted")), None)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                log = journal_dir / "chaos.log" if journal_dir else None
                if log and log.exists() and "Pausing after activity for 30s" in log.read_text():
                    os.kill(proc.pid, signal.SIGTERM)
                    return
                journal_dir = journal_dir or next(
                    iter((out / "evidence").glob("*/chaos/outage-interrupted")), None
                )
                time.sleep(0.2)

        threading.Thread(target=later, daemon=True).start()

    rec = run(plat, "outage-interrupted", out, root, on_start=interrupt)
    assert rec.status == "error" and "interrupted" in rec.message, rec.message
    assert finding(rec).status == "interrupted"
    assert_back(plat, rec)
