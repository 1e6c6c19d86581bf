"""The platform contract: every platform backend passes this suite (the local one now).

A backend registers how to build it and which cells to try: one it can run here (with services,
so that secrets, endpoints, status and stop are exercised for real) and one it cannot (with
words its reason must contain). A new platform (Spark Connect endpoint, Kubernetes) adds an
entry to BACKENDS and must pass unchanged.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from certify.matrix.model import Matrix, load_matrix
from certify.plan import PlannedCell, build_plan
from certify.platforms import get_platform
from certify.platforms.base import Platform, PlatformSession
from certify.platforms.faults import FaultTarget
from tests.integration.cells import GPU, REST_S3, cell_id, write_matrix

PROFILE = "contract"


@dataclass(frozen=True)
class Backend:
    """A platform under contract and the cells it is tried on."""

    name: str
    make: Callable[[], Platform]
    runnable: dict[str, str]  # values of a cell it runs here, one that needs services
    unrunnable: dict[str, str]  # values of a cell it cannot run here
    reason_words: tuple[str, ...]  # what the unrunnable cell's reason names


BACKENDS = [
    Backend("local", lambda: get_platform("local"), REST_S3, GPU, ("gpu",)),
]


@dataclass
class Started:
    """A backend's started session with its cell."""

    backend: Backend
    platform: Platform
    matrix: Matrix
    planned: PlannedCell
    session: PlatformSession
    logs: Path


def _plan(backend: Backend, folder: Path) -> tuple[Matrix, dict[str, PlannedCell]]:
    matrix = load_matrix(write_matrix(folder, {PROFILE: [backend.runnable, backend.unrunnable]}))
    plan = build_plan(matrix, PROFILE)
    return matrix, {p.cell.id: p for p in plan.cells}


def _json(value: object) -> object:
    """A session's options as the JSON its children read."""
    to_json = getattr(value, "to_json", None)
    return to_json() if callable(to_json) else value


def _urls(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _urls(v)
    elif isinstance(value, list):
        for v in value:
            yield from _urls(v)
    elif isinstance(value, str) and re.match(r"^(https?|sc|thrift|grpc)://", value):
        yield value


def _missing(obj: object, protocol: type) -> list[str]:
    """The members `protocol` declares that `obj` lacks (a structural check of the contract)."""
    declared = [n for n in vars(protocol) if not n.startswith("_")]
    declared += list(getattr(protocol, "__annotations__", {}))
    return [n for n in declared if not hasattr(obj, n)]


def _proc_env_has(pid: int, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def _marked(session_id: str) -> list[int]:
    marker = f"CERTIFY_SESSION={session_id}".encode()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and _proc_env_has(int(p), marker)]


@pytest.fixture(scope="module", params=BACKENDS, ids=lambda b: b.name)
def started(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Started]:
    backend: Backend = request.param
    folder = tmp_path_factory.mktemp(f"contract-{backend.name}")
    platform = backend.make()
    matrix, cells = _plan(backend, folder)
    planned = cells[cell_id(backend.runnable)]
    found = platform.assess(matrix, planned, fetch=True)
    assert found.runnable, f"{backend.name} cannot run its runnable cell here: {found.reason}"
    session = platform.start(
        matrix, [planned], folder / "services", "run", {planned.cell.id: found}
    )
    try:
        yield Started(backend, platform, matrix, planned, session, folder / "services")
    finally:
        session.stop()


@pytest.mark.slow
def test_it_says_why_a_cell_cannot_run_here(started: Started, tmp_path: Path) -> None:
    matrix, cells = _plan(started.backend, tmp_path)
    planned = cells[cell_id(started.backend.unrunnable)]
    found = started.platform.assess(matrix, planned)
    assert not found.runnable
    assert found.reason and all(w in found.reason.lower() for w in started.backend.reason_words)
    assert started.platform.unavailable(matrix, planned)


@pytest.mark.slow
def test_a_runnable_cell_gets_a_runtime_with_its_spark_line(started: Started) -> None:
    runtime = started.platform.runtime(started.matrix, started.planned)
    assert runtime.python.exists()
    assert runtime.pyspark is None or runtime.pyspark.startswith(
        started.planned.cell.values["spark"]
    )


@pytest.mark.slow
def test_the_session_is_marked_and_its_services_are_healthy_on_loopback(started: Started) -> None:
    session = started.session
    assert _missing(started.platform, Platform) == []
    assert _missing(session, PlatformSession) == []
    assert session.session_id
    status = session.status()
    assert status and all(row["healthy"] for row in status), status
    for row in status:
        if row.get("pid"):
            assert _proc_env_has(int(row["pid"]), f"CERTIFY_SESSION={session.session_id}".encode())
    options = _json(session.options(started.planned, started.logs.parent / "work"))
    json.dumps(options)  # the children read it as JSON
    urls = list(_urls(options))
    assert urls, options
    for url in urls:
        assert urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1"), url


@pytest.mark.slow
def test_a_cells_names_derive_from_the_run_id_it_is_given(started: Started) -> None:
    """Names a cell makes in shared services are per (run, cell): a resumed run keeps them."""
    session, planned, work = started.session, started.planned, started.logs.parent / "work"
    first = session.options(planned, work, "run-a").database
    assert first == session.options(planned, work, "run-a").database  # --resume: same run id
    assert first != session.options(planned, work, "run-b").database
    unscoped = session.options(planned, work).database  # no run id: the session's own scope
    assert unscoped == session.options(planned, work).database
    assert unscoped not in (first, "")
    for name in (first, unscoped):
        assert name.isidentifier() and name == name.lower() and name[0].isalpha(), name


@pytest.mark.slow
def test_secrets_reach_the_cell_only_through_its_environment(started: Started) -> None:
    session = started.session
    secrets = session.secrets
    assert secrets, "a cell with services that need credentials got none"
    options = json.dumps(_json(session.options(started.planned, started.logs.parent / "work")))
    env = session.env(started.planned)
    assert set(secrets) & set(env.values())
    for secret in secrets:
        assert secret not in options
        for log in started.logs.rglob("*"):
            if log.is_file():
                assert secret.encode() not in log.read_bytes(), f"{secret[:3]}... in {log}"


@pytest.mark.slow
def test_it_offers_a_fault_target_or_says_it_has_none(started: Started) -> None:
    target = started.session.fault_target(started.planned, "contract")
    if target is None:
        return
    assert _missing(target, FaultTarget) == []
    names = {s.name for s in target.services()}
    assert names and all(s.endpoint for s in target.services())
    assert target.restore() == []  # nothing was broken: nothing to restore


@pytest.mark.slow
def test_stop_stops_every_process_and_can_be_called_again(tmp_path: Path) -> None:
    for backend in BACKENDS:
        platform = backend.make()
        matrix, cells = _plan(backend, tmp_path / backend.name)
        planned = cells[cell_id(backend.runnable)]
        found = platform.assess(matrix, planned, fetch=True)
        session = platform.start(matrix, [planned], tmp_path / backend.name / "services", "run",
                                 {planned.cell.id: found})  # fmt: skip
        assert _marked(session.session_id), "the session started no marked process"
        session.stop()
        assert _marked(session.session_id) == []
        session.stop()  # idempotent
        assert session.status() == [] or not any(r["healthy"] for r in session.status())
