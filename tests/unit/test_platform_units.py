"""The local platform's logic without a JVM: jars, runtime keys, state sweeping, assessments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from certify.host import procs
from certify.matrix.model import load_matrix
from certify.plan import build_plan
from certify.platforms.jars import Jar, JarProvider, Missing, set_key, sha256
from certify.platforms.local.platform import LocalPlatform
from certify.platforms.local.state import SessionState, sweep_stale
from certify.runtimes.envs import MARKER, EnvCache
from certify.runtimes.spec import RuntimeSpec
from tests.integration.cells import PROFILES, cell_id, write_matrix

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def acceptance(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = write_matrix(tmp_path_factory.mktemp("matrix"))
    return load_matrix(path)


@pytest.fixture(autouse=True)
def _no_maven(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests never download: jars come from a cache a test fills, else they are missing."""
    monkeypatch.setenv("CERTIFY_MAVEN", "off")
    monkeypatch.delenv("CERTIFY_JARS_DIR", raising=False)


def _cached(cache: Path, names: tuple[str, ...], line: str = "3.5", scala: str = "2.12") -> None:
    """Record a resolved jar set in `cache`, as a real resolution would have left it."""
    provider = JarProvider(cache=cache)
    deps = provider.deps(names, line, scala)
    assert not isinstance(deps, Missing)
    found = []
    for dep in deps:
        group, artifact, version = dep.coordinate.split(":")
        path = provider.repository / group.replace(".", "/") / artifact / version
        path.mkdir(parents=True, exist_ok=True)
        jar = path / f"{artifact}-{version}.jar"
        with zipfile.ZipFile(jar, "w") as archive:
            archive.writestr("x", dep.coordinate)
        found.append(Jar("+".join(names), "maven", jar, dep.coordinate, sha256(jar), "central"))
    provider._write_record(set_key(deps), deps, found)


def test_runtime_keys_change_with_any_pin() -> None:
    spec = RuntimeSpec("3.5", "3.5.7", (), ("boto3>=1.34",), "3.11")
    assert spec.folder.startswith("spark-3.5-") and len(spec.key) == 12
    assert RuntimeSpec("3.5", "3.5.6", (), ("boto3>=1.34",), "3.11").key != spec.key
    assert RuntimeSpec("3.5", "3.5.7", ("connect",), ("boto3>=1.34",), "3.11").key != spec.key
    assert RuntimeSpec("3.5", "3.5.7", (), ("boto3>=1.35",), "3.11").key != spec.key
    assert RuntimeSpec("3.5", "3.5.7", (), ("boto3>=1.34",), "3.12").key != spec.key
    assert RuntimeSpec("3.5", "3.5.7", (), ("boto3>=1.34",), "3.11").key == spec.key


def test_an_env_is_ready_only_with_its_marker_and_old_pins_are_stale(tmp_path: Path) -> None:
    cache = EnvCache(tmp_path)
    old = RuntimeSpec("3.5", "3.5.6", (), (), "3.11")
    new = RuntimeSpec("3.5", "3.5.7", (), (), "3.11")
    for spec in (old, new):
        (cache.path(spec) / "bin").mkdir(parents=True)
        (cache.path(spec) / "bin" / "python").touch()
    assert not cache.ready(new)  # interrupted build: no marker
    (cache.path(new) / MARKER).write_text(json.dumps({"key": new.key, "built": "now"}))
    status = cache.status(new)
    assert status.state == "ready" and status.stale == (cache.path(old),)
    assert cache.status(old).state == "missing"


def _marked_sleeper(session: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, procs.SESSION_VAR: session}
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], env=env, start_new_session=True
    )


def test_the_next_command_sweeps_a_session_whose_owner_died(tmp_path: Path) -> None:
    session = SessionState.create("run", tmp_path)
    owner = subprocess.Popen([sys.executable, "-c", "pass"])
    owner.wait()
    meta = {**session.meta, "owner": owner.pid, "owner_started": 1}
    (session.path / "session.json").write_text(json.dumps(meta))
    sleeper = _marked_sleeper(session.id)
    time.sleep(0.3)
    assert procs.marked(session.id) == [sleeper.pid]
    assert sweep_stale(tmp_path) == [session.id]
    assert sleeper.wait(timeout=15) != 0
    assert not session.path.exists()


def test_a_live_session_and_a_finished_platform_up_are_not_swept(tmp_path: Path) -> None:
    live = SessionState.create("run", tmp_path)
    up = SessionState.create("up", tmp_path)
    meta = {**up.meta, "owner": 999_999_999, "complete": True}
    (up.path / "session.json").write_text(json.dumps(meta))
    sleeper = _marked_sleeper(up.id)
    try:
        assert sweep_stale(tmp_path) == []
        assert live.path.exists() and up.path.exists()
        assert sleeper.poll() is None
    finally:
        up.stop(grace_s=2)
        live.stop(grace_s=2)
    assert sleeper.wait(timeout=15) != 0


def test_a_reused_pid_is_not_taken_for_the_recorded_process() -> None:
    me = os.getpid()
    started = procs.start_time(me)
    assert procs.is_same(me, started, "python")
    assert not procs.is_same(me, (started or 0) + 1)
    assert not procs.is_same(me, started, "no-such-command-line")


def _planned(matrix, values):  # type: ignore[no-untyped-def]
    plan = build_plan(matrix, "platform-unrunnable")
    wanted = cell_id(values)
    from certify.cell import Cell
    from certify.plan import PlannedCell

    for planned in plan.cells:
        if planned.cell.id == wanted:
            return planned
    pairs = tuple(kv.split("=") for kv in wanted.split(","))
    return PlannedCell(
        Cell(tuple((k, v) for k, v in pairs), "certified"), "spark-3.5", ("smoke",), (), ()
    )


def test_cells_this_machine_cannot_run_say_why(acceptance, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform = LocalPlatform(JarProvider(cache=tmp_path))
    hive_s3, gpu = PROFILES["platform-unrunnable"]
    found = platform.assess(acceptance, _planned(acceptance, hive_s3))
    assert not found.runnable
    assert found.reason is not None and "jar hadoop-aws+aws-sdk for Spark 3.5" in found.reason
    assert "Maven is switched off" in found.reason
    found = platform.assess(acceptance, _planned(acceptance, gpu))
    if found.runnable:
        pytest.skip("this machine has an NVIDIA GPU")
    assert found.reason is not None and found.reason.startswith("gpu=nvidia needs an NVIDIA GPU")
    k8s = {"spark": "3.5", "catalog": "hive", "storage": "s3", "deploy": "kubernetes"}
    found = platform.assess(acceptance, _planned(acceptance, k8s))
    assert found.reason == (
        "deploy=kubernetes needs a Kubernetes cluster (the kubernetes platform), not this machine"
    )


def test_pyiceberg_cells_stay_runnable_without_sparks_jars(acceptance, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform = LocalPlatform(JarProvider(cache=tmp_path))
    rest, sql = PROFILES["platform-pyiceberg"]
    found = platform.assess(acceptance, _planned(acceptance, rest))
    assert found.runnable and found.spark is not None and "iceberg-aws-bundle" in found.spark
    assert {n.kind for n in found.needs} == {"seaweedfs"}
    found = platform.assess(acceptance, _planned(acceptance, sql))
    assert found.runnable and found.spark is not None and "sqlite-jdbc" in found.spark
    assert {n.kind for n in found.needs} == {"sql-catalog"}


def test_services_follow_deploy_and_catalog(acceptance, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _cached(tmp_path, ("iceberg-spark-runtime",))
    platform = LocalPlatform(JarProvider(cache=tmp_path))
    expected = {
        "hive": {("hive-metastore", ""), ("spark-standalone", "3.5")},
        "iceberg-hadoop": {("spark-standalone", "3.5")},
        "iceberg-hive": {("hive-metastore", ""), ("spark-standalone", "3.5")},
    }
    for values in PROFILES["platform-standalone"]:
        found = platform.assess(acceptance, _planned(acceptance, values))
        assert found.runnable and found.spark is None
        assert {(n.kind, n.line) for n in found.needs} == expected[values["catalog"]]
    local_hive = {"spark": "3.5", "catalog": "hive", "storage": "local", "deploy": "local"}
    assert platform.assess(acceptance, _planned(acceptance, local_hive)).needs == ()


# the options JSON of a real run's iceberg-rest cell (cell.json of its load profile), trimmed
_REAL_OPTIONS = {
    "platform": "local",
    "database": "certify_8df8785e18",
    "spark": {
        "unavailable": None,
        "conf": {
            "spark.master": "local[2]",
            "spark.sql.catalog.ice.type": "rest",
            "spark.sql.catalog.ice.uri": "http://127.0.0.1:59465",
            "spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:40215",
        },
    },
    "jars": [
        {
            "name": "iceberg-spark-runtime",
            "route": "pypi:snowpark-connect-deps-iceberg==1.0.1",
            "path": "/work/main/.certify/jars/iceberg-spark-runtime-3.5_2.12-1.9.2.jar",
            "coordinate": None,
            "sha256": "c40ae0a8e2673bb5c01951b7d15aae2224a534f8331f4274ce2082776116a044",
        },
        {
            "name": "hadoop-aws",
            "route": "maven",
            "path": None,
            "coordinate": "org.apache.hadoop:hadoop-aws:3.3.4",
            "sha256": None,
        },
    ],
    "services": {"seaweedfs": "http://127.0.0.1:40215"},
    "s3": {
        "s3": "http://127.0.0.1:40215",
        "iceberg_rest": "http://127.0.0.1:59465",
        "bucket": "warehouse",
        "table_bucket": "lake",
        "region": "us-east-1",
    },
}


@pytest.mark.parametrize(
    "options",
    [
        _REAL_OPTIONS,
        {**_REAL_OPTIONS, "spark": {"unavailable": "needs jar sqlite-jdbc"}},
        {**_REAL_OPTIONS, "spark": {"unavailable": None, "remote": "sc://127.0.0.1:15002"}},
        {**_REAL_OPTIONS, "spark": {"unavailable": None, "remote": None}},
        {
            **_REAL_OPTIONS,
            "sql_catalog": {"uri": "sqlite:////tmp/c.db", "warehouse": "file:///tmp/w"},
        },
    ],
    ids=["driver-conf", "unavailable", "connect", "connect-without-server", "sql-catalog"],
)
def test_platform_options_give_back_the_json_children_read(options: dict[str, object]) -> None:
    from certify.cell import CellContext, PlatformOptions

    typed = PlatformOptions.from_json(options)
    assert json.dumps(typed.to_json()) == json.dumps(options)  # same keys, order and values
    context = CellContext("spark=3.5", {"spark": "3.5"}, "certified", Path("/w"), typed)
    again = CellContext.from_json(json.loads(json.dumps(context.to_json())))
    assert again == context and list(context.to_json()) == [
        "id", "values", "tier", "workdir", "options"
    ]  # fmt: skip


def test_a_hand_written_partial_option_set_reads_as_absent_settings() -> None:
    from certify.cell import CellContext, PlatformOptions

    typed = PlatformOptions.from_json({"spark": {"conf": {"spark.master": "local[1]"}}})
    assert typed.spark.conf == {"spark.master": "local[1]"} and typed.spark.remote is None
    assert typed.s3 is None and typed.sql_catalog is None and typed.database == ""
    cell = CellContext("spark=3.5,catalog=hive", {}, "adhoc", Path("/w"), typed)
    assert cell.database.startswith("certify_")  # a private database even without a platform


def _running(name: str, endpoint: str, details: dict[str, str]):  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from certify.platforms.local.services.base import Launch
    from certify.platforms.local.services.supervisor import Running

    service = SimpleNamespace(name=name)
    return Running(service, Launch((), endpoint, details=details), None, Path("/dev/null"))  # type: ignore[arg-type]


def test_the_local_sessions_options_are_the_dict_cells_have_always_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from certify.cell import Cell, database_name
    from certify.plan import PlannedCell
    from certify.platforms.base import Assessment, Need
    from certify.platforms.local.session import LocalSession
    from certify.platforms.sparkconf import (
        CellSpark,
        Endpoints,
        connect_session_conf,
        driver_conf,
    )

    monkeypatch.setenv("CERTIFY_STATE_DIR", str(tmp_path / "state"))
    values = {"spark": "3.5", "catalog": "iceberg-sql", "storage": "s3", "deploy": "local"}
    planned = PlannedCell(Cell(tuple(values.items()), "certified"), "spark-3.5", (), (), ())
    jar = Jar(
        "sqlite-jdbc",
        "maven",
        Path("/j/sqlite-jdbc-3.50.3.0.jar"),
        "org.xerial:sqlite-jdbc:3.50.3.0",
        "ab" * 32,
        "central",
    )
    needs = (Need("seaweedfs"), Need("sql-catalog"))
    found = Assessment(True, needs=needs, jars=(jar,))
    session = LocalSession([planned], {planned.cell.id: found}, {}, tmp_path / "logs", "run")
    s3 = {"s3": "http://127.0.0.1:1", "iceberg_rest": "http://127.0.0.1:2", "bucket": "warehouse",
          "table_bucket": "lake", "region": "us-east-1"}  # fmt: skip
    session.by_need = {
        needs[0]: [_running("seaweedfs", "http://127.0.0.1:1", s3)],
        needs[1]: [_running("sql-catalog", "sqlite:////c.db", {"warehouse": "file:///w"})],
    }
    workdir = tmp_path / "work"
    connect = {**values, "deploy": "connect"}
    planned_connect = PlannedCell(Cell(tuple(connect.items()), "certified"), "", (), (), ())
    try:
        options = session.options(planned, workdir, "run-1").to_json()
        unscoped = session.options(planned, workdir).to_json()["database"]
        session.assessments = {
            planned.cell.id: Assessment(True, spark="needs jar sqlite-jdbc", needs=needs),
            planned_connect.cell.id: found,
        }
        unavailable = session.options(planned, workdir).to_json()["spark"]
        connect_spark = session.options(planned_connect, workdir).to_json()["spark"]
        connect_warehouse = session.state.path / "connect-warehouse"
    finally:
        session.stop()
    endpoints = Endpoints(s3="http://127.0.0.1:1", iceberg_rest="http://127.0.0.1:2",
                          sql_catalog="sqlite:////c.db")  # fmt: skip
    cell = CellSpark(values, workdir / "warehouse", endpoints, [str(jar.path)])
    assert json.dumps(options) == json.dumps(
        {
            "platform": "local",
            "database": database_name("run-1", planned.cell.id),
            "spark": {"unavailable": None, "conf": driver_conf(cell, workdir)},
            "jars": [jar.to_json()],
            "services": {"seaweedfs": "http://127.0.0.1:1", "sql-catalog": "sqlite:////c.db"},
            "s3": s3,
            "sql_catalog": {"uri": "sqlite:////c.db", "warehouse": "file:///w"},
        }
    )
    # without a run id the names are the session's own: still private to this session's cell
    assert unscoped == database_name(session.session_id, planned.cell.id) != options["database"]
    assert unavailable == {"unavailable": "needs jar sqlite-jdbc"}
    # no Connect server started; the session would set the cell's own catalog (shared server)
    connect_cell = CellSpark(connect, connect_warehouse, endpoints, [str(jar.path)])
    session_conf = connect_session_conf(connect_cell)
    assert connect_spark == {"unavailable": None, "remote": None, "session": session_conf}
    assert session_conf["spark.sql.catalog.ice"] == "org.apache.iceberg.spark.SparkCatalog"
    assert all(k.startswith("spark.sql.catalog.ice") or k == "spark.sql.defaultCatalog"
               for k in session_conf)  # fmt: skip


def test_one_connect_server_serves_a_lines_cells_each_session_its_own_catalog(
    tmp_path: Path,
) -> None:
    from certify.platforms.sparkconf import (
        CellSpark,
        Endpoints,
        connect_session_conf,
        shared_server_conf,
    )

    endpoints = Endpoints(hive="thrift://127.0.0.1:9083")
    hive = CellSpark({"spark": "4.1", "catalog": "hive"}, tmp_path, endpoints, ["/j/a.jar"])
    ice = CellSpark(
        {"spark": "4.1", "catalog": "iceberg-hive"}, tmp_path, endpoints, ["/j/a.jar", "/j/i.jar"]
    )
    server = shared_server_conf([hive, ice])
    assert server["spark.sql.catalogImplementation"] == "hive"  # the hive cell's session catalog
    assert "IcebergSparkSessionExtensions" in server["spark.sql.extensions"]  # static: here
    assert server["spark.jars"] == "/j/a.jar,/j/i.jar"  # the union, each jar once
    assert not any(k.startswith("spark.sql.catalog.ice") for k in server)
    assert "spark.sql.defaultCatalog" not in server
    # each session brings its own catalog; the hive cell's needs none of its own
    assert connect_session_conf(hive) == {}
    ice_session = connect_session_conf(ice)
    assert ice_session["spark.sql.catalog.ice.type"] == "hive"
    assert ice_session["spark.sql.defaultCatalog"] == "ice"


@dataclass
class _Proc:
    """A service that is a plain Python process: healthy while it runs, or one that exits."""

    name: str
    code: str
    timeout_s: float = 20.0

    def launch(self, home: Path) -> Any:
        from certify.platforms.local.services.base import Launch

        return Launch((sys.executable, "-c", self.code), f"proc://{self.name}", expect="-c")

    def healthy(self, launch: Any) -> bool:
        return "sleep" in self.code


def test_a_connect_server_that_does_not_start_fails_only_its_own_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from certify.cell import Cell
    from certify.plan import PlannedCell
    from certify.platforms.base import Assessment, Need
    from certify.platforms.local.session import LocalSession

    monkeypatch.setenv("CERTIFY_STATE_DIR", str(tmp_path / "state"))
    broken = Need("spark-connect", "4.1", classpath="iceberg-spark-runtime")
    fine = Need("spark-connect", "4.1")
    cells = {
        need: PlannedCell(Cell((("spark", "4.1"), ("catalog", name)), "certified"), "", (), (), ())
        for need, name in ((broken, "iceberg-hive"), (fine, "hive"))
    }
    found = {p.cell.id: Assessment(True, needs=(need,)) for need, p in cells.items()}
    session = LocalSession(list(cells.values()), found, {}, tmp_path / "logs", "run")
    servers = {
        broken: _Proc("spark-connect@broken", "import sys; print('bad jar'); sys.exit(3)"),
        fine: _Proc("spark-connect@fine", "import time; time.sleep(60)"),
    }
    monkeypatch.setattr(session, "_first_wave", lambda: [])
    monkeypatch.setattr(session, "_connect_wave", lambda: list(servers.items()))
    try:
        session.start()  # one server failing does not fail the session
        why = session.failed(cells[broken])
        assert why is not None and "spark-connect@broken exited with code 3" in why
        assert "bad jar" in why  # the log's tail says why
        assert session.failed(cells[fine]) is None
        assert session.service_alive("spark-connect@fine")
        pids = [r.proc.pid for r in session.running.values() if r.proc is not None]
    finally:
        session.stop()
    assert pids and not any(Path(f"/proc/{pid}").exists() for pid in pids)  # all stopped


def test_a_glue_cell_runs_on_moto_and_says_it_is_emulated(acceptance, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from certify.cell.options import PlatformOptions

    platform = LocalPlatform(JarProvider(cache=tmp_path))
    glue = {"spark": "4.1", "catalog": "glue", "storage": "s3", "deploy": "local"}
    found = platform.assess(acceptance, _planned(acceptance, glue))
    assert found.runnable  # pyiceberg serves it even while Spark's jars are missing
    assert {n.kind for n in found.needs} == {"glue", "seaweedfs"}
    [note] = found.emulated
    assert note.startswith("catalog=glue: moto's server") and "VersionId" in note
    options = PlatformOptions(emulated=found.emulated)
    assert PlatformOptions.from_json(options.to_json()).emulated == found.emulated
    assert "emulated" not in PlatformOptions().to_json()


def test_the_sql_catalog_file_lets_cells_commit_at_once(tmp_path: Path) -> None:
    import sqlite3

    from certify.platforms.local.services.sql_catalog import SqlCatalog

    service = SqlCatalog()
    launch = service.launch(tmp_path)
    assert service.healthy(launch)
    with sqlite3.connect(tmp_path / "catalog.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
