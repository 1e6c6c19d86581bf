"""Locust's CSV stats -> the figures of a load record, and per-window figures around a fault.

Locust writes `<prefix>_stats.csv` (final totals) and, with `--csv-full-history`,
`<prefix>_stats_history.csv`: one row a second per request name plus an `Aggregated` row, with
cumulative request and failure counts and percentiles over its sliding ~10 s window.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from certify.errors import StatsError

AGGREGATED = "Aggregated"
RECOVERED_FRACTION = 0.8  # throughput is back once it reaches this share of the before-window rps
_SMOOTH_S = 2  # seconds of history a recovery rate is measured over (one row is a second)


@dataclass(frozen=True)
class FaultWindow:
    """When a fault was active, in epoch seconds."""

    start: float
    end: float


@dataclass(frozen=True)
class WindowFigures:
    """A load's figures before, during and after a fault, and how soon throughput came back."""

    before: dict[str, float]
    during: dict[str, float]
    after: dict[str, float]
    throughput_recovery_s: float | None  # None: it never came back within the run

    @property
    def by_window(self) -> dict[str, dict[str, float]]:
        """{"before": ..., "during": ..., "after": ...}: a load finding's `windows`."""
        return {"before": self.before, "during": self.during, "after": self.after}


def _number(text: str | None) -> float | None:
    if text is None or text.strip() in ("", "N/A"):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise StatsError(f"{path}: cannot read locust stats ({exc})") from None


def summary(stats_csv: Path) -> dict[str, float]:
    """p50/p95/p99 (ms), error_rate, rps, requests, failures of the `Aggregated` row."""
    rows = [r for r in _rows(stats_csv) if r.get("Name") == AGGREGATED]
    if not rows:
        raise StatsError(f"{stats_csv}: no {AGGREGATED} row (did locust run any request?)")
    row = rows[-1]
    requests = _number(row.get("Request Count")) or 0.0
    failures = _number(row.get("Failure Count")) or 0.0
    out: dict[str, float] = {
        "requests": requests,
        "failures": failures,
        "error_rate": failures / requests if requests else 0.0,
        "rps": _number(row.get("Requests/s")) or 0.0,
    }
    for key, column in (("p50_ms", "50%"), ("p95_ms", "95%"), ("p99_ms", "99%")):
        value = _number(row.get(column))
        if value is not None and requests:
            out[key] = value
    return out


@dataclass(frozen=True)
class _Point:
    """One Aggregated history row: when, cumulative counts, sliding-window percentiles."""

    ts: float
    users: float
    requests: float
    failures: float
    avg_ms: float
    p50: float | None
    p95: float | None
    p99: float | None = None


def history(history_csv: Path) -> list[_Point]:
    """The `Aggregated` rows of a stats history, oldest first."""
    points = []
    for row in _rows(history_csv):
        if row.get("Name") != AGGREGATED:
            continue
        ts = _number(row.get("Timestamp"))
        if ts is None:
            raise StatsError(f"{history_csv}: a row without a Timestamp: {row}")
        points.append(
            _Point(
                ts,
                _number(row.get("User Count")) or 0.0,
                _number(row.get("Total Request Count")) or 0.0,
                _number(row.get("Total Failure Count")) or 0.0,
                _number(row.get("Total Average Response Time")) or 0.0,
                _number(row.get("50%")),
                _number(row.get("95%")),
                _number(row.get("99%")),
            )
        )
    return sorted(points, key=lambda p: p.ts)


def _at(points: Sequence[_Point], ts: float) -> _Point:
    """The last row written at or before `ts` (the first row if none was)."""
    found = points[0]
    for point in points:
        if point.ts > ts:
            break
        found = point
    return found


def _span(points: Sequence[_Point], start: float, end: float) -> dict[str, float]:
    """Figures between two instants: counts, rps and mean exactly, percentiles as locust saw them.

    p50_ms/p95_ms/p99_ms are the worst of locust's sliding-window (~10 s) percentiles written in the
    span; mean_ms is exact (from cumulative totals). A figure nothing measured is absent (a span
    without requests has no mean), as a stored record reads it back.
    """
    first, last = _at(points, start), _at(points, end)
    requests = last.requests - first.requests
    failures = last.failures - first.failures
    seconds = max(last.ts - first.ts, 1e-9)
    total_ms = last.avg_ms * last.requests - first.avg_ms * first.requests
    inside = [p for p in points if start < p.ts <= end]
    p50 = [p.p50 for p in inside if p.p50 is not None]
    p95 = [p.p95 for p in inside if p.p95 is not None]
    p99 = [p.p99 for p in inside if p.p99 is not None]
    figures: dict[str, float | None] = {
        "start": start,
        "end": end,
        "requests": int(requests),
        "failures": int(failures),
        "rps": requests / seconds if last.ts > first.ts else 0.0,
        "error_rate": failures / requests if requests else 0.0,
        "mean_ms": total_ms / requests if requests else None,
        "p50_ms": max(p50) if p50 else None,
        "p95_ms": max(p95) if p95 else None,
        "p99_ms": max(p99) if p99 else None,
    }
    return {k: v for k, v in figures.items() if v is not None}


def _recovery(points: Sequence[_Point], end: float, before_rps: float) -> float | None:
    """Seconds from `end` until throughput is back to RECOVERED_FRACTION of `before_rps`."""
    if before_rps <= 0:
        return None
    wanted = RECOVERED_FRACTION * before_rps
    for point in points:
        if point.ts < end + _SMOOTH_S:
            continue
        back = _at(points, point.ts - _SMOOTH_S)
        if point.ts > back.ts and (point.requests - back.requests) / (point.ts - back.ts) >= wanted:
            return max(0.0, point.ts - end)
    return None


HISTORY_STEP_S = 1.0  # locust writes a stats history row every second


def windows(history_csv: Path, window: FaultWindow) -> WindowFigures:
    """before/during/after figures around a fault window and `throughput_recovery_s`.

    `before` runs from the first row with users to the window's start, `after` from its end to
    the last row. Recovery is the first second after the window whose throughput (over the
    preceding 2 s) reaches 80% of the before-window rps; None if it never does.
    """
    points = history(history_csv)
    if not points:
        raise StatsError(f"{history_csv}: no {AGGREGATED} rows (locust wrote no history)")
    if window.end < window.start:
        raise StatsError(f"fault window ends before it starts: {window}")
    loaded = [p for p in points if p.users > 0] or points
    begin = loaded[0].ts
    # history rows carry whole-second timestamps but counts taken when written, later in that
    # second: widen the fault window by one row each way so no fault-time failure or latency is
    # counted as before or after it
    start, end = window.start - HISTORY_STEP_S, window.end + HISTORY_STEP_S
    before = _span(points, begin, start)
    return WindowFigures(
        before,
        _span(points, start, end),
        _span(points, end, points[-1].ts),
        _recovery(points, window.end, before["rps"]),
    )
