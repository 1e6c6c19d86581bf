"""`certify chaos validate` and `certify chaos run` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.cells import REST_S3, cell_id, write_matrix

ROOT = Path(__file__).resolve().parents[2]


def _certify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "certify", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def test_shipped_experiments_validate() -> None:
    proc = _certify("chaos", "validate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok      executor-loss" in proc.stdout and "INVALID" not in proc.stdout


def test_a_broken_experiment_is_named_with_its_fix(tmp_path: Path) -> None:
    body = json.loads((ROOT / "chaos" / "worker-loss.json").read_text())
    body["extensions"][0]["fault"] = "missing"
    (tmp_path / "chaos").mkdir()
    (tmp_path / "chaos" / "bad.json").write_text(json.dumps(body))
    proc = _certify("chaos", "validate", "--root", str(tmp_path))
    assert proc.returncode == 2
    assert "INVALID bad" in proc.stdout and "extensions.certify.fault" in proc.stdout


@pytest.mark.slow
def test_chaos_run_runs_only_the_experiment_and_judges_it(tmp_path: Path) -> None:
    """`certify chaos run --experiment`: no suite or load evidence asked for, the verdict kept."""
    matrix = write_matrix(tmp_path / "m", {"s3": [REST_S3]})
    spec = yaml.safe_load(matrix.read_text())
    spec["profiles"]["s3"].update(
        suites=["smoke"], chaos=["object-store-latency", "object-store-outage"]
    )
    matrix.write_text(yaml.safe_dump(spec, sort_keys=False))
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "certify", "chaos", "run", "--profile", "s3", "--matrix",
         str(matrix), "--experiment", "object-store-latency", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "CERTIFY_STATE_DIR": str(tmp_path / "state")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [cell] = json.loads((out / "report.json").read_text())["cells"]
    assert cell["id"] == cell_id(REST_S3) and cell["verdict"] == "certified", cell["reasons"]
    [row] = cell["chaos"]
    assert row["experiment"] == "object-store-latency" and row["recovery_time_s"] is not None
    assert [t["test_id"] for t in cell["tests"]] == ["chaos/object-store-latency"]
    assert list((out / "evidence").glob("*/chaos/object-store-latency.journal.json"))
