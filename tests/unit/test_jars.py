"""Jar sets without the network: a stand-in `mvn` on PATH that writes what real mvn writes.

The real registry is exercised in tests/integration/test_maven_jars.py; here the cache, the
lock, corrupt files, the synced folder and mvn's error lines are checked offline.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from certify.platforms import jars
from certify.platforms.jars import (
    JarError,
    JarProvider,
    Lock,
    Missing,
    deps_for,
    sha256,
    without_shipped,
)
from certify.platforms.maven import MavenError, error_line, parse_listing, settings_file

FAKE_MVN = r"""#!/usr/bin/env python3
import os, re, sys, time
from pathlib import Path
args = sys.argv[1:]
log = Path(os.environ["FAKE_MVN_LOG"])
with log.open("a") as f:
    f.write(" ".join(args) + "\n")
if os.environ.get("FAKE_MVN_FAIL"):
    print("[INFO] Scanning for projects...")
    print("\x1b[0m[ERROR] Failed to execute goal on project x: Could not resolve dependencies "
          "for project certify.jars:x:pom:0: Could not find artifact org.example:nope:jar:1.0 "
          "in central (https://repo.maven.apache.org/maven2) -> [Help 1]")
    print("[ERROR] ")
    print("[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.")
    sys.exit(1)
time.sleep(float(os.environ.get("FAKE_MVN_SLEEP", "0")))
pom = Path(args[args.index("-f") + 1]).read_text()
repo = Path(next(a for a in args if a.startswith("-Dmaven.repo.local=")).split("=", 1)[1])
out = Path(next(a for a in args if a.startswith("-DoutputFile=")).split("=", 1)[1])
lines = ["", "The following files have been resolved:"]
for g, a, v in re.findall(r"<groupId>([^<]+)</groupId><artifactId>([^<]+)</artifactId>"
                          r"<version>([^<]+)</version>", pom):
    if g == "certify.jars":
        continue
    folder = repo / g.replace(".", "/") / a / v
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{a}-{v}.jar").write_bytes(f"{g}:{a}:{v}".encode())
    (folder / "_remote.repositories").write_text(f"{a}-{v}.jar>central=\n")
    lines.append(f"   {g}:{a}:jar:{v}:compile:{folder / f'{a}-{v}.jar'} -- module {a} (auto)")
out.write_text("\n".join(lines) + "\n")
"""


@pytest.fixture
def mvn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in mvn first on PATH; returns the file each call is logged to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "mvn"
    script.write_text(FAKE_MVN)
    script.chmod(0o755)
    log = tmp_path / "mvn.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_MVN_LOG", str(log))
    monkeypatch.delenv(jars.MAVEN_VAR, raising=False)
    monkeypatch.delenv(jars.JARS_DIR_VAR, raising=False)
    return log


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


S3_41 = ["iceberg-spark-runtime", "iceberg-aws-bundle", "hadoop-aws", "aws-sdk"]


def test_versions_follow_each_lines_bundled_hadoop_and_iceberg_release() -> None:
    assert deps_for("hadoop-aws", "4.1", "2.13")[0].coordinate == (  # type: ignore[index, union-attr]
        "org.apache.hadoop:hadoop-aws:3.4.2"
    )
    assert deps_for("hadoop-aws", "3.5", "2.12")[0].coordinate.endswith(":3.3.4")  # type: ignore[index, union-attr]
    [runtime] = deps_for("iceberg-spark-runtime", "4.1", "2.13")  # type: ignore[misc]
    assert runtime.coordinate == "org.apache.iceberg:iceberg-spark-runtime-4.1_2.13:1.11.0"
    [runtime35] = deps_for("iceberg-spark-runtime", "3.5", "2.12")  # type: ignore[misc]
    assert runtime35.coordinate.endswith(":1.10.1")  # Java 11 still allowed on 3.5
    # the SDK bundles are excluded from hadoop-aws: the SDK comes as modules of one version
    [aws] = deps_for("hadoop-aws", "4.1", "2.13")  # type: ignore[misc]
    assert "software.amazon.awssdk:bundle" in aws.exclusions
    sdk = deps_for("aws-sdk", "4.1", "2.13")
    assert {d.coordinate for d in sdk} == {  # type: ignore[union-attr]
        f"software.amazon.awssdk:{m}:2.44.4" for m in ("s3", "sts", "s3-transfer-manager")
    }
    assert deps_for("rapids-4-spark", "4.1", "2.13", "4.1.1")[0].coordinate == (  # type: ignore[index, union-attr]
        "com.nvidia:rapids-4-spark_2.13:26.08.1"
    )
    why = deps_for("rapids-4-spark", "3.5", "2.12", "3.5.7")
    assert isinstance(why, str) and "supports pyspark 3.5.7" in why and "25.04.0" in why
    assert "unknown jar name 'nope'" in str(deps_for("nope", "4.1", "2.13"))


def test_a_set_resolves_once_and_a_warm_cache_needs_no_mvn(
    mvn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = JarProvider(cache=tmp_path / "cache").resolve_set(S3_41, "4.1", "2.13")
    assert isinstance(got, list) and len(got) == 6
    assert len(_calls(mvn)) == 1
    call = _calls(mvn)[0]
    assert "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:list" in call
    assert " -C " in f" {call} "  # checksum failures are fatal
    jar = next(j for j in got if j.coordinate == "org.apache.hadoop:hadoop-aws:3.4.2")
    assert jar.path is not None and jar.path.is_file()
    assert (jar.repository, jar.sha256, jar.route) == ("central", sha256(jar.path), "maven")
    # a second provider (a later run) reads the set's record: mvn is not even on PATH now
    monkeypatch.setenv("PATH", "/nonexistent")
    again = JarProvider(cache=tmp_path / "cache").resolve_set(S3_41, "4.1", "2.13")
    assert again == got


def test_a_corrupt_cached_jar_is_fetched_again(mvn: Path, tmp_path: Path) -> None:
    first = JarProvider(cache=tmp_path / "cache").resolve_set(["sqlite-jdbc"], "4.1", "2.13")
    assert isinstance(first, list)
    [jar] = first
    assert jar.path is not None
    jar.path.write_bytes(b"truncated")
    second = JarProvider(cache=tmp_path / "cache").resolve_set(["sqlite-jdbc"], "4.1", "2.13")
    assert len(_calls(mvn)) == 2
    assert isinstance(second, list) and second[0].sha256 == jar.sha256
    assert jar.path.read_bytes() == b"org.xerial:sqlite-jdbc:3.50.3.0"


def test_a_failed_resolution_quotes_mvns_error_line(
    mvn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_MVN_FAIL", "1")
    got = JarProvider(cache=tmp_path / "cache").resolve_set(["org.example:nope:1.0"], "4.1", "2.13")
    assert isinstance(got, Missing)
    assert "Could not find artifact org.example:nope:jar:1.0 in central" in got.reason
    assert "\x1b" not in got.reason and "re-run Maven" not in got.reason
    assert "check the coordinate" in got.reason
    assert not (tmp_path / "cache" / "sets").exists() or not list(
        (tmp_path / "cache" / "sets").glob("*.json")
    )  # nothing half-written


def test_no_mvn_and_maven_switched_off_say_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv(jars.MAVEN_VAR, raising=False)
    got = JarProvider(cache=tmp_path).resolve_set(["sqlite-jdbc"], "4.1", "2.13")
    assert isinstance(got, Missing) and "mvn not found on PATH" in got.reason
    assert "certify jars sync --to DIR" in got.reason
    monkeypatch.setenv(jars.MAVEN_VAR, "off")
    got = JarProvider(cache=tmp_path).resolve_set(["sqlite-jdbc"], "4.1", "2.13")
    assert isinstance(got, Missing) and "Maven is switched off" in got.reason


def test_the_lock_pins_bytes_and_names_the_fix(mvn: Path, tmp_path: Path) -> None:
    provider = JarProvider(cache=tmp_path / "cache")
    got = provider.resolve_set(["sqlite-jdbc"], "4.1", "2.13")
    assert isinstance(got, list)
    lock = Lock(tmp_path / "certify.jars.lock", {got[0].coordinate or "": got[0].sha256 or ""})
    lock.write()
    locked = JarProvider(cache=tmp_path / "cache", lock=Lock.load(lock.path))
    assert locked.resolve_set(["sqlite-jdbc"], "4.1", "2.13") == got
    lock.jars[got[0].coordinate or ""] = "0" * 64
    lock.write()
    mismatch = JarProvider(cache=tmp_path / "cache", lock=Lock.load(lock.path))
    found = mismatch.resolve_set(["sqlite-jdbc"], "4.1", "2.13")
    assert isinstance(found, Missing)
    assert "but the lock file" in found.reason and str(lock.path) in found.reason
    absent = JarProvider(cache=tmp_path / "cache", lock=Lock(lock.path, {}))
    found = absent.resolve_set(["sqlite-jdbc"], "4.1", "2.13")
    assert isinstance(found, Missing) and "run `certify jars lock`" in found.reason
    lock.path.write_text("{not json")
    with pytest.raises(JarError, match="does not parse"):
        Lock.load(lock.path)


def test_runs_resolving_one_set_at_once_call_mvn_once(
    mvn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_MVN_SLEEP", "0.5")
    found: list[object] = []
    runs = [
        threading.Thread(
            target=lambda: found.append(
                JarProvider(cache=tmp_path / "c").resolve_set(["sqlite-jdbc"], "4.1", "2.13")
            )
        )
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert len(_calls(mvn)) == 1
    assert found[0] == found[1] and isinstance(found[0], list)


def test_a_synced_folder_serves_an_air_gapped_machine_and_fails_on_a_tampered_jar(
    mvn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from certify.platforms.jars import SetSpec, sync_to

    provider = JarProvider(cache=tmp_path / "cache")
    got = provider.resolve_set(["sqlite-jdbc"], "4.1", "2.13")
    assert isinstance(got, list)
    assert (
        sync_to(provider, [SetSpec("4.1", "2.13", "", ("sqlite-jdbc",))], tmp_path / "offline")
        == []
    )
    monkeypatch.setenv("PATH", "/nonexistent")
    offline = JarProvider(cache=tmp_path / "empty", user_dir=tmp_path / "offline")
    [jar] = offline.resolve_set(["sqlite-jdbc"], "4.1", "2.13")  # type: ignore[misc]
    assert jar.route == "folder" and jar.sha256 == got[0].sha256
    assert str(jar.path).startswith(str(tmp_path / "offline"))
    assert jar.path is not None
    jar.path.write_bytes(b"tampered")
    with pytest.raises(JarError, match="does not match its SHA-256"):
        JarProvider(cache=tmp_path / "empty", user_dir=tmp_path / "offline").resolve_set(
            ["sqlite-jdbc"], "4.1", "2.13"
        )
    missing = offline.resolve_set(["hadoop-aws"], "4.1", "2.13")
    assert isinstance(missing, Missing) and "has no record of this jar set" in missing.reason


def test_jars_the_pyspark_wheel_ships_are_dropped(mvn: Path, tmp_path: Path) -> None:
    got = JarProvider(cache=tmp_path / "cache").resolve_set(["aws-sdk"], "4.1", "2.13")
    assert isinstance(got, list)
    home = tmp_path / "pyspark"
    (home / "jars").mkdir(parents=True)
    (home / "jars" / "sts-2.20.0.jar").touch()
    kept = without_shipped(got, home)
    assert {j.artifact_id for j in kept} == {"s3", "s3-transfer-manager"}


def test_the_listing_parser_reads_real_mvn_output(tmp_path: Path) -> None:
    text = (
        "\nThe following files have been resolved:\n"
        "   org.apache.hadoop:hadoop-aws:jar:3.4.2:compile:/r/org/apache/hadoop/hadoop-aws/3.4.2/"
        "hadoop-aws-3.4.2.jar -- module hadoop.aws (auto)\n"
        "   commons-codec:commons-codec:jar:1.17.1:runtime:/r/commons-codec/commons-codec/1.17.1/"
        "commons-codec-1.17.1.jar -- module org.apache.commons.codec\n"
        "   io.netty:netty-transport-native-epoll:jar:linux-x86_64:4.1.133.Final:runtime:/r/n.jar\n"
        "   org.apache.iceberg:iceberg-aws-bundle:jar:1.11.0:compile:/r/b.jar\n"
        "   org.example:a-pom:pom:1.0:compile:/r/a.pom\n"
    )
    found = parse_listing(text, tmp_path)
    assert [a.coordinate for a in found] == [
        "org.apache.hadoop:hadoop-aws:3.4.2",
        "commons-codec:commons-codec:1.17.1",
        "io.netty:netty-transport-native-epoll:4.1.133.Final:linux-x86_64",
        "org.apache.iceberg:iceberg-aws-bundle:1.11.0",
    ]
    assert found[1].scope == "runtime" and str(found[0].path).endswith("hadoop-aws-3.4.2.jar")
    assert error_line("[INFO] x\n[ERROR] \n[ERROR] boom happened here\n") == (
        "[ERROR] boom happened here"
    )


def test_a_settings_file_that_does_not_parse_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "settings.xml"
    bad.write_text("<settings><mirrors>")
    monkeypatch.setenv("CERTIFY_MAVEN_SETTINGS", str(bad))
    with pytest.raises(MavenError, match="does not parse as XML"):
        settings_file()
    bad.write_text("<project/>")
    with pytest.raises(MavenError, match="root element is not <settings>"):
        settings_file()
    good = tmp_path / "good.xml"
    good.write_text('<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0"/>')
    monkeypatch.setenv("CERTIFY_MAVEN_SETTINGS", str(good))
    assert settings_file() == good
    assert json.dumps(str(good))


def test_a_bad_settings_file_stops_the_command_and_a_good_one_reaches_mvn(
    mvn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "settings.xml"
    bad.write_text("<settings><mirrors>")
    monkeypatch.setenv("CERTIFY_MAVEN_SETTINGS", str(bad))
    with pytest.raises(JarError, match=r"settings.xml does not parse as XML"):
        JarProvider(cache=tmp_path / "c").resolve_set(["sqlite-jdbc"], "4.1", "2.13")
    assert _calls(mvn) == []
    bad.write_text('<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0"/>')
    got = JarProvider(cache=tmp_path / "c").resolve_set(["sqlite-jdbc"], "4.1", "2.13")
    assert isinstance(got, list)
    assert f"-s {bad}" in _calls(mvn)[0]
