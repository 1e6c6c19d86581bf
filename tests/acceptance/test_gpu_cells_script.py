"""tools/gpu-cells.sh as a person on a GPU machine runs it, with a stand-in nvidia-smi: it
plans exactly the GPU cells it was asked for, under the smoke, parity and gpu suites."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_plan_only_plans_the_requested_gpu_cells(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text('#!/bin/sh\necho "0, NVIDIA H200"\n')
    smi.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env["CERTIFY_MAVEN"] = "off"  # the plan only; no 1 GB download
    argv = [str(ROOT / "tools" / "gpu-cells.sh"), "--plan-only", "--spark", "4.1"]
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0, NVIDIA H200" in proc.stdout
    matrix = ROOT / ".certify" / "gpu" / "gpu-matrix.yaml"
    profile = yaml.safe_load(matrix.read_text())["profiles"]["gpu"]
    assert profile["suites"] == ["smoke", "parity", "gpu"]
    certify = [str(ROOT / ".venv" / "bin" / "python"), "-m", "certify"]
    plan = subprocess.run(
        [*certify, "plan", "--profile", "gpu", "--matrix", str(matrix), "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert plan.returncode == 0, plan.stderr
    cells = [c["id"] for c in json.loads(plan.stdout)["cells"]]
    assert cells == [
        "spark=4.1,catalog=hive,storage=local,gpu=nvidia,deploy=standalone",
        "spark=4.1,catalog=hive,storage=local,gpu=nvidia,deploy=connect",
    ]
