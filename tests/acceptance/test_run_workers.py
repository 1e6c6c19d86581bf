"""`certify run -n N`: N slots for the whole run; each lane one pytest, each cell in one lane."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from certify.report import schema
from certify.results import RecordStore
from tests.acceptance.test_resume_shard import _outcome, _project
from tests.acceptance.test_run import ROOT, certify


def _report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, schema())
    return report


def _workers(out: Path) -> dict[str, set[str]]:
    """Cell -> the lanes (pytest processes) its records were written by (the run's store)."""
    found: dict[str, set[str]] = {}
    for record in RecordStore(out / "results.sqlite").records():
        found.setdefault(record.cell_id, set()).add(record.provenance["worker"])
    return found


def test_slots_keep_each_cell_in_one_lane_and_give_the_same_outcome(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    serial = certify(
        "run", "--profile", "all", "-n", "1", "--out", str(tmp_path / "serial"), "--root",
        str(project),
    )  # fmt: skip
    assert serial.returncode == 0, serial.stdout + serial.stderr
    proc = certify(
        "run",
        "--profile",
        "all",
        "-n",
        "2",
        "--out",
        str(tmp_path / "xdist"),
        "--root",
        str(project),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = _report(tmp_path / "xdist")
    assert _outcome(report) == _outcome(_report(tmp_path / "serial"))
    workers = _workers(tmp_path / "xdist")
    assert all(len(w) == 1 for w in workers.values()), workers
    # four cells of one runtime on two slots: two lanes (a pytest each) that claimed the cells
    # between them as they went, each cell once
    assert set().union(*workers.values()) <= {"lane-1", "lane-2"}
    assert proc.stderr.count("certify: running") == 2
    claims = tmp_path / "xdist" / "evidence" / "claims"
    assert sorted(p.read_text().strip() for p in claims.iterdir()) == sorted(
        next(iter(w)) for w in workers.values()
    )
    # with one slot, one pytest runs all four cells one after the other
    assert set().union(*_workers(tmp_path / "serial").values()) == {"lane-1"}
    assert serial.stderr.count("certify: running") == 1


SPARK_MATRIX = """
schema: certify.matrix/1
name: twins
dimensions:
  spark: {values: {"3.5": {pyspark: "%s"}}}
  catalog: {values: {hive: {}}}
  storage: {values: {local: {}}}
  gpu: {values: {none: {}}}
  deploy: {values: {local: {}}}
  twin: {values: {a: {}, b: {}}}
tiers:
  certified: {cells: [{twin: "*"}]}
profiles:
  twins: {tiers: [certified], suites: [smoke]}
"""


@pytest.mark.slow
def test_one_lane_runs_two_spark_cells_each_with_its_own_session(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "matrices").mkdir(parents=True)
    (project / "matrices" / "twins.yaml").write_text(SPARK_MATRIX % version("pyspark"))
    (project / "scenarios").symlink_to(ROOT / "scenarios")
    (project / "fixtures").symlink_to(ROOT / "fixtures")
    (project / "conftest.py").symlink_to(ROOT / "conftest.py")
    out = tmp_path / "out"
    proc = certify(
        "run", "--profile", "twins", "-n", "1", "--out", str(out), "--root", str(project)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = _report(out)
    assert [c["verdict"] for c in report["cells"]] == ["certified", "certified"]
    # each cell wrote its own Derby metastore: its own session and catalog, though the second
    # cell's session ran in the driver JVM the first one started (same JVM settings)
    work = sorted(p.name for p in (out / "work").iterdir() if p.is_dir())
    assert all((out / "work" / w / "metastore_db").is_dir() for w in work) and len(work) == 2
    assert _workers(out) == {c["id"]: {"lane-1"} for c in report["cells"]}
    notes = [json.loads((out / "work" / w / "spark-session.json").read_text()) for w in work]
    assert sorted(n["jvm_reused"] for n in notes) == [False, True], notes
    assert len({n["pid"] for n in notes}) == 1  # one pytest process
