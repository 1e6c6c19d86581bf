"""Files a chaos workload reports through, and the answers it must produce (pure Python)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


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


def error_text(exc: BaseException) -> str:
    """The first line of an exception, bounded: what result.json says went wrong."""
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0][:400] if text else type(exc).__name__
