"""The recorder: one durable Record per test (and per collection error) of every cell."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from certify.host.provenance import collect, now
from certify.results import Record, RecordStore

NOT_RUN_PREFIX = "not_run: "
# a scenario whose `requires` the cell does not meet: not_run, and not applicable to the cell
NOT_APPLICABLE_PREFIX = "not_applicable: "
_MESSAGE_LIMIT = 4000


def record_test_id(nodeid: str, cell_id: str) -> str:
    """The test id without the cell's parametrisation or xdist group (the same in every mode)."""
    text = nodeid.replace(f"@{cell_id}", "")
    for pattern in (f"[{cell_id}]", f"{cell_id}-", f"-{cell_id}"):
        if pattern in text:
            return text.replace(pattern, "", 1)
    return text


class Recorder:
    """Writes each outcome the moment it is known, under the cell the test ran for."""

    def __init__(self, config: pytest.Config, cells: Mapping[str, Any], store: RecordStore) -> None:
        self.cells = dict(cells)
        self.store = store
        self.run_id: str = config.getoption("certify_run_id")
        self.root = Path(str(config.rootpath))
        # the xdist worker is evidence too: a cell's tests must share one worker and session
        self.provenance = {
            **collect(self.root),
            "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        }
        self.item_cell: dict[str, str] = {}
        self.phases: dict[str, list[pytest.TestReport]] = {}
        self.started: dict[str, str] = {}

    def _suite(self, path: Path) -> str:
        try:
            parts = path.resolve().relative_to(self.root.resolve() / "scenarios").parts
        except ValueError:
            return path.parent.name
        return parts[0] if len(parts) > 1 else "scenarios"

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A scenario module that cannot even be collected is an error of every cell."""
        if report.failed:
            suite = self._suite(self.root / report.nodeid.split("::")[0])
            for cell_id in self.cells:
                self._write(
                    cell_id, report.nodeid, suite, "error", 0.0, _text(report.longreprtext), now()
                )

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Declare every collected test per cell, so a run that stops early is incomplete."""
        expected: dict[str, list[tuple[str, str]]] = {c: [] for c in self.cells}
        only = next(iter(self.cells)) if len(self.cells) == 1 else None
        for item in session.items:
            cell_id = only or _item_cell(item)
            if cell_id is None:
                continue
            self.item_cell[item.nodeid] = cell_id
            test_id = record_test_id(item.nodeid, cell_id)
            expected.setdefault(cell_id, []).append((self._suite(item.path), test_id))
        for cell_id, tests in expected.items():
            self.store.expect(self.run_id, cell_id, tests)

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        """Remember when the test started."""
        self.started[nodeid] = now()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect the phases of a test; write its record after teardown."""
        self.phases.setdefault(report.nodeid, []).append(report)
        if report.when != "teardown":
            return
        phases = self.phases.pop(report.nodeid)
        cell_id = self.item_cell.get(report.nodeid)
        if cell_id is None:
            return  # not a test of a certified cell
        test_id = record_test_id(report.nodeid, cell_id)
        status, message = _outcome(phases)
        applicable = not message.startswith(NOT_APPLICABLE_PREFIX)
        message = message.removeprefix(NOT_APPLICABLE_PREFIX)
        attempts: list[dict[str, Any]] = getattr(report, "certify_attempts", None) or []
        if attempts:
            self.store.add_attempts(self.run_id, cell_id, test_id, attempts)
            if status == "passed" and len(attempts) > 1:
                status = "flaky"
                message = f"passed on attempt {len(attempts)} after: " + _first_failure(attempts)
        self._write(
            cell_id,
            test_id,
            self._suite(self.root / report.fspath),
            status,
            sum(p.duration for p in phases),
            message,
            self.started.pop(report.nodeid, now()),
            max(len(attempts), 1),
            applicable,
        )

    def _write(
        self,
        cell_id: str,
        test_id: str,
        suite: str,
        status: str,
        duration: float,
        message: str,
        started: str,
        attempts: int = 1,
        applicable: bool = True,
    ) -> None:
        self.store.add(
            Record(
                run_id=self.run_id,
                cell_id=cell_id,
                suite=suite,
                test_id=test_id,
                status=status,
                attempts=attempts,
                duration_s=round(duration, 6),
                message=message,
                started=started,
                finished=now(),
                provenance={**self.provenance, "cell": cell_id},
                applicable=applicable,
            )
        )


def _item_cell(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    cell = callspec.params.get("certify_cell") if callspec is not None else None
    return str(cell.id) if cell is not None else None


def _first_failure(attempts: list[dict[str, Any]]) -> str:
    for attempt in attempts:
        if attempt["status"] == "failed":
            lines = [ln for ln in str(attempt["message"]).splitlines() if ln.startswith("E ")]
            return lines[0] if lines else str(attempt["message"])[:200]
    return ""


def _text(value: str) -> str:
    return (
        value if len(value) <= _MESSAGE_LIMIT else value[: _MESSAGE_LIMIT - 20] + "\n...[truncated]"
    )


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return _text(report.longreprtext)


def _skipped(reason: str) -> tuple[str, str]:
    """A skip certify asked for is `not_run` (keeping the not-applicable prefix); others skipped."""
    if reason.startswith(NOT_RUN_PREFIX):
        return "not_run", reason.removeprefix(NOT_RUN_PREFIX)
    if reason.startswith(NOT_APPLICABLE_PREFIX):
        return "not_run", reason  # the caller reads the prefix as "not applicable"
    return "skipped", reason


def _outcome(phases: list[pytest.TestReport]) -> tuple[str, str]:
    """Status and message of a test from its setup/call/teardown reports."""
    by_phase = {p.when: p for p in phases}
    setup, call, teardown = by_phase.get("setup"), by_phase.get("call"), by_phase.get("teardown")
    if setup is not None and setup.failed:
        return "error", _text(setup.longreprtext)
    if setup is not None and setup.skipped:
        return _skipped(_skip_reason(setup))
    if call is not None and call.failed:
        return "failed", _text(call.longreprtext)
    if call is not None and call.skipped:
        reason = _skip_reason(call)
        if hasattr(call, "wasxfail"):
            return "skipped", f"xfail: {call.wasxfail or reason}"
        return _skipped(reason)
    if teardown is not None and teardown.failed:
        return "error", _text(teardown.longreprtext)
    if call is None:
        return "error", "the test produced no call phase"
    return "passed", ""
