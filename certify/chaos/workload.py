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

Then the table is dropped (unless `certify run --keep`), and the phase is `done`.

The table is seeded with rows [0, seed), then rows [seed, seed + rows) are appended under the
fault: afterwards it must hold exactly [0, seed + rows) (completed) or exactly [0, seed) (failed).
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Protocol

from certify.cell import keep_requested
from certify.chaos.workload_io import Reporter, WorkloadSpec, error_text, read_json, write_json
from certify.results.findings import JsonObject

PHASES = ("connecting", "seeded", "writing", "committing", "written", "verifying", "done")


class Job(Protocol):
    """One client's side of the workload (Spark or pyiceberg)."""

    def seed(self) -> None:
        """A fresh table holding the seed rows; its state is the baseline."""

    def write(self) -> JsonObject:
        """The append under the fault: its outcome (completed or failed)."""

    def probe_query(self, timeout_s: float) -> float | None:
        """When a query on the table first worked again (None if not within `timeout_s`)."""

    def verify(self, outcome: JsonObject) -> JsonObject:
        """The table read again and compared with what `outcome` says it must hold."""

    def drop(self) -> None:
        """Drop the table (and the cell's namespace, when nothing else is left in it)."""

    def close(self) -> None:
        """Release the client."""


def _job(spec: WorkloadSpec, report: Reporter) -> Job:
    if spec.kind == "pyiceberg":
        from certify.chaos.workload_iceberg import IcebergJob

        return IcebergJob(spec, report)
    from certify.chaos.workload_spark import SparkJob

    return SparkJob(spec, report)


def run(spec: WorkloadSpec) -> int:
    """Seed, write under the fault, probe, verify on request, drop; 0 unless the harness broke."""
    folder = spec.folder
    report = Reporter(folder)
    report.phase("connecting")
    job = _job(spec, report)
    try:
        job.seed()
        outcome = job.write()
        outcome["query_ok_at"] = job.probe_query(spec.number("recover_timeout_s", 120))
        report.result(outcome)
        report.phase("written")
        if report.wait_go(spec.number("verify_timeout_s", 300)):
            report.phase("verifying")
            write_json(folder / "verify.json", job.verify(outcome))
        clean_up(job)
        report.phase("done")
        return 0
    except BaseException:
        clean_up(job)
        raise
    finally:
        job.close()


def clean_up(job: Job) -> bool:
    """Drop the workload's table unless `--keep`; a failure is a warning in the log, no error.

    The table lives in the cell's database, in services other cells share. Returns whether
    it was dropped.
    """
    if keep_requested():
        return False
    try:
        job.drop()
    except Exception as exc:  # what the experiment found stands; a leftover is only noted
        print(f"certify: warning: could not drop the workload's table: {error_text(exc)}",
              file=sys.stderr, flush=True)  # fmt: skip
        return False
    return True


def main(argv: list[str]) -> int:
    """Entry point: `python -m certify.chaos.workload SPEC.json`."""
    spec = WorkloadSpec.from_json(read_json(Path(argv[0])))
    try:
        return run(spec)
    except Exception as exc:  # a broken harness (seed failed): said in result.json
        write_json(
            spec.folder / "result.json",
            {"outcome": "error", "error": error_text(exc), "trace": traceback.format_exc()[-2000:]},
        )
        return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
