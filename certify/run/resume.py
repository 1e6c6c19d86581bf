"""What a run folder says about its run: the metadata to resume it and which cells are done.

`run.json` is written before the first cell runs; a run killed at any moment (SIGKILL included)
can be resumed from it: cells whose evidence is complete are kept, every other cell's partial
records are dropped and the cell runs again, so the resumed report equals an uninterrupted one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from certify.errors import UsageError
from certify.plan import PlannedCell
from certify.results import RecordStore

RUN_FILE = "run.json"


@dataclass(frozen=True)
class RunSpec:
    """Everything needed to plan the same run again."""

    id: str
    profile: str
    matrix: str
    strategy: str | None
    seed: int
    platform: str
    shard: str | None = None
    durations: str | None = None

    def write(self, out: Path) -> None:
        """Save as `out/run.json` atomically."""
        tmp = out / f".{RUN_FILE}.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(tmp, out / RUN_FILE)

    @classmethod
    def read(cls, out: Path) -> RunSpec:
        """Load `out/run.json`, with a usage error that says what to do when it is unusable."""
        path = out / RUN_FILE
        try:
            data: dict[str, Any] = json.loads(path.read_text())
            return cls(**data)
        except FileNotFoundError:
            raise UsageError(
                f"{path}: no such file; --resume needs the folder of a run started by certify "
                "run (start a new run with --out instead)"
            ) from None
        except (OSError, ValueError, TypeError) as exc:
            raise UsageError(f"{path}: unreadable run metadata ({exc}); start a new run") from None


def finished(store: RecordStore, run_id: str, planned: PlannedCell) -> bool:
    """True when the cell's evidence in `run_id` is complete: nothing to run again."""
    records = store.records(run_id, planned.cell.id)
    suites = {r.suite for r in records}
    if any(s not in suites for s in (*planned.suites, *planned.chaos, *planned.load)):
        return False
    if any(r.test_id.endswith("::<pytest>") for r in records):
        return False  # its pytest was stopped or crashed
    done = {r.test_id for r in records}
    expected = store.expected(run_id).get(planned.cell.id, [])
    return all(test_id in done for _, test_id in expected)
