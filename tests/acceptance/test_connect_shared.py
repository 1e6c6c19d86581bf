"""One warm Spark Connect server per Spark line, shared by its Connect cells, a session each.

Two Spark 4.1 Connect cells (the platform's hive cell and its twin) run at once (`-n 2`): both
certify, the run starts one Connect server (one log, one server JVM), and each cell's session
wrote its own database on that server (names from the run and the cell).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from certify.cell import database_name
from tests.integration.cells import CONNECT_HIVE, ROOT, write_matrix

pytestmark = pytest.mark.slow


@pytest.mark.usefixtures("spark41_python")  # the Spark 4.1 runtime, built once (cached)
def test_connect_cells_of_a_line_share_one_server_each_with_its_own_session(
    tmp_path: Path,
) -> None:
    matrix = write_matrix(tmp_path / "m", {"twins": [CONNECT_HIVE]})
    spec = yaml.safe_load(matrix.read_text())
    spec["dimensions"]["twin"] = {"values": {"a": {}, "b": {}}}
    profile = spec["profiles"]["twins"]
    profile["select"] = [{**s, "twin": "*"} for s in profile["select"]]
    matrix.write_text(yaml.safe_dump(spec, sort_keys=False))
    out = tmp_path / "run"
    env = {**os.environ, "CERTIFY_STATE_DIR": str(tmp_path / "state")}
    argv = [sys.executable, "-m", "certify", "run", "--profile", "twins", "--matrix", str(matrix)]
    proc = subprocess.run(
        [*argv, "--out", str(out), "-n", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert [c["verdict"] for c in report["cells"]] == ["certified", "certified"]
    servers = sorted(p.name for p in (out / "evidence" / "services").glob("spark-connect*.log"))
    assert servers == ["spark-connect.log"]
    # both cells ran at once, each in its own pytest (two slots), on the one server
    assert proc.stderr.count("certify: running") == 2
    # each session made and listed its own database on the shared server (smoke suite)
    for cell in report["cells"]:
        [reachable] = [t for t in cell["tests"] if "test_catalog_reachable" in t["test_id"]]
        assert reachable["status"] == "passed"
    assert len({database_name(report["run"]["id"], c["id"]) for c in report["cells"]}) == 2
