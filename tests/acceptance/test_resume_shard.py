"""A run killed at any moment resumes to the report an uninterrupted run gives; shards split it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import textwrap
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jsonschema

from certify.report import schema
from tests.acceptance.test_run import CERTIFY, certify

MATRIX = """
schema: certify.matrix/1
name: parts
dimensions:
  spark: {values: {"3.5": {pyspark: "%s"}}}
  catalog: {values: {hive: {}}}
  part: {values: {p1: {}, p2: {}, p3: {}, p4: {}}}
tiers:
  certified: {cells: [{part: "*"}]}
profiles:
  all: {tiers: [certified], suites: [smoke]}
"""

SCENARIO = """
import time
import pytest

@pytest.mark.parametrize("n", [1, 2, 3])
def test_step(cell, n):
    time.sleep(0.25)
    assert cell.values["part"].startswith("p")
"""


def _project(path: Path) -> Path:
    (path / "matrices").mkdir(parents=True)
    (path / "matrices" / "parts.yaml").write_text(MATRIX % version("pyspark"))
    (path / "scenarios" / "smoke").mkdir(parents=True)
    (path / "scenarios" / "smoke" / "test_parts.py").write_text(textwrap.dedent(SCENARIO))
    return path


def _report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, schema())
    return report


def _outcome(report: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """What must not depend on interruptions: cells, verdicts and every test's status."""
    return [
        (c["id"], c["verdict"], sorted((t["test_id"], t["status"]) for t in c["tests"]))
        for c in report["cells"]
    ]


def _count(store: Path, query: str) -> int:
    try:
        with sqlite3.connect(store, timeout=5) as db:
            return int(db.execute(query).fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_sigkill_then_resume_gives_the_uninterrupted_report(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    clean = certify(
        "run", "--profile", "all", "--out", str(tmp_path / "clean"), "--root", str(project)
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr

    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [*CERTIFY, "run", "--profile", "all", "--out", str(out), "--root", str(project)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = out / "results.sqlite"
    deadline = time.monotonic() + 60
    # kill once the first cell is done and the second is half-way
    while time.monotonic() < deadline and _count(store, "SELECT count(*) FROM records") < 4:
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=30)
    assert not (out / "report.json").exists(), "SIGKILL leaves no chance to write a report"
    kept = _count(store, "SELECT count(*) FROM records")
    assert 4 <= kept < 12

    resumed = certify("run", "--resume", str(out), "--root", str(project))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    report = _report(out)
    assert _outcome(report) == _outcome(_report(tmp_path / "clean"))
    assert report["run"]["resumed"] is True
    # no duplicate and nothing lost: 4 cells x 3 tests, each once, in one run
    assert _count(store, "SELECT count(*) FROM records") == 12
    assert _count(store, "SELECT count(DISTINCT run_id) FROM records") == 1
    # the resumed invocation ran only the cells that were not finished
    assert resumed.stderr.count("certify: running") < 4


def test_resume_of_a_folder_without_a_run_is_a_usage_error(tmp_path: Path) -> None:
    proc = certify("run", "--resume", str(tmp_path))
    assert proc.returncode == 2
    assert "run.json: no such file; --resume needs the folder of a run" in proc.stderr


def test_shards_split_the_plan_and_merge_back(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    ran: list[set[str]] = []
    for i in (1, 2):
        out = tmp_path / f"shard{i}"
        proc = certify(
            "run",
            "--profile",
            "all",
            "--shard",
            f"{i}/2",
            "--out",
            str(out),
            "--root",
            str(project),
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        report = _report(out)
        assert report["run"]["shard"] == f"{i}/2"
        ran.append({c["id"] for c in report["cells"]})
        assert len(json.loads((out / "plan.json").read_text())["cells"]) == 4
    assert len(ran[0]) == len(ran[1]) == 2 and not ran[0] & ran[1]
    merged = tmp_path / "merged"
    proc = certify(
        "report",
        "merge",
        str(tmp_path / "shard1"),
        str(tmp_path / "shard2"),
        "--out",
        str(merged),
        "--no-history",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = _report(merged)
    assert {c["id"] for c in report["cells"]} == ran[0] | ran[1]
    assert report["gate"]["verdict"] == "pass"
    # the merged folder is evidence in its own right: the gate re-derives it from the shards'
    # records and the full plan, under the project's policy and matrix
    proc = certify("gate", str(merged), "--root", str(project))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_missing_shard_fails_the_merged_gate(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    out = tmp_path / "shard1"
    proc = certify(
        "run", "--profile", "all", "--shard", "1/2", "--out", str(out), "--root", str(project)
    )
    assert proc.returncode == 0
    merged = tmp_path / "merged"
    proc = certify("report", "merge", str(out), "--out", str(merged), "--no-history")
    report = _report(merged)
    assert report["gate"]["verdict"] == "fail"
    assert sorted(c["verdict"] for c in report["cells"]).count("incomplete") == 2
    proc = certify("gate", str(merged), "--root", str(project))
    assert proc.returncode == 1, proc.stdout + proc.stderr


def test_a_bad_shard_spec_is_a_usage_error(tmp_path: Path) -> None:
    proc = certify(
        "run", "--profile", "all", "--shard", "3/2", "--root", str(_project(tmp_path / "p"))
    )
    assert proc.returncode == 2
    assert "valid: I/N" in proc.stderr
