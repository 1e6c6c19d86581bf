"""Time to aggregate and render every report output for 100,000 records over 1,000 cells.

Run: .venv/bin/python benchmarks/report.py [--records N] [--cells N]
Prints each stage, the total against the 5 s target, and the size of report.html. The matrix is
5 dimensions (4 x 5 x 5 x 2 x 5 = 1,000 cells); each cell has 100 records over 3 suites, chaos
and load, with some failures, skips, not_run and flaky results, and a policy with a waiver.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from certify.cell import Cell
from certify.config.policy import Policy, SloCriterion, Waiver
from certify.plan import CoverageGroup, Plan, PlannedCell
from certify.report.finalize import assemble, publish
from certify.report.history import History
from certify.report.model import RunInputs
from certify.results import Record

TARGET_S = 5.0
HISTORY_RUNS = 4
DIMS = {
    "spark": ["3.5", "4.0", "4.1", "4.2"],
    "catalog": ["hive", "iceberg-hadoop", "iceberg-hive", "iceberg-rest", "iceberg-sql"],
    "storage": ["local", "s3", "adls", "gcs", "hdfs"],
    "gpu": ["none", "nvidia"],
    "deploy": ["local", "standalone", "connect", "kubernetes", "yarn"],
}
STATUSES = ["passed"] * 90 + ["failed"] * 3 + ["skipped"] * 3 + ["not_run"] * 2 + ["flaky"] * 2


def _plan(cells: int) -> Plan:
    combos = list(itertools.islice(itertools.product(*DIMS.values()), cells))
    planned = tuple(
        PlannedCell(
            Cell(tuple(zip(DIMS, combo, strict=True)), "certified" if i % 3 else "documented"),
            f"spark-{combo[0]}",
            ("smoke", "etl", "pit"),
            ("executor-kill",),
            ("baseline",),
        )
        for i, combo in enumerate(combos)
    )
    group = CoverageGroup("certified", "full", 5, cells, cells, cells, 0)
    return Plan("bench", "matrices/bench.yaml", "release", 0, planned, (group,), tuple(DIMS))


def _records(plan: Plan, total: int, seed: int = 7) -> list[Record]:
    rng = random.Random(seed)
    per_cell = max(total // len(plan.cells), 3)
    out = []
    prov = {"certify": "0.1.0", "python": "3.11.7", "java": "17", "host": "bench"}
    for planned in plan.cells:
        cid = planned.cell.id
        for i in range(per_cell):
            kind, suite = ("scenario", ("smoke", "etl", "pit")[i % 3])
            metrics = {}
            if i == per_cell - 2:
                kind, suite = "experiment", "executor-kill"
                metrics = {"recovery_s": rng.uniform(5, 60)}
            elif i == per_cell - 1:
                kind, suite = "load", "baseline"
                metrics = {"p95_ms": rng.uniform(50, 260), "error_rate": 0.0}
            status = rng.choice(STATUSES)
            message = "" if status == "passed" else f"E   assert {i} == {i + 1}\nline two"
            out.append(
                Record(
                    "bench-run",
                    cid,
                    suite,
                    f"scenarios/{suite}/test_{suite}.py::test_case_{i:03d}",
                    status,
                    kind=kind,
                    duration_s=round(rng.uniform(0.01, 3.0), 3),
                    message=message,
                    started="2026-01-01T00:00:00.000Z",
                    finished="2026-01-01T00:00:01.000Z",
                    provenance={**prov, "metrics": metrics} if metrics else prov,
                )
            )
    return out


def main() -> int:
    """Build, time and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--cells", type=int, default=1_000)
    args = parser.parse_args()
    plan = _plan(args.cells)
    records = _records(plan, args.records)
    policy = Policy(
        slo=[SloCriterion(name="p95", load="*", metric="p95_ms", max=200.0)],
        waivers=[
            Waiver(
                cells="spark=4.2,*",
                criterion="suite:*",
                reason="bench",
                owner="bench",
                expires=date.today() + timedelta(days=30),
            )
        ],
    )
    run = {
        "id": "bench-run",
        "profile": "release",
        "matrix": "bench",
        "platform": "local",
        "started": "2026-01-01T00:00:00.000Z",
        "finished": "2026-01-01T01:00:00.000Z",
        "provenance": {
            "certify": "0.1.0",
            "python": "3.11",
            "java": "17",
            "host": "bench",
            "git_revision": None,
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        history = History(Path(tmp) / "history")
        for i in range(HISTORY_RUNS):  # earlier runs to compare with (not timed)
            earlier = {**run, "id": f"bench-{i}", "started": f"2025-12-0{i + 1}T00:00:00.000Z"}
            past = assemble(RunInputs(earlier, plan, _records(plan, args.records, seed=i)), policy)
            history.add(past.to_json())
        out = Path(tmp) / "run"
        t0 = time.perf_counter()
        report = assemble(RunInputs(run, plan, records), policy)
        t1 = time.perf_counter()
        report = assemble(RunInputs(run, plan, records), policy, history)
        t2 = time.perf_counter()
        publish(report, out, history)
        t3 = time.perf_counter()
        sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
    total = (t1 - t0) + (t3 - t2)
    with_history = t3 - t1
    print(f"records: {len(records):,} over {len(plan.cells):,} cells")
    print(f"aggregate + gate: {t1 - t0:.2f} s")
    print(f"render (report.json, report.md, report.html, junit.xml): {t3 - t2:.2f} s")
    print(
        f"total: {total:.2f} s (target < {TARGET_S:.0f} s: {total / TARGET_S:.2f} of the target, "
        f"{'met' if total < TARGET_S else 'MISSED'})"
    )
    print(
        f"with history ({HISTORY_RUNS} earlier runs compared, trend, report kept): "
        f"{with_history:.2f} s ({with_history / TARGET_S:.2f} of the target)"
    )
    for name in ("report.html", "report.json", "junit.xml", "report.md"):
        print(f"{name}: {sizes.get(name, 0) / 1e6:.2f} MB")
    return 0 if total < TARGET_S and with_history < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
