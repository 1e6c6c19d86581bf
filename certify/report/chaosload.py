"""What chaos and load records measured, read once from their provenance for every output.

The chaos and load runners put their findings under `provenance["chaos"]` / `provenance["load"]`
and the figures under `provenance["metrics"]` (the record contract). These functions are the
one place that reads those mappings: the policy's chaos criteria, the report's per-cell chaos
and load sections and the Markdown and HTML renderings all go through them, and tolerate a
record that lacks any of it (missing evidence is reported as missing, never as a pass).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from certify.report.verdict import status_rank
from certify.results import Record
from certify.results.findings import findings_json

# provenance keys that belong to one record, not to the cell (kept per test in report.json)
RECORD_KEYS = ("metrics", "chaos", "load")
LOSS_VERDICTS = ("lost", "changed")
WINDOWS = ("before", "during", "after")
_LOAD_FIGURES = ("p50_ms", "p95_ms", "p99_ms", "error_rate", "rps", "requests", "failures")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, int | float) else None


def chaos_of(record: Record) -> Mapping[str, Any]:
    """The record's chaos finding as JSON (empty when it has none)."""
    return _mapping(findings_json(None, record.finding).get("chaos"))


def load_of(record: Record) -> Mapping[str, Any]:
    """The record's load finding as JSON (empty when it has none)."""
    return _mapping(findings_json(None, record.finding).get("load"))


def metric(record: Record, name: str) -> float | None:
    """One number from `provenance["metrics"]`, or None when it was not measured."""
    return _number((record.metrics or {}).get(name))


def recovery_s(record: Record) -> float | None:
    """Seconds from the fault to the steady state regained (metrics, else the chaos section)."""
    measured = metric(record, "recovery_s")
    return measured if measured is not None else _number(chaos_of(record).get("recovery_time_s"))


def data_integrity(record: Record) -> Mapping[str, Any]:
    """The chaos section's data-integrity check (empty when there is none)."""
    return _mapping(chaos_of(record).get("data_integrity"))


def data_lost(record: Record) -> tuple[bool | None, str]:
    """(True if data was lost or changed, None if never checked) and how the record says so."""
    verdict = data_integrity(record).get("verdict")
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
    fault = _mapping(chaos_of(record).get("fault"))
    confirmed = fault.get("confirmed")
    if isinstance(confirmed, bool):
        return confirmed, str(fault.get("evidence") or "")
    flag = metric(record, "fault_confirmed")
    return (None, "") if flag is None else (flag >= 1, "")


def under_chaos(record: Record) -> bool:
    """True for a load record that ran while a chaos experiment injected a fault."""
    load = load_of(record)
    return bool(load.get("during")) or bool(_mapping(load.get("windows")))


def window_metrics(record: Record, window: str) -> Mapping[str, float]:
    """The figures of one window (before, during, after) of a load under chaos."""
    figures = _mapping(_mapping(load_of(record).get("windows")).get(window))
    return {k: v for k, n in figures.items() if (v := _number(n)) is not None}


def experiment_detail(record: Record) -> dict[str, Any]:
    """What report.json shows for an experiment result (see the record contract)."""
    chaos = chaos_of(record)
    fault = _mapping(chaos.get("fault"))
    integrity = data_integrity(record)
    return {
        "test_id": record.test_id,
        "status": record.status,
        "recovery_time_s": recovery_s(record),
        "data_integrity": {
            "verdict": str(integrity.get("verdict") or "unchecked"),
            "rows_verified": int(
                _number(integrity.get("rows_verified")) or metric(record, "rows_verified") or 0
            ),
            "tables": list(integrity.get("tables") or []),
        },
        "fault": {
            "action": str(fault.get("action") or ""),
            "target": str(fault.get("target") or ""),
            "confirmed": fault_confirmed(record)[0],
            "evidence": str(fault.get("evidence") or ""),
        },
        "journal": chaos.get("journal"),
        "deviated": chaos.get("deviated"),
        "criteria": list(chaos.get("criteria") or []),
        "fault_window": chaos.get("fault_window"),
    }


def load_detail(record: Record) -> dict[str, Any]:
    """What report.json shows for a load result: SLOs, figures, windows under chaos."""
    load = load_of(record)
    windows = _mapping(load.get("windows"))
    return {
        "test_id": record.test_id,
        "status": record.status,
        "shape": load.get("shape"),
        "users": load.get("users"),
        "during": load.get("during"),
        "metrics": _figures(record),
        "slos": [dict(s) for s in load.get("slos") or [] if isinstance(s, Mapping)],
        "windows": {w: dict(window_metrics(record, w)) for w in WINDOWS} if windows else None,
        "throughput_recovery_s": _number(load.get("throughput_recovery_s")),
        "stats": dict(_mapping(load.get("stats"))),
    }


def _figures(record: Record) -> dict[str, float]:
    metrics = record.metrics or {}
    return {k: v for k in _LOAD_FIGURES if (v := _number(metrics.get(k))) is not None}


def _main_record(records: Sequence[Record]) -> Record | None:
    """The record a criterion's details come from: the worst one (criteria have usually one)."""
    return min(records, key=lambda r: status_rank(r.status)) if records else None


def suite_detail(kind: str, name: str, records: Sequence[Record]) -> dict[str, Any]:
    """Extra keys of an experiment or load criterion in report.json (empty for other kinds)."""
    mine = [r for r in records if r.kind == kind and r.suite == name]
    main = _main_record(mine)
    if main is None or not main.applicable:
        return {}
    if kind not in ("experiment", "load"):
        return {}
    detail = experiment_detail(main) if kind == "experiment" else load_detail(main)
    detail.pop("status")
    return detail


def chaos_rows(measured: Sequence[Record], verdicts: Mapping[str, str]) -> list[dict[str, Any]]:
    """The cell's chaos section: one row per experiment record."""
    rows: list[dict[str, Any]] = []
    for record in measured:
        if record.kind != "experiment":
            continue
        detail = experiment_detail(record)
        rows.append(
            {
                "experiment": record.suite,
                "test_id": record.test_id,
                "status": record.status,
                "verdict": verdicts.get(f"chaos:{record.suite}", "not_run"),
                "policy": verdicts.get(f"chaos-criteria:{record.suite}"),
                "recovery_time_s": detail["recovery_time_s"],
                "rows_verified": detail["data_integrity"]["rows_verified"],
                "data_integrity": detail["data_integrity"]["verdict"],
                "fault_confirmed": detail["fault"]["confirmed"],
                "journal": detail["journal"],
                "message": _first(record.message),
            }
        )
    return rows


def load_rows(measured: Sequence[Record], verdicts: Mapping[str, str]) -> list[dict[str, Any]]:
    """The cell's load section: one row per load record, with its SLOs and windows."""
    rows: list[dict[str, Any]] = []
    for record in measured:
        if record.kind != "load":
            continue
        detail = load_detail(record)
        figures = detail["metrics"]
        rows.append(
            {
                "profile": record.suite,
                "test_id": record.test_id,
                "status": record.status,
                "verdict": verdicts.get(f"load:{record.suite}", "not_run"),
                **{k: figures.get(k) for k in ("p50_ms", "p95_ms", "p99_ms", "error_rate", "rps")},
                "slos": detail["slos"],
                "during": detail["during"],
                "windows": detail["windows"],
                "throughput_recovery_s": detail["throughput_recovery_s"],
                "message": _first(record.message),
            }
        )
    return rows


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


def slo_text(slo: Mapping[str, Any]) -> str:
    """One SLO result as text: `p95_ms 180 <= 200 met`."""
    op = "<=" if slo.get("op", "max") == "max" else ">="
    state = "met" if slo.get("met") else "MISSED"
    measured, threshold = fmt(slo.get("measured")), fmt(slo.get("threshold"))
    return f"{slo.get('metric', '?')} {measured} {op} {threshold} {state}"


def window_text(windows: Mapping[str, Any] | None, name: str) -> str:
    """One window's p95 / error rate / rps, e.g. `p95 120 ms, err 0, 35 rps`."""
    figures = _mapping(_mapping(windows).get(name))
    if not figures:
        return "-"
    return (
        f"p95 {fmt(figures.get('p95_ms'), 'ms')}, err {fmt(figures.get('error_rate'))}, "
        f"{fmt(figures.get('rps'))} rps"
    )
