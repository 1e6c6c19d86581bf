"""The Maven route against the real registry (Maven Central, or the mirror settings.xml names).

Small jar sets resolve into a private cache (cold, then warm without mvn), a corrupt jar is
fetched again, an unknown coordinate quotes mvn's own error, a lock mismatch fails `certify
jars sync` with exit 2, `--to DIR` fills a folder an air-gapped machine resolves from, and a
settings.xml mirror (a real HTTP server on 127.0.0.1) is where every download comes from.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from certify.platforms.jars import JarProvider, Missing, sha256

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
CERTIFY = [sys.executable, "-m", "certify"]
SMALL = ["hadoop-aws", "sqlite-jdbc"]  # a few MB on 4.1: the SDK bundle is excluded


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:  # type: ignore[type-arg]
    cache = tmp_path_factory.mktemp("jars")
    got = JarProvider(cache=cache).resolve_set(SMALL, "4.1", "2.13", "4.1.1")
    assert isinstance(got, list), got.reason
    return cache, got


def test_a_cold_resolution_records_coordinate_repository_path_and_checksum(cold) -> None:  # type: ignore[no-untyped-def]
    cache, got = cold
    coordinates = {j.coordinate for j in got}
    assert {"org.apache.hadoop:hadoop-aws:3.4.2", "org.xerial:sqlite-jdbc:3.50.3.0"} <= coordinates
    assert not any(":bundle:" in c for c in coordinates)  # one SDK per classpath, not its bundle
    for jar in got:
        assert jar.path.is_file() and str(jar.path).startswith(str(cache))
        assert jar.sha256 == sha256(jar.path) and jar.repository == "central"
    [record] = (cache / "sets").glob("*.json")
    assert len(json.loads(record.read_text())["jars"]) == len(got)


def test_a_warm_cache_resolves_without_mvn(cold, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    cache, got = cold
    monkeypatch.setenv("PATH", "/nonexistent")
    assert JarProvider(cache=cache).resolve_set(SMALL, "4.1", "2.13", "4.1.1") == got


def test_a_corrupt_cached_jar_is_fetched_again_with_the_same_bytes(cold) -> None:  # type: ignore[no-untyped-def]
    cache, got = cold
    jar = next(j for j in got if j.coordinate.startswith("org.xerial:sqlite-jdbc"))
    jar.path.write_bytes(b"PK\x03\x04 torn download")
    again = JarProvider(cache=cache).resolve_set(SMALL, "4.1", "2.13", "4.1.1")
    assert isinstance(again, list)
    assert sha256(jar.path) == jar.sha256


def test_a_coordinate_that_does_not_resolve_quotes_mvn(tmp_path: Path) -> None:
    got = JarProvider(cache=tmp_path).resolve_set(["org.certify.nope:nope:0.0.1"], "4.1", "2.13")
    assert isinstance(got, Missing)
    assert "Could not find artifact org.certify.nope:nope:jar:0.0.1" in got.reason
    assert not list((tmp_path / "sets").glob("*.json")) if (tmp_path / "sets").exists() else True


def _matrix(tmp: Path) -> Path:
    text = (ROOT / "tests" / "fixtures" / "golden" / "matrix.yaml").read_text()
    text = text.split("\ntiers:")[0] + (
        "\ntiers:\n  certified:\n    cells:\n      - {spark: '4.1', catalog: iceberg-sql, "
        "storage: local, gpu: none, deploy: local}\nprofiles:\n  one:\n    tiers: [certified]\n"
        "    reduction: full\n    suites: [smoke]\n"
    )
    path = tmp / "matrices" / "m.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def _certify(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CERTIFY, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


def test_lock_sync_and_an_air_gapped_folder(tmp_path: Path) -> None:
    matrix, lock = _matrix(tmp_path), tmp_path / "certify.jars.lock"
    env = dict(os.environ)
    env["CERTIFY_JAR_CACHE"] = str(ROOT / ".certify" / "jars")
    made = _certify("jars", "lock", "--matrix", str(matrix), "--lock", str(lock), env=env)
    assert made.returncode == 0, made.stderr
    pinned = json.loads(lock.read_text())["jars"]
    runtime = "org.apache.iceberg:iceberg-spark-runtime-4.1_2.13:1.11.0"
    assert set(pinned) >= {runtime, "org.xerial:sqlite-jdbc:3.50.3.0"}
    offline = tmp_path / "offline"
    synced = _certify(
        "jars", "sync", "--matrix", str(matrix), "--lock", str(lock), "--to", str(offline), env=env
    )
    assert synced.returncode == 0, synced.stderr
    # the air-gapped machine: no mvn, no cache, only the folder
    gapped = {**env, "PATH": "/nonexistent", "CERTIFY_JAR_CACHE": str(tmp_path / "none")}
    gapped["CERTIFY_JARS_DIR"] = str(offline)
    code = (
        "from certify.platforms.jars import JarProvider; "
        "got = JarProvider().resolve_set(['iceberg-spark-runtime', 'sqlite-jdbc'], '4.1', '2.13')"
        "; print(sorted(j.route for j in got))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=gapped, capture_output=True, text=True
    )
    assert proc.stdout.strip() == "['folder', 'folder']", proc.stdout + proc.stderr
    # a lock that pins other bytes: sync fails closed, naming the jar, the file and the fix
    pinned[runtime] = "0" * 64
    lock.write_text(json.dumps({"schema": "certify.jars-lock/1", "jars": pinned, "sets": {}}))
    bad = _certify("jars", "sync", "--matrix", str(matrix), "--lock", str(lock), env=env)
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert runtime in bad.stderr and str(lock) in bad.stderr and "certify jars lock" in bad.stderr
    assert "Traceback" not in bad.stderr


class _Mirror(http.server.SimpleHTTPRequestHandler):
    """A Maven repository over HTTP, serving the machine's cached files with their SHA-1."""

    served: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).served.append(self.path)
        path = Path(self.translate_path(self.path))
        if path.name.endswith(".sha1") and Path(str(path)[:-5]).is_file():
            body = hashlib.sha1(Path(str(path)[:-5]).read_bytes()).hexdigest().encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def mirror(cold) -> Iterator[str]:  # type: ignore[no-untyped-def]
    cache, _ = cold
    handler = lambda *a, **k: _Mirror(*a, directory=str(cache / "repository"), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_settings_xml_mirror_is_where_jars_come_from(
    mirror: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "settings.xml"
    settings.write_text(
        '<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0"><mirrors><mirror>'
        f"<id>corp-mirror</id><mirrorOf>*</mirrorOf><url>{mirror}</url></mirror></mirrors>"
        "</settings>"
    )
    monkeypatch.setenv("CERTIFY_MAVEN_SETTINGS", str(settings))
    got = JarProvider(cache=tmp_path / "cache").resolve_set(["sqlite-jdbc"], "4.1", "2.13")
    assert isinstance(got, list), got.reason
    assert [j.repository for j in got] == ["corp-mirror"]
    assert any(p.endswith("sqlite-jdbc-3.50.3.0.jar") for p in _Mirror.served)
