"""Run the installed `certify` console script as a user would: a subprocess in a chosen folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Result:
    """What one `certify` invocation returned."""

    rc: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr together (to look for a traceback anywhere)."""
        return self.stdout + self.stderr


Certify = Callable[..., Result]


def _script() -> str:
    # the console script installed next to the interpreter running the tests (the venv's bin)
    beside = Path(sys.executable).parent / "certify"
    if beside.exists():
        return str(beside)
    found = shutil.which("certify")
    if found is None:
        pytest.skip("the `certify` console script is not installed")
    return found


@pytest.fixture(scope="session")
def certify() -> Certify:
    """`certify(*args, cwd=DIR)` runs the console script and returns its rc, stdout and stderr."""
    script = _script()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR")}
    env["NO_COLOR"] = "1"

    def run(*args: str, cwd: Path = REPO, timeout: float = 120) -> Result:
        proc = subprocess.run(
            [script, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture(scope="session")
def repo() -> Path:
    """The project root holding `matrices/platform.yaml`."""
    return REPO
