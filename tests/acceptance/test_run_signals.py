"""A run stopped by a signal stops everything it started and still leaves an honest report."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.acceptance.test_run import ROOT, _processes_mentioning

pytestmark = pytest.mark.slow


def _started_tests(store: Path) -> int:
    """How many tests the run's pytest has collected so far (0 before the store exists)."""
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(store, timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM expected").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _start_smoke(out: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "certify", "run", "--profile", "smoke", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    # wait until pytest has collected and the JVM of the cell is up
    while time.monotonic() < deadline:
        if _started_tests(out / "results.sqlite") and _processes_mentioning(_jvm_marker(out)):
            return proc
        if proc.poll() is not None:
            pytest.fail(f"run ended before it could be interrupted: {proc.communicate()}")
        time.sleep(0.2)
    proc.kill()
    pytest.fail("the run's JVM did not appear within 120 s")


def _jvm_marker(out: Path) -> str:
    # the cell's driver JVM carries its Derby home (the cell's work folder) on its command line
    return f"-Dderby.system.home={out / 'work'}"


def _wait_gone(text: str, timeout_s: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        left = _processes_mentioning(text)
        if not left:
            return []
        time.sleep(0.2)
    return _processes_mentioning(text)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signalled_run_stops_its_processes_and_reports_incomplete(
    tmp_path: Path, signum: signal.Signals
) -> None:
    out = tmp_path / "run"
    proc = _start_smoke(out)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 3, stdout + stderr
    assert f"interrupted by {signum.name}" in stderr
    assert _wait_gone(str(out / "work")) == []
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["interrupted"] is True
    assert report["gate"]["verdict"] == "fail"
    assert report["gate"]["reasons"][0] == (
        f"the run was interrupted by {signum.name}: its evidence is partial"
    )
    [cell] = report["cells"]
    # interrupted while the JVM ran the suite: at least one collected test has no result
    assert cell["verdict"] == "incomplete"
    assert any("collected tests have no result" in r for r in cell["reasons"])


def test_a_killed_run_takes_its_pytest_and_jvm_with_it(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _start_smoke(out)
    proc.kill()
    proc.communicate(timeout=30)
    # pytest dies with certify (parent-death signal); the JVM exits when pytest's pipe closes
    assert _wait_gone(str(out / "work"), timeout_s=60) == []
