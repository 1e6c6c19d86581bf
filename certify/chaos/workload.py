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
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

PHASES = ("connecting", "seeded", "writing", "committing", "written", "verifying", "done")


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (readers never see half a file)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON file written by `write_json` ({} when it does not exist yet)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class Reporter:
    """Phase and outcome files of one workload run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.status: dict[str, Any] = {"phase": "", "at": {}, "pid": os.getpid()}

    def phase(self, name: str, **extra: Any) -> None:
        """Enter phase `name` now."""
        self.status["phase"] = name
        self.status["at"][name] = time.time()
        self.status.update(extra)
        write_json(self.folder / "status.json", self.status)

    def result(self, data: dict[str, Any]) -> None:
        """Record the write's outcome."""
        write_json(self.folder / "result.json", data)

    def wait_go(self, timeout_s: float) -> bool:
        """Wait until the integrity probe asks for the verification."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if (self.folder / "verify.go").exists():
                return True
            time.sleep(0.1)
        return False


def expected_rows(total: int) -> list[tuple[Any, ...]]:
    """Rows [0, total) of the orders dataset, computed in pure Python."""
    from fixtures.data import order_row

    return [order_row(i) for i in range(total)]


def expected_answer(total: int) -> dict[str, list[int]]:
    """Region -> [count, sum of amount_cents] over rows [0, total), in pure Python."""
    from fixtures.data import expected_region_totals

    return {r: list(v) for r, v in sorted(expected_region_totals(total).items())}


def _error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0][:400] if text else type(exc).__name__


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
            {"outcome": "error", "error": _error(exc), "trace": traceback.format_exc()[-2000:]},
        )
        return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
