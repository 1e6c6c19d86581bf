"""Chaos experiments for real on a Spark 3.5 standalone cell with a Thrift Hive Metastore: each
passes on a healthy platform; a fault never rolled back fails; the platform is always restored."""

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
from tests.integration.cells import STANDALONE_HIVE
from tests.integration.load_platform import LoadPlatform, load_platform

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadPlatform]:
    with load_platform(tmp_path_factory.mktemp("chaos-sa"), [STANDALONE_HIVE]) as started:
        yield started


def run(plat: LoadPlatform, name: str, out: Path, root: Path = ROOT) -> Record:
    planned, runtime = plat.cell(STANDALONE_HIVE)
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
    assert not [n for n in names if "certify.chaos" in n or "CoarseGrained" in n], names


@pytest.mark.parametrize(
    "name", ["executor-loss", "worker-loss", "metastore-outage", "network-partition"]
)
def test_experiment_passes_on_a_healthy_platform(
    plat: LoadPlatform, tmp_path: Path, name: str
) -> None:
    before = {r["name"]: r["endpoint"] for r in plat.session.status()}
    rec = run(plat, name, tmp_path)
    assert rec.status == "passed", rec.message
    chaos = finding(rec)
    assert chaos.fault is not None and chaos.fault.confirmed, chaos.fault
    assert chaos.recovery_time_s is not None and chaos.recovery_time_s > 0
    assert chaos.integrity.verdict == "intact"
    assert rec.metrics is not None and rec.metrics["rows_verified"] > 1000
    assert chaos.restored == ()
    assert_back(plat, rec, before)


def _fault_only(fault: str) -> Any:
    def change(body: dict[str, Any]) -> None:
        # the fault, never undone (no restart in the method, no rollback), with short waits
        body["method"] = [a for a in body["method"] if a["name"] in (fault, "recovered")]
        body["method"][-1]["provider"]["arguments"]["timeout_s"] = 5
        body["steady-state-hypothesis"]["probes"][0]["provider"]["arguments"]["timeout_s"] = 5
        body["rollbacks"] = []

    return change


@pytest.mark.parametrize(
    ("name", "fault", "service"),
    [("worker-loss", "kill-worker", "spark-worker"),
     ("metastore-outage", "stop-metastore", "hive-metastore")],
)  # fmt: skip
def test_a_fault_never_rolled_back_fails_and_is_restored(
    plat: LoadPlatform, tmp_path: Path, name: str, fault: str, service: str
) -> None:
    before = {r["name"]: r["endpoint"] for r in plat.session.status()}
    body = json.loads((ROOT / "chaos" / f"{name}.json").read_text())
    _fault_only(fault)(body)
    (tmp_path / "root" / "chaos").mkdir(parents=True)
    (tmp_path / "root" / "chaos" / "broken.json").write_text(json.dumps(body))
    rec = run(plat, "broken", tmp_path / "run", tmp_path / "root")
    assert rec.status == "failed", rec.message
    assert (
        "steady state not regained" in rec.message and f"restarted service {service}" in rec.message
    )
    assert_back(plat, rec, before)


def test_a_partition_never_healed_fails_and_is_healed(plat: LoadPlatform, tmp_path: Path) -> None:
    before = {r["name"]: r["endpoint"] for r in plat.session.status()}
    body = json.loads((ROOT / "chaos" / "network-partition.json").read_text())
    body["method"] = [a for a in body["method"] if a["name"] != "heal-metastore"]
    body["method"][-1]["provider"]["arguments"]["timeout_s"] = 5
    # the partitioned write never ends: no probe waits out the shipped 240 s for its outcome
    for probe in body["steady-state-hypothesis"]["probes"]:
        probe["provider"]["arguments"]["timeout_s"] = 5
    body["rollbacks"] = []
    (tmp_path / "root" / "chaos").mkdir(parents=True)
    (tmp_path / "root" / "chaos" / "split.json").write_text(json.dumps(body))
    rec = run(plat, "split", tmp_path / "run", tmp_path / "root")
    assert rec.status == "failed", rec.message
    assert "healed proxy" in rec.message, rec.message
    assert_back(plat, rec, before)


def delete_a_data_file(configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Lose the largest data file of the executor-loss table behind the workload's back."""
    from pyspark.sql import SparkSession

    cell = json.loads(Path(str((configuration or {})["cell"])).read_text())
    conf = dict(cell["options"]["spark"]["conf"])
    conf["spark.master"] = "local[1]"
    builder = SparkSession.builder.appName("certify planted data loss")
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:  # where the metastore says the table lives
        table = f"{cell['options']['database']}.chaos_executor_loss"
        rows = spark.sql(f"DESCRIBE TABLE EXTENDED {table}").collect()
        location = next(r[1] for r in rows if r[0] == "Location")
    finally:
        spark.stop()
    folder = Path(location.removeprefix("file:"))
    files = sorted(folder.glob("part-*"), key=lambda p: p.stat().st_size)
    files[-1].unlink()
    return {"deleted": str(files[-1])}


def test_an_executor_loss_that_really_loses_data_fails(plat: LoadPlatform, tmp_path: Path) -> None:
    before = {r["name"]: r["endpoint"] for r in plat.session.status()}
    body = json.loads((ROOT / "chaos" / "executor-loss.json").read_text())
    body["method"].append(
        {
            "type": "action",
            "name": "lose-a-data-file",
            "provider": {
                "type": "python",
                "module": "tests.integration.test_chaos_standalone",
                "func": "delete_a_data_file",
            },
        }
    )
    (tmp_path / "root" / "chaos").mkdir(parents=True)
    (tmp_path / "root" / "chaos" / "lossy.json").write_text(json.dumps(body))
    rec = run(plat, "lossy", tmp_path / "run", tmp_path / "root")
    assert rec.status == "failed", rec.message
    assert finding(rec).integrity.verdict == "lost"
    assert rec.metrics is not None and rec.metrics["data_loss_rows"] > 0
    assert_back(plat, rec, before)
