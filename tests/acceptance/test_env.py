"""`certify env sync|list`: one cached runtime per Spark line, reused while its pins hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _certify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "certify", *args],
        cwd=ROOT,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.mark.slow
def test_a_synced_runtime_is_reused_and_listed() -> None:
    first = _certify("env", "sync", "--spark", "4.1")
    assert first.returncode == 0, first.stdout + first.stderr
    started = time.monotonic()
    again = _certify("env", "sync", "--spark", "4.1")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("spark-4.1: up to date (pyspark[connect]==4.1.1) ")
    assert time.monotonic() - started < 30  # reused, not rebuilt
    python = Path(again.stdout.split()[-1])
    version = subprocess.run(
        [str(python), "-c", "import pyspark, certify; print(pyspark.__version__)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert version.stdout.strip() == "4.1.1", version.stderr
    listed = json.loads(_certify("env", "list", "--format", "json").stdout)
    rows = {r["line"]: r for r in listed["runtimes"]}
    assert set(rows) == {"3.5", "4.0", "4.1"}
    assert rows["4.1"]["state"] == "ready" and rows["4.1"]["path"] == str(python.parents[1])
    assert rows["4.1"]["pyspark"] == "pyspark[connect]==4.1.1"


def test_the_cache_folder_follows_the_environment_and_unknown_lines_are_refused(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "CERTIFY_ENV_DIR": str(tmp_path / "envs")}
    listed = json.loads(_certify("env", "list", "--format", "json", env=env).stdout)
    assert listed["env_dir"] == str(tmp_path / "envs")
    assert {r["state"] for r in listed["runtimes"]} == {"missing"}
    bad = _certify("env", "sync", "--spark", "9.9", env=env)
    assert bad.returncode == 2
    assert "unknown Spark line(s) 9.9 (valid: 3.5, 4.0, 4.1)" in bad.stderr
