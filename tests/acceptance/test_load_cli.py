"""`certify load run` as a user runs it: a real object-store load on a SeaweedFS cell, the
report with its SLO figures, the gate's exit code, and a bad --load name."""

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
POLICY = """\
schema: certify.policy/1
blocking_tiers: [certified, documented, experimental]
pass_verdicts: [certified, waived]
slo:
  - name: object-store-p95
    load: object-store
    metric: p95_ms
    max: 60000
"""


def _project(tmp: Path) -> tuple[Path, Path]:
    matrix = write_matrix(tmp, {"load-s3": [REST_S3]})
    spec = yaml.safe_load(matrix.read_text())
    spec["profiles"]["load-s3"]["load"] = [{"name": "object-store", "shape": "soak"}]
    matrix.write_text(yaml.safe_dump(spec, sort_keys=False))
    policy = tmp / "policy.yaml"
    policy.write_text(POLICY)
    return matrix, policy


def _load(
    tmp: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    matrix, policy = _project(tmp)
    argv = [sys.executable, "-m", "certify", "load", "run", "--profile", "load-s3"]
    argv += ["--matrix", str(matrix), "--policy", str(policy), "--root", str(ROOT), *args]
    return subprocess.run(
        argv,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_load_run_writes_the_report_and_gates_on_slos(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _load(tmp_path, "--out", str(out), "--seconds", "6")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text())
    [cell] = report["cells"]
    assert cell["id"] == cell_id(REST_S3) and cell["verdict"] == "certified"
    [test] = [t for t in cell["tests"] if t["test_id"] == "load/object-store"]
    assert test["status"] in ("passed", "failed")
    stats = out / "evidence" / "spark-3.5_catalog-iceberg-rest_storage-s3_gpu-none_deploy-local"
    assert (stats / "load" / "object-store" / "stats_stats_history.csv").is_file()
    assert "gate: PASS" in proc.stdout

    missed = _load(
        tmp_path, "--out", str(out), "--seconds", "4", env={"CERTIFY_LOAD_SLO": '{"rps": 1e9}'}
    )
    assert missed.returncode == 1, missed.stdout + missed.stderr
    [cell] = json.loads((out / "report.json").read_text())["cells"]
    assert cell["verdict"] == "failed"
    assert any("rps" in r and "< 1e+09" in r for r in cell["reasons"]), cell["reasons"]


def test_an_unknown_load_name_is_a_usage_error(tmp_path: Path) -> None:
    proc = _load(tmp_path, "--out", str(tmp_path / "x"), "--load", "nope")
    assert proc.returncode == 2
    assert "plans no load profile 'nope'" in proc.stderr and "object-store" in proc.stderr
