"""Whatever ends a certify command (SIGINT, SIGTERM, SIGKILL), nothing it started survives the
next certify command; and `platform up|status|down` by hand."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.acceptance.test_platform_run import processes_with
from tests.integration.cells import PROFILES, cell_id, write_matrix

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SQL_S3 = {"spark": "3.5", "catalog": "iceberg-sql", "storage": "s3", "deploy": "local"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with a private state folder (its path marks every process it starts)."""
    return {**os.environ, "CERTIFY_STATE_DIR": str(tmp_path / "state")}


def _marker(env: dict[str, str]) -> str:
    return f"CERTIFY_STATE_DIR={env['CERTIFY_STATE_DIR']}"


def _certify(
    env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "certify", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "certify", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(check: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if check():
            return
        if proc.poll() is not None:
            pytest.fail(f"certify ended before {what}: {proc.communicate()}")
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"{what} did not happen within 180 s")


def _gone(marker: str, timeout_s: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and processes_with(marker):
        time.sleep(0.2)
    return processes_with(marker)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_matrix(
        tmp_path_factory.mktemp("m"),
        {"hive-standalone": PROFILES["platform-35-hive"], "sql-s3": [SQL_S3]},
    )


def _driver_up(out: Path) -> Callable[[], bool]:
    work = f"-Dderby.system.home={out / 'work'}"

    def check() -> bool:
        return any(
            work in (p / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and (p / "cmdline").exists()
        )

    return check


def test_sigkill_of_a_run_leaves_nothing_after_the_next_command(
    matrix: Path, env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    proc = _start(
        env, "run", "--profile", "hive-standalone", "--matrix", str(matrix), "--out", str(out)
    )
    _wait_for(_driver_up(out), proc, "the cell's driver JVM started")
    assert len(processes_with(_marker(env))) >= 4  # master, worker, metastore, pytest, driver
    proc.kill()
    proc.communicate(timeout=30)
    status = _certify(env, "platform", "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    assert _gone(_marker(env), timeout_s=5) == []
    assert json.loads(status.stdout)["up"] is False


def test_sigint_of_a_run_stops_its_services_and_reports_incomplete(
    matrix: Path, env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    proc = _start(
        env, "run", "--profile", "hive-standalone", "--matrix", str(matrix), "--out", str(out)
    )
    _wait_for(_driver_up(out), proc, "the cell's driver JVM started")
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 3, stdout + stderr
    assert "interrupted by SIGINT" in stderr
    assert _gone(_marker(env)) == []
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["interrupted"] is True
    [cell] = report["cells"]
    assert cell["verdict"] in ("incomplete", "failed")


def test_platform_up_status_down(matrix: Path, env: dict[str, str]) -> None:
    cell = cell_id(SQL_S3)
    up = _certify(env, "platform", "up", "--cell", cell, "--matrix", str(matrix))
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        status = _certify(env, "platform", "status", "--format", "json")
        body = json.loads(status.stdout)
        assert body["up"] is True and body["cell"] == cell
        services = {s["name"]: s for s in body["services"]}
        assert set(services) == {"seaweedfs", "sql-catalog"}
        assert all(s["healthy"] for s in services.values())
        assert services["seaweedfs"]["pid"] > 0
        assert services["seaweedfs"]["endpoint"].startswith("http://127.0.0.1:")
        # services outlive `platform up`, and another command does not sweep them
        assert processes_with(_marker(env))
        again = _certify(env, "platform", "up", "--cell", cell, "--matrix", str(matrix))
        assert again.returncode == 2 and "already up" in again.stderr
    finally:
        down = _certify(env, "platform", "down")
    assert down.returncode == 0, down.stderr
    assert _gone(_marker(env), timeout_s=5) == []
    assert json.loads(_certify(env, "platform", "status", "--format", "json").stdout)["up"] is False


def test_sigkill_of_platform_up_while_starting_is_swept_by_the_next_command(
    matrix: Path, env: dict[str, str]
) -> None:
    cell = cell_id(PROFILES["platform-35-hive"][0])
    proc = _start(env, "platform", "up", "--cell", cell, "--matrix", str(matrix))
    _wait_for(lambda: len(processes_with(_marker(env))) >= 3, proc, "its services started")
    proc.kill()
    proc.communicate(timeout=30)
    # `platform up` services do not die with their command: the next command must sweep them
    status = _certify(env, "platform", "status", "--format", "json")
    assert status.returncode == 0
    assert "stopped leftovers of up-" in status.stderr
    assert _gone(_marker(env), timeout_s=5) == []
