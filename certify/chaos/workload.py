"""The workload an experiment runs under a fault: a real Spark (or pyiceberg) write, known answers.

Run as `python -m certify.chaos.workload SPEC.json` in the cell's runtime interpreter (started by
the `start_workload` action, so a fault can hit it mid-job). It reports through files in its
folder, written atomically:

- `status.json`: the phase (`connecting`, `seeded`, `writing`, `committing`, `written`,
  `verifying`, `done`) with a timestamp per phase, and the baseline of the table;
- `result.json`: the write's outcome: `completed` with the exact answer checked, or `failed`
  with the error; then `query_ok_at` (the first query that worked after the write);
- `verify.json`: after `verify.go` appears (the data-integrity probe creates it once the
  platform recovered): the table read again and compared with what it must hold.

The table is seeded with rows [0, seed), then rows [seed, seed + rows) are appended under the
fault: afterwards it must hold exactly [0, seed + rows) (completed) or exactly [0, seed) (failed).
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

from certify.chaos.workload_io import Reporter, error_text, write_json

PHASES = ("connecting", "seeded", "writing", "committing", "written", "verifying", "done")


def run(spec: dict[str, Any]) -> int:
    """Seed, write under the fault, probe, then verify on request; 0 unless the harness broke."""
    folder = Path(spec["folder"])
    report = Reporter(folder)
    report.phase("connecting")
    if spec["kind"] == "pyiceberg":
        from certify.chaos.workload_iceberg import IcebergJob

        job: Any = IcebergJob(spec, report)
    else:
        from certify.chaos.workload_spark import SparkJob

        job = SparkJob(spec, report)
    try:
        job.seed()
        outcome = job.write()
        outcome["query_ok_at"] = job.probe_query(float(spec.get("recover_timeout_s", 120)))
        report.result(outcome)
        report.phase("written")
        if report.wait_go(float(spec.get("verify_timeout_s", 300))):
            report.phase("verifying")
            write_json(folder / "verify.json", job.verify(outcome))
        report.phase("done")
        return 0
    finally:
        job.close()


def main(argv: list[str]) -> int:
    """Entry point: `python -m certify.chaos.workload SPEC.json`."""
    spec = json.loads(Path(argv[0]).read_text())
    try:
        return run(spec)
    except Exception as exc:  # a broken harness (seed failed): said in result.json
        write_json(
            Path(spec["folder"]) / "result.json",
            {"outcome": "error", "error": error_text(exc), "trace": traceback.format_exc()[-2000:]},
        )
        return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
