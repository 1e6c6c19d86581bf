"""The local platform's logic without a JVM: jars, runtime keys, state sweeping, assessments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from certify.host import procs
from certify.matrix.model import load_matrix
from certify.plan import build_plan
from certify.platforms.jars import Jar, JarProvider, Missing, sha256
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
    monkeypatch.setattr("certify.platforms.jars.maven_reachable", lambda: "offline in this test")


def test_a_jar_in_the_user_folder_wins_and_carries_its_checksum(tmp_path: Path) -> None:
    jar = tmp_path / "hadoop-aws-3.3.4.jar"
    jar.write_bytes(b"not really a jar")
    found = JarProvider(cache=tmp_path / "cache", user_dir=tmp_path).resolve(
        "hadoop-aws", "3.5", "2.12"
    )
    assert isinstance(found, Jar)
    assert found.route == "folder" and found.path == jar.resolve()
    assert found.sha256 == sha256(jar)


def test_a_missing_jar_names_every_route_tried(tmp_path: Path) -> None:
    found = JarProvider(cache=tmp_path, user_dir=tmp_path).resolve("hadoop-aws", "3.5", "2.12")
    assert isinstance(found, Missing)
    reason = found.reason
    assert reason.startswith("jar hadoop-aws for Spark 3.5 is not available here")
    assert f"user folder {tmp_path}: no hadoop-aws*.jar" in reason
    assert "PyPI wheels: none known to carry hadoop-aws" in reason
    assert "Maven org.apache.hadoop:hadoop-aws:3.3.4: offline in this test" in reason


def test_the_iceberg_jar_comes_from_its_pypi_wheel_without_downloading_when_cached(
    tmp_path: Path,
) -> None:
    cached = tmp_path / "iceberg-spark-runtime-3.5_2.12-1.9.2.jar"
    cached.write_bytes(b"jar bytes")
    found = JarProvider(cache=tmp_path).resolve("iceberg-spark-runtime", "3.5", "2.12")
    assert isinstance(found, Jar)
    assert found.route == "pypi:snowpark-connect-deps-iceberg==1.0.1"
    assert found.sha256 == sha256(cached)
    # no offline route is known for Spark 4.1
    missing = JarProvider(cache=tmp_path).resolve("iceberg-spark-runtime", "4.1", "2.13")
    assert isinstance(missing, Missing)


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
    platform = LocalPlatform(JarProvider(cache=tmp_path, user_dir=tmp_path))
    hive_s3, gpu = PROFILES["platform-unrunnable"]
    found = platform.assess(acceptance, _planned(acceptance, hive_s3))
    assert not found.runnable
    assert found.reason is not None and "jar hadoop-aws for Spark 3.5" in found.reason
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
    platform = LocalPlatform(JarProvider(cache=tmp_path, user_dir=tmp_path))
    rest, sql = PROFILES["platform-pyiceberg"]
    found = platform.assess(acceptance, _planned(acceptance, rest))
    assert found.runnable and found.spark is not None and "iceberg-aws-bundle" in found.spark
    assert {n.kind for n in found.needs} == {"seaweedfs"}
    found = platform.assess(acceptance, _planned(acceptance, sql))
    assert found.runnable and found.spark is not None and "sqlite-jdbc" in found.spark
    assert {n.kind for n in found.needs} == {"sql-catalog"}


def test_services_follow_deploy_and_catalog(acceptance, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cached = tmp_path / "iceberg-spark-runtime-3.5_2.12-1.9.2.jar"
    with zipfile.ZipFile(cached, "w") as jar:
        jar.writestr("x", "y")
    platform = LocalPlatform(JarProvider(cache=tmp_path, user_dir=tmp_path))
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
