"""Run benchmark: what `certify run` adds over plain pytest, and what `-n 2` gains over `-n 1`.

Run as `python benchmarks/run.py [--repeats N]` from the project folder. Prints one labelled
figure per line:
- the same scenarios (smoke, etl, pit) on the local smoke cell, timed as `certify run` and as a
  plain pytest run of the same files sharing one Spark session (target ratio <= 1.10);
- four Spark cells (the smoke cell's values plus a `twin` dimension) run with `-n 1` and `-n 2`
  (the speedup; bounded by the machine's cores and by what `-n 1` already saves: its one lane
  keeps one driver JVM warm for all four cells, where `-n 2` starts and warms two).
Every figure is the median of the repeats, measured in the same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CELL = "spark=3.5,catalog=hive,storage=local,gpu=none,deploy=local"
SUITES = ["smoke", "etl", "pit"]
TWINS = """
schema: certify.matrix/1
name: twins
dimensions:
  spark: {values: {"3.5": {pyspark: "%s"}}}
  catalog: {values: {hive: {}}}
  storage: {values: {local: {}}}
  gpu: {values: {none: {}}}
  deploy: {values: {local: {}}}
  twin: {values: {a: {}, b: {}, c: {}, d: {}}}
tiers:
  certified: {cells: [{twin: "*"}]}
profiles:
  same: {tiers: [certified], select: [{twin: a}], suites: [smoke, etl, pit]}
  twins: {tiers: [certified], suites: [smoke, pit]}
"""


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(
            f"benchmark run failed ({' '.join(argv[:6])} ...):\n{proc.stdout[-2000:]}\n"
            f"{proc.stderr[-2000:]}"
        )
    return elapsed


def _project(base: Path) -> Path:
    """A project with the real scenarios and fixtures and a matrix of four local Spark cells."""
    project = base / "project"
    (project / "matrices").mkdir(parents=True)
    (project / "matrices" / "twins.yaml").write_text(TWINS % version("pyspark"))
    for name in ("scenarios", "fixtures", "conftest.py", "reports"):
        (project / name).symlink_to(ROOT / name)
    return project


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "CERTIFY_ETL_SIZES": "1000,100000"}
    certify = [sys.executable, "-m", "certify"]
    with tempfile.TemporaryDirectory(prefix="certify-bench-run-") as tmp:
        base = Path(tmp)
        project = _project(base)
        cell_a = CELL + ",twin=a"
        values = json.dumps(dict(p.split("=") for p in cell_a.split(",")))
        plain, wrapped, serial, parallel = [], [], [], []
        for i in range(args.repeats):
            plain.append(_timed([
                sys.executable, "-m", "pytest", *(f"scenarios/{s}" for s in SUITES), "-q",
                "-p", "no:cacheprovider", "--certify-cell", cell_a, "--certify-values", values,
                "--certify-workdir", str(base / f"plain{i}"),
            ], project, env))  # fmt: skip
            wrapped.append(
                _timed(
                    [
                        *certify,
                        "run",
                        "--profile",
                        "same",
                        "--out",
                        str(base / f"run{i}"),
                        "--root",
                        str(project),
                    ],
                    project,
                    env,
                )
            )
            serial.append(
                _timed(
                    [
                        *certify,
                        "run",
                        "--profile",
                        "twins",
                        "-n",
                        "1",
                        "--out",
                        str(base / f"n1-{i}"),
                        "--root",
                        str(project),
                    ],
                    project,
                    env,
                )
            )
            parallel.append(
                _timed(
                    [
                        *certify,
                        "run",
                        "--profile",
                        "twins",
                        "-n",
                        "2",
                        "--out",
                        str(base / f"n2-{i}"),
                        "--root",
                        str(project),
                    ],
                    project,
                    env,
                )
            )
    p, w = statistics.median(plain), statistics.median(wrapped)
    s, n2 = statistics.median(serial), statistics.median(parallel)
    print(f"cores: {os.cpu_count()}; repeats: {args.repeats} (medians below)")
    print(f"one cell, suites {'+'.join(SUITES)}: plain pytest sharing one session: {p:.1f} s")
    print(f"one cell, same suites: certify run: {w:.1f} s")
    print(f"certify run / plain pytest: {w / p:.3f} (target <= 1.10)")
    print(f"four cells (smoke+pit), certify run -n 1: {s:.1f} s")
    print(f"four cells (smoke+pit), certify run -n 2: {n2:.1f} s")
    print(f"speedup of -n 2 over -n 1: {s / n2:.2f}x (target >= 1.7)")


if __name__ == "__main__":
    main()
