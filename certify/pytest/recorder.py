"""The recorder: one durable Record per test (and per collection error) of every cell."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from certify.cell.options import BATCH_VAR
from certify.host.procs import tree_cpu_s
from certify.host.provenance import collect, now
from certify.pytest.items import item_cell, item_record_id
from certify.pytest.retry import ATTEMPTS_ATTR
from certify.results import Outcome, RecordStore
from certify.results.findings import JsonObject

# a scenario that applies to the cell but was not exercised: not_run, which keeps its suite
# from certifying
NOT_RUN_PREFIX = "not_run: "
# a scenario whose `requires` the cell does not meet: not_run, and not applicable to the cell
# (out of scope: left out of the verdict)
NOT_APPLICABLE_PREFIX = "not_applicable: "
_MESSAGE_LIMIT = 4000


@dataclass(frozen=True)
class _Test:
    """Where a test's records go: its cell, its id in records and its suite."""

    cell_id: str
    test_id: str
    suite: str


class Recorder:
    """Writes each outcome the moment it is known, under the cell the test ran for."""

    def __init__(
        self,
        config: pytest.Config,
        cells: Sequence[str],
        store: RecordStore,
        jars: Mapping[str, Sequence[Mapping[str, str | None]]] | None = None,
        emulated: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.cells = list(cells)
        self.emulated = {cell: list(found) for cell, found in (emulated or {}).items()}
        # each cell's own jars (with checksums): a lane's cells share one process, not its jars
        self.jars = {cell: [dict(j) for j in found] for cell, found in (jars or {}).items()}
        self.store = store
        self.run_id: str = config.getoption("certify_run_id")
        self.root = Path(str(config.rootpath))
        # the process is evidence too: a cell's tests must share one process and session
        # (the scheduler's batch under `certify run`, the worker under plain pytest-xdist)
        worker = os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get(BATCH_VAR) or "main"
        self.provenance = {**collect(self.root), "worker": worker}
        self.tests: dict[str, _Test] = {}  # by node id, as the reports name them
        self.phases: dict[str, list[pytest.TestReport]] = {}
        self.started: dict[str, str] = {}
        self.cpu: dict[str, float] = {}  # CPU seconds of this process and its JVM at test start

    def _suite(self, path: Path) -> str:
        try:
            parts = path.resolve().relative_to(self.root.resolve() / "scenarios").parts
        except ValueError:
            return path.parent.name
        return parts[0] if len(parts) > 1 else "scenarios"

    def _record(self, test: _Test, started: str, status: str, message: str, **fields: Any) -> None:
        """Store one record of `test` (`fields`: more Record fields, e.g. duration_s)."""
        outcome = Outcome(self.run_id, test.cell_id, "scenario", test.suite, started)
        provenance = {**self.provenance, "cell": test.cell_id}
        provenance["jars"] = self.jars.get(test.cell_id, [])
        if test.cell_id in self.emulated:
            provenance["emulated"] = self.emulated[test.cell_id]
        self.store.add(
            outcome.record(status, message, test_id=test.test_id, provenance=provenance, **fields)
        )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A scenario module that cannot even be collected is an error of every cell."""
        if report.failed:
            suite = self._suite(self.root / report.nodeid.split("::")[0])
            for cell_id in self.cells:
                test = _Test(cell_id, report.nodeid, suite)
                self._record(test, now(), "error", _text(report.longreprtext))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Declare every collected test per cell, so a run that stops early is incomplete."""
        expected: dict[str, list[tuple[str, str]]] = {c: [] for c in self.cells}
        for item in session.items:
            cell, test_id = item_cell(item), item_record_id(item)
            if cell is None or test_id is None:
                continue  # not a test of a certified cell
            test = _Test(cell.id, test_id, self._suite(item.path))
            self.tests[item.nodeid] = test
            expected.setdefault(test.cell_id, []).append((test.suite, test.test_id))
        for cell_id, tests in expected.items():
            self.store.expect(self.run_id, cell_id, tests)

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        """Remember when the test started, and the CPU this process tree had used by then."""
        self.started[nodeid] = now()
        self.cpu[nodeid] = tree_cpu_s(os.getpid())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect the phases of a test; write its record after teardown."""
        self.phases.setdefault(report.nodeid, []).append(report)
        if report.when != "teardown":
            return
        phases = self.phases.pop(report.nodeid)
        test = self.tests.get(report.nodeid)
        if test is None:
            return  # not a test of a certified cell
        status, message = _outcome(phases)
        applicable = not message.startswith(NOT_APPLICABLE_PREFIX)
        message = message.removeprefix(NOT_APPLICABLE_PREFIX)
        attempts: list[JsonObject] = getattr(report, ATTEMPTS_ATTR, None) or []
        if attempts:
            self.store.add_attempts(self.run_id, test.cell_id, test.test_id, attempts)
            if status == "passed" and len(attempts) > 1:
                status = "flaky"
                message = f"passed on attempt {len(attempts)} after: " + _first_failure(attempts)
        before = self.cpu.pop(report.nodeid, None)
        # CPU of the test in this process and its driver JVM (executors and servers not included)
        cpu = {"cpu_s": round(tree_cpu_s(os.getpid()) - before, 3)} if before is not None else {}
        self._record(
            test,
            self.started.pop(report.nodeid, now()),
            status,
            message,
            metrics=cpu or None,
            attempts=max(len(attempts), 1),
            duration_s=round(sum(p.duration for p in phases), 6),
            applicable=applicable,
        )


def _first_failure(attempts: Sequence[JsonObject]) -> str:
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
    """A skip certify asked for is `not_run` (keeping the not-applicable prefix for the caller).

    Any other skip (a plain `pytest.skip`, a skip marker, an xfail) is `skipped`: the test is in
    scope but was not exercised and did not say why it does not apply, so its suite is
    `incomplete`.
    """
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
