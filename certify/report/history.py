"""Run history: every run's report.json kept per profile, compared with the runs before it.

The folder holds `<profile>/<started>_<run id>.json` (the report as written), beside it
`.outcomes` (each test's status and duration, what a comparison reads) and
`<profile>/index.jsonl`, one summary line per run for the trend charts, so neither a comparison
nor a trend has to parse whole reports.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from certify.errors import UsageError
from certify.report.jsondoc import integer, number, obj, objs, text
from certify.results.findings import JsonObject, JsonValue

# A run compares with this many runs before it when looking for flaky tests (5 runs in all).
FLAKY_WINDOW = 5
TREND_RUNS = 30
KEEP_RUNS = 100
_OUTCOMES = ".outcomes"  # beside each kept report: just (cell, test, status, duration)
# A duration regression is a passing test at least this much slower, relatively and absolutely.
SLOWER_RATIO = 1.5
SLOWER_BY_S = 1.0
_PASS = ("passed", "flaky")
_NOT_FAILING = ("passed", "flaky", "skipped", "not_run")

# How the report names each kind of change, in reading order.
CHANGE_TITLES = {
    "new_failures": "New failures",
    "fixed": "Fixed",
    "still_failing": "Still failing",
    "flaky": "Flaky (passed after a failure within the last 5 runs)",
    "newly_not_run": "Newly not run",
    "duration_regressions": "Duration regressions",
}

Key = tuple[str, str]
Outcome = tuple[str, float]


@dataclass(frozen=True)
class TestChange:
    """One test of one cell whose outcome changed (or did not) since the previous run."""

    cell: str
    test: str
    detail: str = ""

    def to_json(self) -> JsonObject:
        """JSON form."""
        return {"cell": self.cell, "test": self.test, "detail": self.detail}


@dataclass(frozen=True)
class Changes:
    """What changed since the previous run of the same profile."""

    previous: str
    runs_compared: int
    new_failures: tuple[TestChange, ...] = ()
    fixed: tuple[TestChange, ...] = ()
    still_failing: tuple[TestChange, ...] = ()
    flaky: tuple[TestChange, ...] = ()
    newly_not_run: tuple[TestChange, ...] = ()
    duration_regressions: tuple[TestChange, ...] = ()

    KINDS = (
        "new_failures",
        "fixed",
        "still_failing",
        "flaky",
        "newly_not_run",
        "duration_regressions",
    )

    def items(self) -> list[tuple[str, tuple[TestChange, ...]]]:
        """(kind, changes) in reading order."""
        return [(kind, getattr(self, kind)) for kind in self.KINDS]

    def to_json(self) -> JsonObject:
        """JSON form (report.json's `changes`)."""
        out: JsonObject = {"previous": self.previous, "runs_compared": self.runs_compared}
        for kind, changes in self.items():
            out[kind] = [c.to_json() for c in changes]
        return out


@dataclass(frozen=True)
class TrendPoint:
    """One run in a trend chart."""

    run_id: str
    started: str
    verdicts: dict[str, int]
    tests: dict[str, int]
    duration_s: float
    gate: str

    def to_json(self) -> JsonObject:
        """JSON form (one line of index.jsonl)."""
        return {
            "run_id": self.run_id,
            "started": self.started,
            "verdicts": dict(self.verdicts),
            "tests": dict(self.tests),
            "duration_s": self.duration_s,
            "gate": self.gate,
        }


def _counts(value: JsonValue) -> dict[str, int]:
    return {k: integer(n, "count") for k, n in obj(value, "counts").items()}


def trend_point(doc: JsonObject) -> TrendPoint:
    """The trend summary of one report document."""
    run = obj(doc.get("run", {}), "run")
    summary = obj(doc.get("summary", {}), "summary")
    return TrendPoint(
        str(run.get("id", "")),
        str(run.get("started", "")),
        _counts(summary.get("verdicts", {})),
        _counts(summary.get("tests", {})),
        float(number(run.get("duration_s") or 0.0, "run.duration_s")),
        str(obj(doc.get("gate", {}), "gate").get("verdict", "fail")),
    )


def _tests(doc: JsonObject) -> list[tuple[str, JsonObject]]:
    """(cell id, test) of every test in a report document."""
    return [
        (text(cell["id"], "cell.id"), test)
        for cell in objs(doc.get("cells", []), "cells")
        for test in objs(cell.get("tests", []), "tests")
    ]


def _duration(test: JsonObject) -> float:
    return number(test.get("duration_s", 0.0), "duration_s")


def outcomes(doc: JsonObject) -> dict[Key, Outcome]:
    """(cell id, test id) -> (status, duration) of every test in a report document."""
    return {
        (cell, text(test["test_id"], "test_id")): (
            text(test["status"], "status"),
            float(_duration(test)),
        )
        for cell, test in _tests(doc)
    }


def _failing(status: str) -> bool:
    return status not in _NOT_FAILING


def compare(
    current: Mapping[Key, Outcome], previous: Sequence[Mapping[Key, Outcome]], previous_id: str
) -> Changes:
    """Compare `current` with earlier runs (oldest first; the last is the previous run)."""
    last = previous[-1] if previous else {}
    window = list(previous[-(FLAKY_WINDOW - 1) :])
    found: dict[str, list[TestChange]] = {kind: [] for kind in Changes.KINDS}
    for key in sorted(current):
        status, duration = current[key]
        before = last.get(key)
        was = before[0] if before else None

        def add(kind: str, detail: str = "", key: Key = key) -> None:
            found[kind].append(TestChange(key[0], key[1], detail))

        if _failing(status):
            add("still_failing" if was and _failing(was) else "new_failures", status)
        elif status in _PASS and was and _failing(was):
            add("fixed", f"{was} -> {status}")
        if status == "not_run" and was != "not_run":
            add("newly_not_run", f"was {was or 'absent'}")
        if status in _PASS and not (was and _failing(was)) and _flip(key, window, status):
            add("flaky", "passed after a failure within the last runs")
        if before and before[0] in _PASS and status in _PASS and _slower(duration, before[1]):
            add("duration_regressions", f"{before[1]:.2f}s -> {duration:.2f}s")
    return Changes(
        previous_id,
        len(previous),
        **{kind: tuple(found[kind]) for kind in Changes.KINDS},
    )


def _slower(now: float, before: float) -> bool:
    return now > before * SLOWER_RATIO and now - before >= SLOWER_BY_S


def _flip(key: Key, window: Sequence[Mapping[Key, Outcome]], status: str) -> bool:
    """A pass after a failure within the window, or a pass that needed a retry now."""
    if status == "flaky":
        return True
    seen_failure = False
    for run in window:
        outcome = run.get(key)
        if outcome is None:
            continue
        if _failing(outcome[0]):
            seen_failure = True
        elif seen_failure and outcome[0] in _PASS:
            return True
    return seen_failure  # failed earlier in the window, passes now


def _read_outcomes(path: Path) -> tuple[str, dict[Key, Outcome]]:
    """The compact outcomes kept beside a history entry (the whole report if they are gone)."""
    compact = path.with_suffix(_OUTCOMES)
    if compact.is_file():
        data = json.loads(compact.read_text(encoding="utf-8"))
        return str(data["run_id"]), {
            (cell, t[0]): (str(t[1]), float(t[2]))
            for cell, tests in data["cells"].items()
            for t in tests
        }
    doc = json.loads(path.read_text(encoding="utf-8"))
    return str(doc["run"]["id"]), outcomes(doc)


def check_profile_name(profile: str, folder: Path) -> str:
    """`profile` if it names one folder inside `folder`; UsageError (exit 2) when it would not.

    A profile name comes from a matrix or a report, both of which a user may hand-edit:
    `../x`, `/abs`, `a/b` or `.hidden` must never decide where certify writes.
    """
    if not profile or profile.startswith(".") or any(c in profile for c in "/\\\0:"):
        raise UsageError(
            f"profile name {profile!r} would write outside the history folder {folder} "
            "(valid: a name without /, \\, : or a leading dot, e.g. nightly)"
        )
    return profile


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "_"


class History:
    """The history folder: a run's report is added once; earlier runs are read back."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _dir(self, profile: str) -> Path:
        return self.folder / _safe(check_profile_name(profile, self.folder))

    def _entries(self, profile: str) -> list[Path]:
        folder = self._dir(profile)
        return sorted(folder.glob("*.json")) if folder.is_dir() else []

    def add(self, doc: JsonObject, written: Path | None = None) -> Path:
        """Keep `doc` (whose report.json is `written`, if it is) under its profile, once per run."""
        run = obj(doc["run"], "run")
        folder = self._dir(str(run["profile"]))
        folder.mkdir(parents=True, exist_ok=True)
        stamp = re.sub(r"[^0-9T]", "", str(run.get("started", "")))[:15]
        path = folder / f"{stamp}_{_safe(str(run['id']))}.json"
        known = path.exists()
        tmp = path.with_name(f".{path.name}.tmp")
        if written is not None:
            shutil.copyfile(written, tmp)
        else:
            tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)
        compact: JsonObject = {
            text(cell["id"], "cell.id"): [
                [t["test_id"], t["status"], _duration(t)] for t in objs(cell["tests"], "tests")
            ]
            for cell in objs(doc.get("cells", []), "cells")
        }
        tmp.write_text(json.dumps({"run_id": run["id"], "cells": compact}), encoding="utf-8")
        os.replace(tmp, path.with_suffix(_OUTCOMES))
        if not known:
            with (folder / "index.jsonl").open("a", encoding="utf-8") as index:
                index.write(json.dumps(trend_point(doc).to_json()) + "\n")
        for old in self._entries(str(run["profile"]))[:-KEEP_RUNS]:
            old.unlink()
            old.with_suffix(_OUTCOMES).unlink(missing_ok=True)
        return path

    def durations(self, profile: str) -> dict[str, float]:
        """Seconds each cell's tests took in the newest kept run of `profile` ({} when none).

        Only an ordering hint for the scheduler: an unreadable entry gives no durations.
        """
        for path in reversed(self._entries(profile)):
            try:
                cells = json.loads(path.with_suffix(_OUTCOMES).read_text(encoding="utf-8"))["cells"]
                return {
                    str(cell): sum(float(t[2] or 0) for t in tests) for cell, tests in cells.items()
                }
            except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
                continue
        return {}

    def previous(
        self, profile: str, run_id: str, count: int
    ) -> list[tuple[str, dict[Key, Outcome]]]:
        """(run id, outcomes) of up to `count` runs before `run_id`, oldest first."""
        paths = [p for p in self._entries(profile) if not p.stem.endswith("_" + _safe(run_id))]
        mine = [p for p in self._entries(profile) if p.stem.endswith("_" + _safe(run_id))]
        if mine:  # re-rendering an old run: only what came before it
            paths = [p for p in paths if p.name < mine[0].name]
        found = []
        for path in paths[-count:]:
            try:
                found.append(_read_outcomes(path))
            except (OSError, ValueError, KeyError, TypeError, IndexError):
                continue  # history informs; a damaged entry must not stop a report
        return found

    def trend(self, profile: str, run_id: str) -> list[TrendPoint]:
        """Summaries of the last runs of `profile` up to `run_id`, oldest first."""
        index = self._dir(profile) / "index.jsonl"
        points: dict[str, TrendPoint] = {}
        if index.is_file():
            for line in index.read_text(encoding="utf-8").splitlines():
                try:
                    data = json.loads(line)
                    points[data["run_id"]] = TrendPoint(**data)
                except (ValueError, TypeError, KeyError):
                    continue
        ordered = sorted(points.values(), key=lambda p: (p.started, p.run_id))
        if run_id in points:
            ordered = ordered[: ordered.index(points[run_id]) + 1]
        return ordered[-TREND_RUNS:]


def history_of(
    history: History | None,
    profile: str,
    run_id: str,
    current: Mapping[Key, Outcome],
    point: TrendPoint,
) -> tuple[Changes | None, tuple[TrendPoint, ...]]:
    """Changes of `current` since the previous run of `profile`, and the trend up to `point`."""
    if history is None:
        return None, ()
    earlier = history.previous(profile, run_id, FLAKY_WINDOW - 1)
    changes = None
    if earlier:
        changes = compare(current, [o for _, o in earlier], earlier[-1][0])
    trend = [p for p in history.trend(profile, run_id) if p.run_id != run_id]
    return changes, (*trend, point)
