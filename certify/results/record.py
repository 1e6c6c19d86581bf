"""One outcome of one scenario, experiment or load profile on one cell."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

RECORD_SCHEMA = "certify.record/1"
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "skipped", "not_run", "flaky")


@dataclass(frozen=True)
class Record:
    """An outcome, stored the moment it exists; `provenance` says what produced it."""

    run_id: str
    cell_id: str
    suite: str
    test_id: str
    status: str
    kind: str = "scenario"
    attempts: int = 1
    duration_s: float = 0.0
    message: str = ""
    started: str = ""
    finished: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    # False for a not_run whose scenario does not apply to the cell's values (its `requires`
    # marker): recorded as evidence, but it neither certifies nor holds back the cell
    applicable: bool = True

    def to_json(self) -> dict[str, Any]:
        """The versioned JSON form."""
        return {"schema": RECORD_SCHEMA, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        """Inverse of `to_json`; raises ValueError on another schema."""
        if data.get("schema") != RECORD_SCHEMA:
            raise ValueError(f"not a {RECORD_SCHEMA} record: schema={data.get('schema')!r}")
        fields = {k: v for k, v in data.items() if k != "schema"}
        return cls(**fields)

    def dumps(self) -> str:
        """Compact JSON text."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
