"""What chaos and load records measured, read once from their typed findings for every output.

The chaos and load runners give each record its `metrics` (the figures) and its `finding` (a
`ChaosFinding` or `LoadFinding`, see certify.results.findings). These functions are the one
place that reads them: the policy's chaos criteria and SLOs, the report's per-cell chaos and
load sections and the Markdown and HTML renderings all go through them, and tolerate a record
that lacks any of it (missing evidence is reported as missing, never as a pass).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from certify.report.verdict import status_rank
from certify.results import Record
from certify.results.findings import (
    ChaosFinding,
    Criterion,
    FaultProof,
    Integrity,
    JsonObject,
    LoadFinding,
    SloResult,
    Window,
    canonical,
)

# provenance keys that belong to one record, not to the cell (kept per test in report.json)
RECORD_KEYS = ("metrics", "chaos", "load")
LOSS_VERDICTS = ("lost", "changed")
WINDOWS = ("before", "during", "after")
_LOAD_FIGURES = ("p50_ms", "p95_ms", "p99_ms", "error_rate", "rps", "requests", "failures")
_ROW_FIGURES = ("p50_ms", "p95_ms", "p99_ms", "error_rate", "rps")
Figures = Mapping[str, float]


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, int | float) else None


def _sorted(data: JsonObject) -> JsonObject:
    """`data` in the canonical key order records and reports use (nested objects too)."""
    return {k: canonical(data[k]) for k in sorted(data)}


def chaos_of(record: Record) -> ChaosFinding | None:
    """The record's chaos finding (None when it has none)."""
    return record.finding if isinstance(record.finding, ChaosFinding) else None


def load_of(record: Record) -> LoadFinding | None:
    """The record's load finding, if the load ran (None when it never started or has none)."""
    found = record.finding
    return found if isinstance(found, LoadFinding) and found.run is not None else None


def metric(record: Record, name: str) -> float | None:
    """One number of the record's metrics, or None when it was not measured."""
    return _number((record.metrics or {}).get(name))


def recovery_s(record: Record) -> float | None:
    """Seconds from the fault to the steady state regained (metrics, else the chaos finding)."""
    measured = metric(record, "recovery_s")
    if measured is not None:
        return measured
    chaos = chaos_of(record)
    return _number(chaos.recovery_time_s) if chaos is not None else None


def data_integrity(record: Record) -> Integrity | None:
    """The chaos finding's data-integrity check (None when there is no chaos finding)."""
    chaos = chaos_of(record)
    return chaos.integrity if chaos is not None else None


def data_lost(record: Record) -> tuple[bool | None, str]:
    """(True if data was lost or changed, None if never checked) and how the record says so."""
    integrity = data_integrity(record)
    verdict = integrity.verdict if integrity is not None else None
    lost_rows = metric(record, "data_loss_rows")
    if verdict in LOSS_VERDICTS or (lost_rows is not None and lost_rows > 0):
        rows = f", {lost_rows:g} row(s) lost" if lost_rows else ""
        return True, f"data integrity {verdict or 'not stated'}{rows}"
    if verdict == "intact":
        return False, "data intact"
    if verdict is None and lost_rows == 0:
        return False, "0 rows lost"
    return None, f"data integrity {verdict or 'not checked'}"


def fault_confirmed(record: Record) -> tuple[bool | None, str]:
    """(True when the fault provably happened, None when nothing says) and its evidence."""
    chaos = chaos_of(record)
    fault = chaos.fault if chaos is not None else None
    if fault is not None and fault.confirmed is not None:
        return fault.confirmed, fault.evidence
    flag = metric(record, "fault_confirmed")
    return (None, "") if flag is None else (flag >= 1, "")


def under_chaos(record: Record) -> bool:
    """True for a load record that ran while a chaos experiment injected a fault."""
    load = load_of(record)
    return load is not None and (bool(load.run and load.run.during) or bool(load.windows))


def window_metrics(record: Record, window: str) -> Figures:
    """The figures of one window (before, during, after) of a load under chaos."""
    load = load_of(record)
    figures = (load.windows or {}).get(window, {}) if load is not None else {}
    return {k: v for k in sorted(figures) if (v := _number(figures[k])) is not None}


def throughput_recovery_s(record: Record) -> float | None:
    """Seconds the throughput took to come back after the fault window (None: never, or no load)."""
    load = load_of(record)
    return _number(load.throughput_recovery_s) if load is not None else None


@dataclass(frozen=True)
class ExperimentDetail:
    """What report.json shows for an experiment result (see the record contract).

    `integrity` and `fault` are as the report states them: the verdict `unchecked` and the
    fault's confirmation unknown (None) where the record does not say.
    """

    test_id: str
    status: str
    recovery_time_s: float | None
    integrity: Integrity
    fault: FaultProof
    journal: str | None = None
    deviated: bool | None = None  # None: no chaos finding
    criteria: tuple[Criterion, ...] = ()
    fault_window: Window | None = None

    def to_json(self) -> JsonObject:
        """The JSON form, in report.json's key order."""
        return {
            "test_id": self.test_id,
            "status": self.status,
            "recovery_time_s": self.recovery_time_s,
            "data_integrity": {
                "verdict": self.integrity.verdict,
                "rows_verified": self.integrity.rows_verified,
                "tables": [_sorted(t) for t in self.integrity.tables],
            },
            "fault": {
                "action": self.fault.action,
                "target": self.fault.target,
                "confirmed": self.fault.confirmed,
                "evidence": self.fault.evidence,
            },
            "journal": self.journal,
            "deviated": self.deviated,
            "criteria": [_sorted(c.to_json()) for c in self.criteria],
            "fault_window": _sorted(self.fault_window.to_json()) if self.fault_window else None,
        }


def experiment_detail(record: Record) -> ExperimentDetail:
    """The experiment result of `record`, as report.json shows it."""
    chaos = chaos_of(record)
    integrity = chaos.integrity if chaos is not None else None
    fault = (chaos.fault if chaos is not None else None) or FaultProof()
    rows = _number(integrity.rows_verified) if integrity is not None else None
    stated = Integrity(
        (integrity.verdict if integrity is not None else "") or "unchecked",
        int(rows or metric(record, "rows_verified") or 0),
        integrity.tables if integrity is not None else (),
    )
    proof = FaultProof(fault.action, fault.target, None, fault_confirmed(record)[0], fault.evidence)
    if chaos is None:
        return ExperimentDetail(record.test_id, record.status, recovery_s(record), stated, proof)
    return ExperimentDetail(
        record.test_id,
        record.status,
        recovery_s(record),
        stated,
        proof,
        chaos.journal,
        chaos.deviated,
        chaos.criteria or (),
        chaos.window,
    )


@dataclass(frozen=True)
class LoadDetail:
    """What report.json shows for a load result: SLOs, figures, windows under chaos."""

    test_id: str
    status: str
    shape: str | None = None  # None: the load never started, or the record says nothing
    users: int | None = None
    during: str | None = None
    metrics: Figures | None = None  # p50_ms ... failures, those measured, in that order
    slos: tuple[SloResult, ...] = ()
    windows: Mapping[str, Figures] | None = None  # before, during, after: only under chaos
    throughput_recovery_s: float | None = None
    stats: Mapping[str, str] | None = None

    def to_json(self) -> JsonObject:
        """The JSON form, in report.json's key order."""
        return {
            "test_id": self.test_id,
            "status": self.status,
            "shape": self.shape,
            "users": self.users,
            "during": self.during,
            "metrics": dict(self.metrics or {}),
            "slos": [_sorted(s.to_json()) for s in self.slos],
            "windows": (
                None if self.windows is None else {w: dict(f) for w, f in self.windows.items()}
            ),
            "throughput_recovery_s": self.throughput_recovery_s,
            "stats": {k: (self.stats or {})[k] for k in sorted(self.stats or {})},
        }


def load_detail(record: Record) -> LoadDetail:
    """The load result of `record`, as report.json shows it."""
    metrics = record.metrics or {}
    figures = {k: v for k in _LOAD_FIGURES if (v := _number(metrics.get(k))) is not None}
    load = load_of(record)
    if load is None or load.run is None:
        return LoadDetail(record.test_id, record.status, metrics=figures)
    windows = {w: window_metrics(record, w) for w in WINDOWS} if load.windows else None
    return LoadDetail(
        record.test_id,
        record.status,
        load.run.shape,
        load.run.users,
        load.run.during,
        figures,
        load.slos,
        windows,
        throughput_recovery_s(record),
        load.run.stats,
    )


def _main_record(records: Sequence[Record]) -> Record | None:
    """The record a criterion's details come from: the worst one (criteria have usually one)."""
    return min(records, key=lambda r: status_rank(r.status)) if records else None


def suite_detail(kind: str, name: str, records: Sequence[Record]) -> JsonObject:
    """Extra keys of an experiment or load criterion in report.json (empty for other kinds)."""
    mine = [r for r in records if r.kind == kind and r.suite == name]
    main = _main_record(mine)
    if main is None or not main.applicable:
        return {}
    if kind not in ("experiment", "load"):
        return {}
    detail = experiment_detail(main) if kind == "experiment" else load_detail(main)
    return {k: v for k, v in detail.to_json().items() if k != "status"}


@dataclass(frozen=True)
class ChaosRow:
    """One row of a cell's chaos section: an experiment record and its verdicts."""

    experiment: str
    test_id: str
    status: str
    verdict: str  # the experiment's own criterion (`chaos:NAME`)
    policy: str | None  # the policy's chaos criteria on it (`chaos-criteria:NAME`), if any
    recovery_time_s: float | None
    rows_verified: int
    data_integrity: str
    fault_confirmed: bool | None
    journal: str | None
    message: str

    def to_json(self) -> JsonObject:
        """The JSON form (one entry of a cell's `chaos` in report.json)."""
        return {
            "experiment": self.experiment,
            "test_id": self.test_id,
            "status": self.status,
            "verdict": self.verdict,
            "policy": self.policy,
            "recovery_time_s": self.recovery_time_s,
            "rows_verified": self.rows_verified,
            "data_integrity": self.data_integrity,
            "fault_confirmed": self.fault_confirmed,
            "journal": self.journal,
            "message": self.message,
        }


def chaos_rows(measured: Sequence[Record], verdicts: Mapping[str, str]) -> tuple[ChaosRow, ...]:
    """The cell's chaos section: one row per experiment record."""
    rows: list[ChaosRow] = []
    for record in measured:
        if record.kind != "experiment":
            continue
        detail = experiment_detail(record)
        rows.append(
            ChaosRow(
                record.suite,
                record.test_id,
                record.status,
                verdicts.get(f"chaos:{record.suite}", "not_run"),
                verdicts.get(f"chaos-criteria:{record.suite}"),
                detail.recovery_time_s,
                detail.integrity.rows_verified,
                detail.integrity.verdict,
                detail.fault.confirmed,
                detail.journal,
                _first(record.message),
            )
        )
    return tuple(rows)


@dataclass(frozen=True)
class LoadRow:
    """One row of a cell's load section: a load record, its figures, SLOs and windows."""

    profile: str
    verdict: str  # the load profile's criterion (`load:NAME`)
    detail: LoadDetail
    message: str

    def figure(self, name: str) -> float | None:
        """One of the run's figures (p50_ms, p95_ms, p99_ms, error_rate, rps), if measured."""
        return (self.detail.metrics or {}).get(name)

    def to_json(self) -> JsonObject:
        """The JSON form (one entry of a cell's `load` in report.json)."""
        detail = self.detail.to_json()
        return {
            "profile": self.profile,
            "test_id": self.detail.test_id,
            "status": self.detail.status,
            "verdict": self.verdict,
            **{k: self.figure(k) for k in _ROW_FIGURES},
            "slos": detail["slos"],
            "during": self.detail.during,
            "windows": detail["windows"],
            "throughput_recovery_s": self.detail.throughput_recovery_s,
            "message": self.message,
        }


def load_rows(measured: Sequence[Record], verdicts: Mapping[str, str]) -> tuple[LoadRow, ...]:
    """The cell's load section: one row per load record, with its SLOs and windows."""
    return tuple(
        LoadRow(
            record.suite,
            verdicts.get(f"load:{record.suite}", "not_run"),
            load_detail(record),
            _first(record.message),
        )
        for record in measured
        if record.kind == "load"
    )


def _first(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0][:300] if stripped else ""


def fmt(value: object, unit: str = "") -> str:
    """A figure for a table: `12.3 s`, `0.001`, `yes`/`no`, or `-` when not measured."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        text = f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
        return f"{text} {unit}".rstrip()
    return str(value)


def slo_text(slo: SloResult) -> str:
    """One SLO result as text: `p95_ms 180 <= 200 met`."""
    op = "<=" if slo.op == "max" else ">="
    state = "met" if slo.met else "MISSED"
    return f"{slo.metric} {fmt(slo.measured)} {op} {fmt(slo.threshold)} {state}"


def window_text(windows: Mapping[str, Figures] | None, name: str) -> str:
    """One window's p95 / error rate / rps, e.g. `p95 120 ms, err 0, 35 rps`."""
    figures = (windows or {}).get(name)
    if not figures:
        return "-"
    return (
        f"p95 {fmt(figures.get('p95_ms'), 'ms')}, err {fmt(figures.get('error_rate'))}, "
        f"{fmt(figures.get('rps'))} rps"
    )
