"""`certify chaos validate` as a user runs it: the shipped experiments, and a broken one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
