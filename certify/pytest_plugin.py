"""certify's pytest plugin: the cell under test, the `requires` marker, and durable records.

certify starts pytest with ``-p certify.pytest_plugin --certify-cell ID ...``. The options are
always added; the recorder is registered only when a cell is given, so a plain pytest run of
the framework's own tests is untouched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from certify.matrix.constraints import glob_matches
from certify.results import Record, RecordStore
from certify.run.provenance import collect, now

NOT_RUN_PREFIX = "not_run: "
_MESSAGE_LIMIT = 4000


@dataclass(frozen=True)
class CellContext:
    """The cell a scenario runs against: id, dimension values, tier and a private work folder."""

    id: str
    values: Mapping[str, str]
    tier: str
    workdir: Path
    options: Mapping[str, Any] = field(default_factory=dict)


cell_key = pytest.StashKey[CellContext]()
_not_run_key = pytest.StashKey[str]()


def not_run(reason: str) -> NoReturn:
    """Stop the current test and record it `not_run` with `reason` (never a silent skip)."""
    pytest.skip(NOT_RUN_PREFIX + reason)


def unmet_requirements(markers: list[pytest.Mark], values: Mapping[str, str]) -> list[str]:
    """Why a cell does not meet a test's `requires(dim=glob, ...)` markers (empty if it does)."""
    reasons = []
    for mark in markers:
        for dim, globs in mark.kwargs.items():
            wanted = [globs] if isinstance(globs, str) else list(globs)
            have = values.get(dim)
            if have is None or not glob_matches(have, wanted):
                reasons.append(f"requires {dim}={'|'.join(wanted)}, cell has {dim}={have}")
    return reasons


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options certify passes to the pytest it starts."""
    group = parser.getgroup("certify", "certify: certification of a matrix cell")
    group.addoption("--certify-cell", help="id of the cell under test")
    group.addoption("--certify-values", help="the cell's dimension values as a JSON object")
    group.addoption("--certify-tier", default="experimental", help="the cell's tier")
    group.addoption("--certify-store", help="path of the run's SQLite record store")
    group.addoption("--certify-run-id", default="adhoc", help="id of the certify run")
    group.addoption("--certify-workdir", help="private work folder of the cell")
    group.addoption("--certify-options", default="{}", help="platform options for fixtures (JSON)")
    group.addoption(
        "--certify-retry",
        help='retry policy of the profile as JSON: {"on": [regex, ...], "times": N}',
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker; register the recorder only when certify gave a cell."""
    config.addinivalue_line(
        "markers", "requires(**dims): the cell must match these globs, else the test is not_run"
    )
    config.addinivalue_line(
        "markers",
        "retry(on=[regex, ...], times=N): retry up to N times when the failure matches a regex; "
        "a pass after a failure is recorded as flaky",
    )
    from certify.pytest_retry import RetryPlugin, parse_option

    config.pluginmanager.register(
        RetryPlugin(parse_option(config.getoption("certify_retry"))), "certify-retry"
    )
    cell_id = config.getoption("certify_cell")
    if not cell_id:
        return
    values = json.loads(config.getoption("certify_values") or "{}")
    if not values:
        from certify.matrix.space import parse_cell_id

        values = parse_cell_id(cell_id)
    workdir = Path(config.getoption("certify_workdir") or Path.cwd() / ".certify" / "adhoc")
    workdir.mkdir(parents=True, exist_ok=True)
    cell = CellContext(
        cell_id,
        values,
        config.getoption("certify_tier"),
        workdir,
        json.loads(config.getoption("certify_options")),
    )
    config.stash[cell_key] = cell
    store_path = config.getoption("certify_store")
    if store_path and not config.pluginmanager.has_plugin("dsession"):
        recorder = Recorder(config, cell, RecordStore(Path(store_path)))
        config.pluginmanager.register(recorder, "certify-recorder")


@pytest.fixture(scope="session")
def cell(request: pytest.FixtureRequest) -> CellContext:
    """The cell under test (fails with a clear message outside `certify run`)."""
    context = request.config.stash.get(cell_key, None)
    if context is None:
        pytest.fail(
            "scenarios need a cell: run them with `certify run`, or pass "
            "`-p certify.pytest_plugin --certify-cell spark=3.5,catalog=hive,...`",
            pytrace=False,
        )
    return context


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Turn unmet `requires` markers into a recorded not_run before any fixture starts."""
    context = item.config.stash.get(cell_key, None)
    if context is None:
        return
    reasons = unmet_requirements(list(item.iter_markers("requires")), context.values)
    if reasons:
        not_run("; ".join(reasons))


class Recorder:
    """Writes one Record per test (and per collection error) the moment its outcome is known."""

    def __init__(self, config: pytest.Config, cell: CellContext, store: RecordStore) -> None:
        self.cell = cell
        self.store = store
        self.run_id: str = config.getoption("certify_run_id")
        self.root = Path(str(config.rootpath))
        self.provenance = {**collect(self.root), "cell": cell.id}
        self.phases: dict[str, list[pytest.TestReport]] = {}
        self.started: dict[str, str] = {}

    def _suite(self, path: Path) -> str:
        try:
            parts = path.resolve().relative_to(self.root.resolve() / "scenarios").parts
        except ValueError:
            return path.parent.name
        return parts[0] if len(parts) > 1 else "scenarios"

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A scenario module that cannot even be collected is an error, never a silent gap."""
        if report.failed:
            path = self.root / report.nodeid.split("::")[0]
            self._write(
                report.nodeid, self._suite(path), "error", 0.0, _text(report.longreprtext), now()
            )

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Declare every collected test, so a run that stops early is seen as incomplete."""
        tests = [(self._suite(item.path), item.nodeid) for item in session.items]
        self.store.expect(self.run_id, self.cell.id, tests)

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        """Remember when the test started."""
        self.started[nodeid] = now()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect the phases of a test; write its record after teardown."""
        self.phases.setdefault(report.nodeid, []).append(report)
        if report.when == "teardown":
            phases = self.phases.pop(report.nodeid)
            status, message = _outcome(phases)
            attempts: list[dict[str, Any]] = getattr(report, "certify_attempts", None) or []
            if attempts:
                self.store.add_attempts(self.run_id, self.cell.id, report.nodeid, attempts)
                if status == "passed" and len(attempts) > 1:
                    status = "flaky"
                    message = f"passed on attempt {len(attempts)} after: " + _first_failure(
                        attempts
                    )
            duration = sum(p.duration for p in phases)
            suite = self._suite(self.root / report.fspath)
            self._write(
                report.nodeid,
                suite,
                status,
                duration,
                message,
                self.started.pop(report.nodeid, now()),
                max(len(attempts), 1),
            )

    def _write(
        self,
        test_id: str,
        suite: str,
        status: str,
        duration: float,
        message: str,
        started: str,
        attempts: int = 1,
    ) -> None:
        self.store.add(
            Record(
                run_id=self.run_id,
                cell_id=self.cell.id,
                suite=suite,
                test_id=test_id,
                status=status,
                attempts=attempts,
                duration_s=round(duration, 6),
                message=message,
                started=started,
                finished=now(),
                provenance=self.provenance,
            )
        )


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


def _outcome(phases: list[pytest.TestReport]) -> tuple[str, str]:
    """Status and message of a test from its setup/call/teardown reports."""
    by_phase = {p.when: p for p in phases}
    setup, call, teardown = by_phase.get("setup"), by_phase.get("call"), by_phase.get("teardown")
    if setup is not None and setup.failed:
        return "error", _text(setup.longreprtext)
    if setup is not None and setup.skipped:
        reason = _skip_reason(setup)
        if reason.startswith(NOT_RUN_PREFIX):
            return "not_run", reason.removeprefix(NOT_RUN_PREFIX)
        return "skipped", reason
    if call is not None and call.failed:
        return "failed", _text(call.longreprtext)
    if call is not None and call.skipped:
        reason = _skip_reason(call)
        if hasattr(call, "wasxfail"):
            return "skipped", f"xfail: {call.wasxfail or reason}"
        if reason.startswith(NOT_RUN_PREFIX):
            return "not_run", reason.removeprefix(NOT_RUN_PREFIX)
        return "skipped", reason
    if teardown is not None and teardown.failed:
        return "error", _text(teardown.longreprtext)
    if call is None:
        return "error", "the test produced no call phase"
    return "passed", ""
