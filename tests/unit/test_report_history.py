"""History: runs kept per profile and compared with the runs before them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from certify.report.history import History, compare, history_of, outcomes, trend_point

C = "spark=3.5"


def _run(statuses: dict[str, str], durations: dict[str, float] | None = None) -> dict[Any, Any]:
    durations = durations or {}
    return {(C, t): (s, durations.get(t, 1.0)) for t, s in statuses.items()}


def _names(changes: Any, kind: str) -> list[str]:
    return [c.test for c in getattr(changes, kind)]


def test_compare_sorts_tests_into_what_changed() -> None:
    earlier = [
        _run({"flip": "failed", "fixed": "passed", "same": "failed", "slow": "passed"}),
        _run({"flip": "passed", "fixed": "failed", "same": "failed", "gone": "passed",
              "slow": "passed"}),
    ]  # fmt: skip
    now = _run(
        {"flip": "passed", "fixed": "passed", "same": "failed", "gone": "not_run", "new": "error",
         "slow": "passed", "retry": "flaky"},
        {"slow": 3.0},
    )  # fmt: skip
    changes = compare(now, earlier, "prev")
    assert changes.previous == "prev" and changes.runs_compared == 2
    assert _names(changes, "new_failures") == ["new"]
    assert _names(changes, "fixed") == ["fixed"]
    assert _names(changes, "still_failing") == ["same"]
    assert _names(changes, "flaky") == ["flip", "retry"]
    assert _names(changes, "newly_not_run") == ["gone"]
    assert _names(changes, "duration_regressions") == ["slow"]
    assert changes.duration_regressions[0].detail == "1.00s -> 3.00s"


def test_a_failure_older_than_five_runs_is_not_flaky() -> None:
    runs = [_run({"t": "failed"})] + [_run({"t": "passed"})] * 4
    assert _names(compare(_run({"t": "passed"}), runs, "p"), "flaky") == []
    assert _names(compare(_run({"t": "passed"}), runs[1:], "p"), "flaky") == []
    assert _names(compare(_run({"t": "passed"}), runs[:4], "p"), "flaky") == ["t"]


def _doc(run_id: str, started: str, status: str) -> dict[str, Any]:
    return {
        "run": {"id": run_id, "profile": "pr", "started": started, "duration_s": 5.0},
        "summary": {"verdicts": {"certified": 1}, "tests": {status: 1}},
        "gate": {"verdict": "pass"},
        "cells": [{"id": C, "tests": [{"test_id": "t", "status": status, "duration_s": 1.0}]}],
    }


def test_history_keeps_runs_per_profile_and_reads_back_the_ones_before(tmp_path: Path) -> None:
    history = History(tmp_path)
    for i, status in enumerate(["passed", "failed", "passed"]):
        history.add(_doc(f"r{i}", f"2026-01-0{i + 1}T00:00:00Z", status))
    history.add(_doc("r2", "2026-01-03T00:00:00Z", "passed"))  # idempotent per run
    assert [run_id for run_id, _ in history.previous("pr", "r3", 4)] == ["r0", "r1", "r2"]
    assert [run_id for run_id, _ in history.previous("pr", "r1", 4)] == ["r0"]
    assert [p.run_id for p in history.trend("pr", "r2")] == ["r0", "r1", "r2"]
    assert history.previous("other", "x", 4) == []
    point = trend_point(_doc("r3", "2026-01-04T00:00:00Z", "passed"))
    current = outcomes(_doc("r3", "2026-01-04T00:00:00Z", "passed"))
    changes, trend = history_of(history, "pr", "r3", current, point)
    assert changes is not None and changes.previous == "r2"
    assert _names(changes, "flaky") == ["t"]
    assert [p.run_id for p in trend] == ["r0", "r1", "r2", "r3"]


def test_a_damaged_history_entry_is_skipped(tmp_path: Path) -> None:
    history = History(tmp_path)
    history.add(_doc("r0", "2026-01-01T00:00:00Z", "passed"))
    kept = history.add(_doc("r1", "2026-01-02T00:00:00Z", "passed"))
    kept.with_suffix(".outcomes").write_text("{not json")
    assert [run_id for run_id, _ in history.previous("pr", "r9", 4)] == ["r0"]
    json.loads(kept.read_text())  # the report itself is intact
