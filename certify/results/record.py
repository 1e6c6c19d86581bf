"""One outcome of one scenario, experiment or load profile on one cell."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from certify.host.provenance import now
from certify.results.findings import (
    Finding,
    JsonObject,
    Metrics,
    finding_from_json,
    findings_json,
    metrics_from_json,
)

RECORD_SCHEMA = "certify.record/2"
# certify.record/1 kept metrics and findings inside `provenance`; it is still read
_LEGACY_SCHEMA = "certify.record/1"
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "skipped", "not_run", "flaky")
KINDS: tuple[str, ...] = ("scenario", "experiment", "load")
_FINDING_KEYS = ("metrics", "chaos", "load")


@dataclass(frozen=True)
class Record:
    """An outcome, stored the moment it exists.

    `provenance` says what produced it (versions, host, runtime) and nothing else; `metrics`
    are the numbers the policy judges; `finding` is an experiment's or a load run's evidence.
    """

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
    metrics: Metrics | None = None
    finding: Finding | None = None

    def __post_init__(self) -> None:
        # provenance holds provenance only: metrics and findings handed in there (as
        # certify.record/1 kept them) are lifted into their own typed fields
        if not any(k in self.provenance for k in _FINDING_KEYS):
            return
        found = {k: self.provenance.get(k) for k in _FINDING_KEYS}
        kept = {k: v for k, v in self.provenance.items() if k not in _FINDING_KEYS}
        object.__setattr__(self, "provenance", kept)
        if self.metrics is None:
            object.__setattr__(self, "metrics", metrics_from_json(found["metrics"]))
        if self.finding is None:
            object.__setattr__(self, "finding", finding_of(self.kind, found))

    def to_json(self) -> JsonObject:
        """The versioned JSON form."""
        out: JsonObject = {
            "schema": RECORD_SCHEMA,
            "run_id": self.run_id,
            "cell_id": self.cell_id,
            "suite": self.suite,
            "test_id": self.test_id,
            "status": self.status,
            "kind": self.kind,
            "attempts": self.attempts,
            "duration_s": self.duration_s,
            "message": self.message,
            "started": self.started,
            "finished": self.finished,
            "provenance": dict(self.provenance),
            "applicable": self.applicable,
        }
        out.update(findings_json(self.metrics, self.finding))
        return out

    @classmethod
    def from_json(cls, data: JsonObject) -> Record:
        """Inverse of `to_json` (also reads certify.record/1); ValueError on another schema."""
        schema = data.get("schema")
        if schema not in (RECORD_SCHEMA, _LEGACY_SCHEMA):
            raise ValueError(f"not a {RECORD_SCHEMA} record: schema={schema!r}")
        fields = {k: v for k, v in data.items() if k != "schema" and k not in _FINDING_KEYS}
        raw = fields.pop("provenance", None)
        provenance = dict(raw) if isinstance(raw, dict) else {}
        # findings at the top (record/2), else where record/1 kept them: inside provenance
        found = {k: data.get(k, provenance.get(k)) for k in _FINDING_KEYS}
        provenance = {k: v for k, v in provenance.items() if k not in _FINDING_KEYS}
        kind = str(fields.get("kind", "scenario"))
        return cls(
            **fields,  # type: ignore[arg-type]
            provenance=provenance,
            metrics=metrics_from_json(found["metrics"]),
            finding=finding_of(kind, found),
        )

    def dumps(self) -> str:
        """Compact JSON text."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))


def finding_of(kind: str, found: JsonObject) -> Finding | None:
    """The finding a record of `kind` carries in `found` (its JSON, or a report test)."""
    name = {"experiment": "chaos", "load": "load"}.get(kind)
    if name is None or found.get(name) is None:
        return None
    return finding_from_json(name, found[name])


@dataclass(frozen=True)
class Outcome:
    """The one way to make a record of a criterion: its run, cell, kind and name.

    The test id follows from the kind (`SUITE::*` for a whole suite, `chaos/NAME`, `load/NAME`),
    so every record of an experiment or load profile is named alike wherever it is made.
    """

    run_id: str
    cell_id: str
    kind: str  # scenario, experiment or load
    name: str  # the suite, experiment or load profile
    started: str = field(default_factory=now)

    @property
    def test_id(self) -> str:
        """The record's test id for the criterion as a whole."""
        prefix = {"experiment": "chaos/", "load": "load/"}.get(self.kind)
        return f"{prefix}{self.name}" if prefix else f"{self.name}::*"

    def record(self, status: str, message: str = "", **details: Any) -> Record:
        """The record of this criterion with `status`, finished now.

        `details` are Record fields (duration_s, metrics, finding, applicable, test_id, ...).
        """
        details.setdefault("test_id", self.test_id)
        return Record(
            self.run_id,
            self.cell_id,
            self.name,
            status=status,
            kind=self.kind,
            message=message,
            started=self.started,
            finished=now(),
            **details,
        )
