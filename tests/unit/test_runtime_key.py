"""A runtime's key is the same however certify was started (issue found in a pr run: `python -m
certify` in the checkout read the checkout's egg-info, the `certify` script its venv's metadata,
and each run swept the other's runtime as stale while it was in use)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = "from certify.runtimes.spec import platform_requirements as p; print(hash(p()), len(p()))"


def test_the_pins_come_from_the_source_trees_pyproject_whatever_the_working_folder(
    tmp_path: Path,
) -> None:
    outputs = set()
    for cwd in (ROOT, tmp_path):
        proc = subprocess.run(
            [sys.executable, "-c", CODE],
            cwd=cwd,
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"},
            check=True,
        )
        outputs.add(proc.stdout.strip())
    assert len(outputs) == 1
    from certify.runtimes.spec import platform_requirements

    pins = platform_requirements()
    assert any(p.startswith("pyiceberg") for p in pins)  # the platform extra
    assert any(p.startswith("typer") for p in pins)  # certify's own requirements
