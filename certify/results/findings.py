"""Typed findings: what a chaos experiment or a load profile measured, beside its record.

A record's `provenance` says what produced it (versions, host, runtime); its `metrics` are the
numbers the policy judges; its `finding` is the structured evidence of an experiment or a load
run. Each finding is a frozen dataclass with a versioned JSON form (`kind` + the fields), read
leniently from older records (certify.record/1 kept them inside `provenance`), and written in
one canonical key order (sorted) so that the same records always give byte-identical reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union

from certify.host.jsontypes import JsonObject, JsonValue

Metrics = Mapping[str, float]

FINDING_SCHEMA = "certify.finding/1"


def _obj(value: object) -> Mapping[str, JsonValue]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[JsonValue]:
    return list(value) if isinstance(value, list | tuple) else []


def _num(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    return value if isinstance(value, int | float) else None


def _str(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


@dataclass(frozen=True)
class FaultProof:
    """The fault an experiment injected: what, on which target, when, and the proof it happened."""

    action: str = ""
    target: str = ""
    injected_at: float | None = None
    confirmed: bool | None = None  # None: nothing says whether the fault happened
    evidence: str = ""

    def to_json(self) -> JsonObject:
        """The JSON form (report.json's `fault`)."""
        return {
            "action": self.action,
            "target": self.target,
            "injected_at": self.injected_at,
            "confirmed": self.confirmed,
            "evidence": self.evidence,
        }

    @classmethod
    def from_json(cls, data: object) -> FaultProof:
        """Read leniently: a missing or malformed field takes its unproven default."""
        d = _obj(data)
        confirmed = d.get("confirmed")
        return cls(
            _str(d.get("action")),
            _str(d.get("target")),
            _num(d.get("injected_at")),
            confirmed if isinstance(confirmed, bool) else None,
            _str(d.get("evidence")),
        )


@dataclass(frozen=True)
class Integrity:
    """The data-integrity check after a fault: verdict, rows verified, per-table detail."""

    verdict: str = "unchecked"  # intact, lost, changed, unchecked
    rows_verified: int = 0
    tables: tuple[JsonObject, ...] = ()
    problems: tuple[str, ...] | None = None  # None: the check did not run

    def to_json(self) -> JsonObject:
        """The JSON form (report.json's `data_integrity`)."""
        out: JsonObject = {
            "verdict": self.verdict,
            "rows_verified": self.rows_verified,
            "tables": [dict(t) for t in self.tables],
        }
        if self.problems is not None:
            out["problems"] = list(self.problems)
        return out

    @classmethod
    def from_json(cls, data: object) -> Integrity:
        """Read leniently: what is missing reads as unchecked."""
        d = _obj(data)
        rows = _num(d.get("rows_verified"))
        problems = d.get("problems")
        return cls(
            _str(d.get("verdict"), "unchecked") or "unchecked",
            int(rows) if rows is not None else 0,
            tuple(dict(t) for t in _list(d.get("tables")) if isinstance(t, dict)),
            tuple(str(p) for p in problems) if isinstance(problems, list) else None,
        )


@dataclass(frozen=True)
class Criterion:
    """One criterion of an experiment (`max_recovery_s`, ...): threshold, measured, met."""

    name: str
    threshold: JsonValue
    measured: JsonValue
    met: bool

    def to_json(self) -> JsonObject:
        """The JSON form."""
        return {
            "name": self.name,
            "threshold": self.threshold,
            "measured": self.measured,
            "met": self.met,
        }

    @classmethod
    def from_json(cls, data: object) -> Criterion:
        """Read leniently: a criterion without `met: true` is not met."""
        d = _obj(data)
        return cls(_str(d.get("name")), d.get("threshold"), d.get("measured"), d.get("met") is True)


@dataclass(frozen=True)
class Window:
    """When a fault was active, in epoch seconds (either end may be unknown)."""

    start: float | None
    end: float | None

    def to_json(self) -> JsonObject:
        """The JSON form."""
        return {"start": self.start, "end": self.end}

    @classmethod
    def from_json(cls, data: object) -> Window:
        """Read leniently."""
        d = _obj(data)
        return cls(_num(d.get("start")), _num(d.get("end")))


@dataclass(frozen=True)
class ChaosFinding:
    """What one chaos experiment on one cell showed.

    `fault`, `criteria`, `window` and `activities` come from the judged journal: None when no
    journal was judged (the key is then absent from the JSON form, never a made-up default).
    """

    journal: str | None = None  # the journal's path, relative to the run folder
    status: str = ""  # the journal's own status (completed, failed, aborted, interrupted)
    deviated: bool = False
    recovery_time_s: float | None = None
    integrity: Integrity = field(default_factory=Integrity)
    fault: FaultProof | None = None
    criteria: tuple[Criterion, ...] | None = None
    window: Window | None = None
    activities: tuple[JsonObject, ...] | None = None
    restored: tuple[str, ...] = ()  # what certify had to restore afterwards
    leftovers: tuple[str, ...] = ()  # what was still not back as before

    kind = "chaos"

    def to_json(self) -> JsonObject:
        """The JSON form (`findings_json` sorts its keys for records and reports)."""
        out: JsonObject = {
            "journal": self.journal,
            "status": self.status,
            "deviated": self.deviated,
            "recovery_time_s": self.recovery_time_s,
            "data_integrity": self.integrity.to_json(),
        }
        if self.fault is not None:
            out["fault"] = self.fault.to_json()
        if self.criteria is not None:
            out["criteria"] = [c.to_json() for c in self.criteria]
        if self.window is not None:
            out["fault_window"] = self.window.to_json()
        if self.activities is not None:
            out["activities"] = [dict(a) for a in self.activities]
        out["restored"] = list(self.restored)
        out["leftovers"] = list(self.leftovers)
        return out

    @classmethod
    def from_json(cls, data: object) -> ChaosFinding:
        """Read leniently (also the `provenance["chaos"]` of certify.record/1)."""
        d = _obj(data)
        journal = d.get("journal")
        criteria, activities = d.get("criteria"), d.get("activities")
        return cls(
            journal if isinstance(journal, str) else None,
            _str(d.get("status")),
            d.get("deviated") is True,
            _num(d.get("recovery_time_s")),
            Integrity.from_json(d.get("data_integrity")),
            FaultProof.from_json(d["fault"]) if "fault" in d else None,
            tuple(Criterion.from_json(c) for c in criteria) if isinstance(criteria, list) else None,
            Window.from_json(d["fault_window"]) if "fault_window" in d else None,
            (
                tuple(dict(a) for a in activities if isinstance(a, dict))
                if isinstance(activities, list)
                else None
            ),
            tuple(str(x) for x in _list(d.get("restored"))),
            tuple(str(x) for x in _list(d.get("leftovers"))),
        )


@dataclass(frozen=True)
class SloResult:
    """One SLO threshold of a load run, judged on what locust measured."""

    metric: str
    op: str  # max or min
    threshold: float
    measured: float | None
    met: bool
    note: str = ""

    def to_json(self) -> JsonObject:
        """The JSON form."""
        return {
            "metric": self.metric,
            "op": self.op,
            "threshold": self.threshold,
            "measured": self.measured,
            "met": self.met,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: object) -> SloResult:
        """Read leniently: an SLO without `met: true` is missed."""
        d = _obj(data)
        threshold = _num(d.get("threshold"))
        return cls(
            _str(d.get("metric"), "?") or "?",
            _str(d.get("op"), "max") or "max",
            threshold if threshold is not None else float("nan"),
            _num(d.get("measured")),
            d.get("met") is True,
            _str(d.get("note")),
        )


@dataclass(frozen=True)
class LoadRun:
    """How a load profile ran: shape, users, duration, target, and where its stats are."""

    shape: str
    users: int
    duration_s: float
    during: str | None  # the experiment it ran under, if any
    host: str
    stats: Mapping[str, str]  # json, csv, csv_history, log: paths relative to the run folder


@dataclass(frozen=True)
class LoadFinding:
    """What one load profile on one cell measured: SLOs, and the windows around a fault."""

    run: LoadRun | None = None  # None: the load never started (not applicable)
    slos: tuple[SloResult, ...] = ()
    windows: Mapping[str, Metrics] | None = None  # before/during/after, under a fault
    throughput_recovery_s: float | None = None
    parts: JsonObject = field(default_factory=dict)  # what the locustfile declared of its parts
    slo_window: str | None = None  # the window the SLOs judged ("before" under a fault)

    kind = "load"

    def to_json(self) -> JsonObject:
        """The JSON form (`findings_json` sorts its keys for records and reports)."""
        if self.run is None:
            return {"parts": dict(self.parts)}
        out: JsonObject = {
            "shape": self.run.shape,
            "users": self.run.users,
            "duration_s": self.run.duration_s,
            "during": self.run.during,
            "host": self.run.host,
            "slos": [s.to_json() for s in self.slos],
            "stats": dict(self.run.stats),
            "windows": (
                None
                if self.windows is None
                else {w: dict(figures) for w, figures in self.windows.items()}
            ),
            "throughput_recovery_s": self.throughput_recovery_s,
            "parts": dict(self.parts),
        }
        if self.slo_window is not None:
            out["slo_window"] = self.slo_window
        return out

    @classmethod
    def from_json(cls, data: object) -> LoadFinding:
        """Read leniently (also the `provenance["load"]` of certify.record/1)."""
        d = _obj(data)
        parts = dict(_obj(d.get("parts")))
        if "shape" not in d:
            return cls(parts=parts)
        users, seconds = _num(d.get("users")), _num(d.get("duration_s"))
        during = d.get("during")
        run = LoadRun(
            _str(d.get("shape")),
            int(users) if users is not None else 0,
            seconds if seconds is not None else 0.0,
            during if isinstance(during, str) else None,
            _str(d.get("host")),
            {str(k): str(v) for k, v in _obj(d.get("stats")).items()},
        )
        raw = d.get("windows")
        windows = (
            {str(w): _figures(f) for w, f in raw.items()} if isinstance(raw, Mapping) else None
        )
        slo_window = d.get("slo_window")
        return cls(
            run,
            tuple(SloResult.from_json(s) for s in _list(d.get("slos"))),
            windows,
            _num(d.get("throughput_recovery_s")),
            parts,
            slo_window if isinstance(slo_window, str) else None,
        )


def _figures(value: object) -> dict[str, float]:
    return {str(k): n for k, v in _obj(value).items() if (n := _num(v)) is not None}


Finding = Union[ChaosFinding, LoadFinding]  # noqa: UP007


def finding_from_json(kind: str, data: object) -> Finding | None:
    """The finding of `kind` (chaos, load) read from its JSON form, or None for another kind."""
    if kind == "chaos":
        return ChaosFinding.from_json(data)
    if kind == "load":
        return LoadFinding.from_json(data)
    return None


def metrics_from_json(data: object) -> dict[str, float] | None:
    """The numbers of a `metrics` mapping (None when there is none); non-numbers are dropped."""
    if not isinstance(data, Mapping):
        return None
    return {str(k): v for k, v in data.items() if isinstance(v, int | float)}


def canonical(value: JsonValue) -> JsonValue:
    """`value` with every object's keys sorted: the one order records and reports use."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def findings_json(metrics: Metrics | None, finding: Finding | None) -> JsonObject:
    """`metrics` and the finding under its kind, as records and report tests carry them."""
    out: JsonObject = {}
    if metrics is not None:
        out["metrics"] = {k: metrics[k] for k in sorted(metrics)}
    if finding is not None:
        out[finding.kind] = canonical(finding.to_json())
    return out


__all__ = [
    "FINDING_SCHEMA",
    "ChaosFinding",
    "Criterion",
    "FaultProof",
    "Finding",
    "Integrity",
    "JsonObject",
    "JsonValue",
    "LoadFinding",
    "LoadRun",
    "Metrics",
    "SloResult",
    "Window",
    "canonical",
    "finding_from_json",
    "findings_json",
    "metrics_from_json",
]
