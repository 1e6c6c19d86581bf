"""certify's pytest plugin: the cells under test, the `requires` marker, and durable records.

certify starts pytest with ``-p certify.pytest.plugin`` and either one cell
(``--certify-cell ID ...``) or a manifest of several (``--certify-cells FILE``, for
``certify run -n N``). With several, every test runs once per cell: the cell is a session-scoped
parameter, so each cell's fixtures (its Spark session) are set up once and reused by all its
tests, and an ``xdist_group`` per cell keeps a cell's tests on one pytest-xdist worker. The
options are always added; the recorder is registered only when cells are given, so a plain
pytest run of the framework's own tests is untouched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

import pytest

from certify.cell.context import CellContext
from certify.cell.options import PlatformOptions
from certify.config.selector import unmet
from certify.pytest.items import CELL_PARAM, item_cell, tag
from certify.pytest.recorder import NOT_APPLICABLE_PREFIX, NOT_RUN_PREFIX, Recorder
from certify.results import RecordStore

__all__ = ["item_cell", "not_applicable", "not_run", "unmet_requirements"]

cells_key = pytest.StashKey[list[CellContext]]()


def not_run(reason: str) -> NoReturn:
    """Stop the current test and record it `not_run` with `reason` (never a silent skip).

    The test applies to the cell but is not exercised here (the platform cannot serve it): its
    suite is `not_run`, so a blocking cell fails closed, however many other tests passed.
    """
    pytest.skip(NOT_RUN_PREFIX + reason)


def not_applicable(reason: str) -> NoReturn:
    """Stop the current test: it does not apply to this cell (recorded not_run, left out of the
    cell's verdict, like an unmet `requires`). For platform gaps use `not_run`, which fails
    closed."""
    pytest.skip(NOT_APPLICABLE_PREFIX + reason)


def unmet_requirements(markers: list[pytest.Mark], values: Mapping[str, str]) -> list[str]:
    """Why a cell does not meet a test's `requires(dim=glob, ...)` markers (empty if it does)."""
    reasons = []
    for mark in markers:
        for dim, wanted, have in unmet(mark.kwargs, values):
            reasons.append(f"requires {dim}={'|'.join(wanted)}, cell has {dim}={have}")
    return reasons


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options certify passes to the pytest it starts."""
    group = parser.getgroup("certify", "certify: certification of a matrix cell")
    group.addoption("--certify-cell", help="id of the cell under test")
    group.addoption("--certify-cells", help="JSON manifest of several cells (certify run -n N)")
    group.addoption(
        "--certify-claims",
        help="folder where processes sharing a manifest claim its cells (each runs once)",
    )
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


def _single_cell(config: pytest.Config, cell_id: str) -> CellContext:
    values = json.loads(config.getoption("certify_values") or "{}")
    if not values:
        from certify.matrix.space import parse_cell_id

        values = parse_cell_id(cell_id)
    workdir = Path(config.getoption("certify_workdir") or Path.cwd() / ".certify" / "adhoc")
    options = PlatformOptions.from_json(json.loads(config.getoption("certify_options")))
    return CellContext(cell_id, values, config.getoption("certify_tier"), workdir, options)


def _configured_cells(config: pytest.Config) -> list[CellContext]:
    manifest = config.getoption("certify_cells")
    if manifest:
        return [CellContext.from_json(c) for c in json.loads(Path(manifest).read_text())]
    cell_id = config.getoption("certify_cell")
    return [_single_cell(config, cell_id)] if cell_id else []


def pytest_configure(config: pytest.Config) -> None:
    """Declare the markers; register the retry plugin, and the recorder when cells are given."""
    config.addinivalue_line(
        "markers",
        "requires(**dims): the cell must match these globs, else the test is not applicable to it "
        "(recorded not_run with applicable=false, left out of the cell's verdict)",
    )
    # the plugin groups a manifest's tests by cell (one xdist worker per cell under plain
    # pytest-xdist); declared here too, so a manifest runs where pytest-xdist is not installed
    config.addinivalue_line("markers", "xdist_group(name): the tests of one cell, kept together")
    config.addinivalue_line(
        "markers",
        "retry(on=[regex, ...], times=N): retry up to N times when the failure matches a regex; "
        "a pass after a failure is recorded as flaky",
    )
    from certify.pytest.retry import RetryPlugin, parse_option

    config.pluginmanager.register(
        RetryPlugin(parse_option(config.getoption("certify_retry"))), "certify-retry"
    )
    cells = _configured_cells(config)
    if not cells:
        return
    for cell in cells:
        cell.workdir.mkdir(parents=True, exist_ok=True)
    config.stash[cells_key] = cells
    claims = config.getoption("certify_claims")
    if claims and config.getoption("certify_cells"):
        from certify.cell.options import BATCH_VAR
        from certify.pytest.claims import Claims

        owner = os.environ.get(BATCH_VAR) or f"pid-{os.getpid()}"
        config.pluginmanager.register(Claims(Path(claims), owner), "certify-claims")
    store_path = config.getoption("certify_store")
    # under xdist the controller only relays reports: the workers write the records
    if store_path and not config.pluginmanager.has_plugin("dsession"):
        store = RecordStore(Path(store_path))
        jars = {c.id: [dict(j) for j in c.options.jars] for c in cells}
        emulated = {c.id: list(c.options.emulated) for c in cells if c.options.emulated}
        recorder = Recorder(config, [c.id for c in cells], store, jars, emulated)
        config.pluginmanager.register(recorder, "certify-recorder")


def _multi(config: pytest.Config) -> list[CellContext]:
    cells = config.stash.get(cells_key, [])
    return cells if config.getoption("certify_cells") else []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With several cells, run every test once per cell (a session-scoped parameter)."""
    cells = _multi(metafunc.config)
    if cells and CELL_PARAM in metafunc.fixturenames:
        metafunc.parametrize(
            CELL_PARAM, cells, ids=[c.id for c in cells], indirect=True, scope="session"
        )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tag each test with its cell; several cells run in manifest order, one xdist worker each.

    First, so that the record ids are taken before pytest-xdist appends its group to node ids.
    """
    configured: list[CellContext] = config.stash.get(cells_key, [])
    tag(items, configured)
    cells = _multi(config)
    if not cells:
        return
    order = {c.id: i for i, c in enumerate(cells)}
    for item in items:
        cell = item_cell(item)
        if cell is not None:
            item.add_marker(pytest.mark.xdist_group(cell.id))
    items.sort(key=lambda item: order.get(_cell_id(item), len(order)))


def _cell_id(item: pytest.Item) -> str:
    cell = item_cell(item)
    return cell.id if cell is not None else ""


@pytest.fixture(scope="session", autouse=True)
def certify_cell(request: pytest.FixtureRequest) -> CellContext | None:
    """The cell of the current test (a parameter with several cells, else the only one)."""
    param: CellContext | None = getattr(request, "param", None)
    if param is not None:
        return param
    cells = request.config.stash.get(cells_key, [])
    return cells[0] if cells else None


@pytest.fixture(scope="session")
def cell(certify_cell: CellContext | None) -> CellContext:
    """The cell under test (fails with a clear message outside `certify run`)."""
    if certify_cell is None:
        pytest.fail(
            "scenarios need a cell: run them with `certify run`, or pass "
            "`-p certify.pytest.plugin --certify-cell spark=3.5,catalog=hive,...`",
            pytrace=False,
        )
    return certify_cell


@pytest.hookimpl(tryfirst=True)
def _secrets() -> list[str]:
    """The credentials the platform gave this pytest process (never to be reported)."""
    from certify.platforms.local.session import (
        S3_KEY_VAR,
        S3_READONLY_KEY_VAR,
        S3_READONLY_SECRET_VAR,
        S3_SECRET_VAR,
    )

    names = (S3_KEY_VAR, S3_SECRET_VAR, S3_READONLY_KEY_VAR, S3_READONLY_SECRET_VAR)
    return [v for v in (os.environ.get(n, "") for n in names) if len(v) >= 8]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Redact the cell's credentials from a report before any reporter reads it.

    A failing fixture's long traceback prints its frames' arguments, and an S3 client's are
    the keys: without this they reached the JUnit XML and the records (the security suite
    found them there).
    """
    from certify.platforms.local.services.supervisor import redact

    secrets = _secrets()
    if not secrets:
        return
    text = str(report.longrepr) if report.longrepr is not None else ""
    if any(s in text for s in secrets):
        report.longrepr = redact(text, secrets)
    report.sections = [(key, redact(value, secrets)) for key, value in report.sections]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Turn unmet `requires` markers into a recorded not_run before any fixture starts."""
    context = item_cell(item)
    if context is None:
        return
    reasons = unmet_requirements(list(item.iter_markers("requires")), context.values)
    if reasons:
        pytest.skip(NOT_APPLICABLE_PREFIX + "; ".join(reasons))
