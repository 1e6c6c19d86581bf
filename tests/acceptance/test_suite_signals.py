"""Ctrl-C stops certify's own suite at once and leaves nothing running.

A generated suite (with this repository's interrupt plugin) whose first test runs a child the
way certify does (its own process group, SIGINT turned into Interrupted while it runs) and whose
second test must never start; the suite is sent SIGINT while the first test waits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_TESTS = """
import subprocess, sys, time
from pathlib import Path
from certify.errors import Interrupted
from certify.host.process import raise_on_signals, start_child, stop_group, wait_child

def test_waits_on_a_child(tmp_path):
    with (tmp_path / "log").open("ab") as log, raise_on_signals():
        proc = start_child([sys.executable, "-c", "import time; time.sleep(300)"], log,
                           tmp_path, dict())
        Path("{pidfile}").write_text(str(proc.pid))
        try:
            wait_child(proc, log, 120)
        finally:
            stop_group(proc, grace_s=2)

def test_after_the_signal_never_runs():
    Path("{ranfile}").write_text("ran")

def test_orphan_started_by_a_test():
    # a process a test leaves behind: the plugin must stop it at the end of the suite
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    Path("{orphanfile}").write_text(str(child.pid))
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _suite(tmp_path: Path, body: str) -> subprocess.Popen[str]:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(
        "from tests.interrupts import pytest_configure, pytest_runtest_protocol, "
        "pytest_unconfigure  # noqa\n"
    )
    (suite / "test_generated.py").write_text(body)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(suite)])}
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(suite),
         str(suite / "test_generated.py")],
        cwd=suite, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert path.exists(), f"the generated test never started ({proc.poll()=})"


def test_sigint_stops_the_whole_suite_and_leaves_nothing_running(tmp_path: Path) -> None:
    pidfile, ranfile = tmp_path / "child.pid", tmp_path / "ran"
    body = _TESTS.format(pidfile=pidfile, ranfile=ranfile, orphanfile=tmp_path / "orphan.pid")
    proc = _suite(tmp_path, body)
    try:
        _wait_for(pidfile, proc)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    child = int(pidfile.read_text())
    assert not ranfile.exists(), f"the suite went on after Ctrl-C:\n{out}"
    assert "interrupted by SIGINT" in out, out
    assert proc.returncode != 0, out
    assert not _alive(child), "the test's child outlived the suite"


def test_processes_a_test_leaves_behind_are_stopped_when_the_suite_ends(tmp_path: Path) -> None:
    orphanfile = tmp_path / "orphan.pid"
    body = _TESTS.format(pidfile=tmp_path / "unused", ranfile=tmp_path / "ran",
                         orphanfile=orphanfile)  # fmt: skip
    body = body.replace("def test_waits_on_a_child", "def _not_a_test")
    proc = _suite(tmp_path, body)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    orphan = int(orphanfile.read_text())
    assert not _alive(orphan), "a process a test left behind outlived the suite"
