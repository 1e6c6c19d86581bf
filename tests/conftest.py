"""certify's own tests. Ctrl-C (or SIGTERM) stops the whole suite and leaves nothing running
(tests/interrupts.py). Jars come from Maven (the registry this machine reaches) into the
machine's cache; unit tests switch Maven off (tests/unit/conftest.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.interrupts import (  # noqa: F401  (hooks, found by name)
    pytest_configure,
    pytest_runtest_protocol,
    pytest_unconfigure,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def spark41_python() -> Path:
    """The Spark 4.1 runtime's interpreter, built once through `certify env sync` (cached)."""
    proc = subprocess.run(
        [sys.executable, "-m", "certify", "env", "sync", "--spark", "4.1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Path(proc.stdout.strip().split()[-1])
