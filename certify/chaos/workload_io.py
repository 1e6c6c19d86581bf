"""Files a chaos workload reports through, and the answers it must produce (pure Python)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certify.cell import PlatformOptions
from certify.results.findings import JsonObject, JsonValue

_SPEC_KEYS = ("kind", "table", "folder", "values", "options", "conf", "endpoints")


@dataclass(frozen=True)
class WorkloadSpec:
    """What one workload run does: its client, table, folder, and the experiment's parameters.

    `params` are the start action's other arguments as the experiment gave them (rows,
    seed_rows, partitions, task_pause_ms, hold_s, write_timeout_s, ...); read them with `number`.
    """

    kind: str  # spark (classic or Spark Connect) or pyiceberg
    table: str
    folder: Path
    values: Mapping[str, str]
    options: PlatformOptions
    conf: Mapping[str, str] = field(default_factory=dict)  # extra Spark settings (proxied hive)
    endpoints: Mapping[str, str] = field(default_factory=dict)  # client -> proxied endpoint
    params: Mapping[str, JsonValue] = field(default_factory=dict)

    def number(self, key: str, default: float) -> float:
        """A numeric parameter (`default` when absent or not a number)."""
        value = self.params.get(key)
        return float(value) if isinstance(value, int | float) else default

    def to_json(self) -> JsonObject:
        """The spec file's form (`python -m certify.chaos.workload SPEC.json` reads it)."""
        return {
            **self.params,
            "kind": self.kind,
            "table": self.table,
            "folder": str(self.folder),
            "values": dict(self.values),
            "options": self.options.to_json(),
            "conf": dict(self.conf),
            "endpoints": dict(self.endpoints),
        }

    @classmethod
    def from_json(cls, data: JsonObject) -> WorkloadSpec:
        """Inverse of `to_json`."""
        options = data.get("options")
        return cls(
            str(data.get("kind", "spark")),
            str(data["table"]),
            Path(str(data["folder"])),
            _strings(data.get("values")),
            PlatformOptions.from_json(options if isinstance(options, dict) else {}),
            _strings(data.get("conf")),
            _strings(data.get("endpoints")),
            {k: v for k, v in data.items() if k not in _SPEC_KEYS},
        )


def _strings(value: JsonValue | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def write_json(path: Path, data: Mapping[str, object]) -> None:
    """Write JSON atomically (readers never see half a file)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    os.replace(tmp, path)


def read_json(path: Path) -> JsonObject:
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
        self.at: dict[str, float] = {}
        self.baseline: JsonObject = {}
        self.phase_name = ""

    @property
    def status(self) -> JsonObject:
        """What status.json says: the phase, when each phase began, the pid, the baseline."""
        out: JsonObject = {"phase": self.phase_name, "at": dict(self.at), "pid": os.getpid()}
        if self.baseline:
            out["baseline"] = self.baseline
        return out

    def phase(self, name: str, baseline: JsonObject | None = None) -> None:
        """Enter phase `name` now (with the table's baseline, once it is seeded)."""
        self.phase_name = name
        self.at[name] = time.time()
        if baseline is not None:
            self.baseline = baseline
        write_json(self.folder / "status.json", self.status)

    def baseline_snapshots(self) -> list[int]:
        """The Iceberg snapshot ids of the seeded table (before the write)."""
        found = self.baseline.get("snapshots")
        return [int(s) for s in found if isinstance(s, int)] if isinstance(found, list) else []

    def result(self, data: Mapping[str, object]) -> None:
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


def answer_json(answer: Mapping[str, list[int]]) -> JsonObject:
    """Region -> [count, sum] as result.json keeps it."""
    return {region: [*figures] for region, figures in answer.items()}


def error_text(exc: BaseException) -> str:
    """The first line of an exception, bounded: what result.json says went wrong."""
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0][:400] if text else type(exc).__name__
