"""Jar resolution benchmark: cold and warm resolution time of one cell's jars.

Run as `python benchmarks/jars.py [--repeats N] [--cell NAMES]` from the project folder. The cell
is spark=4.1, catalog=iceberg-rest, storage=s3 by default (the Iceberg runtime, iceberg-aws-bundle,
hadoop-aws and the AWS SDK modules: about 130 MB). Prints one labelled figure per line:
- cold: a fresh cache (no local Maven repository, no set record): mvn downloads every file;
- warm: a new provider on the cache the cold run filled (what every later run does): no mvn,
  only the set record and each file's SHA-256;
- warm, checksums known: the same provider asked again (a run's later cells);
and the ratio cold / warm. Each figure is the median of the repeats, measured in this run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from certify.platforms.jars import JarProvider  # noqa: E402

DEFAULT = "iceberg-spark-runtime,iceberg-aws-bundle,hadoop-aws,aws-sdk"


def _timed(provider: JarProvider, names: list[str]) -> tuple[float, int, int]:
    start = time.perf_counter()
    got = provider.resolve_set(names, "4.1", "2.13", "4.1.1")
    elapsed = time.perf_counter() - start
    if not isinstance(got, list):
        raise SystemExit(f"resolution failed: {got.reason}")
    return elapsed, len(got), sum(j.path.stat().st_size for j in got if j.path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cell", default=DEFAULT, help="comma-separated jar names (Spark 4.1)")
    args = parser.parse_args()
    names = args.cell.split(",")
    os.environ.pop("CERTIFY_MAVEN", None)
    os.environ.pop("CERTIFY_JARS_DIR", None)
    cold, warm, again = [], [], []
    files = size = 0
    for _ in range(args.repeats):
        cache = Path(tempfile.mkdtemp(prefix="certify-jars-bench-"))
        try:
            seconds, files, size = _timed(JarProvider(cache=cache), names)
            cold.append(seconds)
            provider = JarProvider(cache=cache)
            warm.append(_timed(provider, names)[0])
            again.append(_timed(provider, names)[0])
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    c, w, a = (statistics.median(x) for x in (cold, warm, again))
    print(f"jar set: Spark 4.1, {' + '.join(names)}: {files} files, {size / 1e6:.1f} MB")
    print(f"cold resolution (fresh cache, mvn downloads): {c:.2f} s (median of {args.repeats})")
    print(f"warm resolution (new run, cached set, SHA-256 of every file): {w:.3f} s")
    print(f"warm resolution (same run, checksums known): {a * 1000:.2f} ms")
    print(f"ratio cold / warm: {c / w:.1f}x")


if __name__ == "__main__":
    main()
