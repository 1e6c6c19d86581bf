"""The jars a cell needs: named per Spark line, resolved by Maven into certify's cache.

A cell's jar names (from its matrix values) make one jar set per Spark line. A set is resolved
once by `mvn` (certify.platforms.maven) into the local repository under `.certify/jars/`, and
recorded in `.certify/jars/sets/<key>.json` with each file's coordinate, repository and
SHA-256: a warm cache needs no network. A folder that `certify jars sync --to DIR` filled
(`$CERTIFY_JARS_DIR`) serves air-gapped machines the same way. A lock file (`certify jars
lock`) pins every coordinate's SHA-256, so two runs certify the same bytes.

Versions per line, checked against Maven Central and the releases' own files (2026-12-02):
- pyspark 3.5.7 bundles Hadoop 3.3.4 (hadoop-client-api-3.3.4.jar): hadoop-aws 3.3.4, built
  with the AWS SDK v1 1.12.262 (hadoop-project-3.3.4.pom); Iceberg 1.10.1, the newest release
  that still runs on Java 11 (the 3.5 line allows 11; Iceberg 1.11 needs 17).
- pyspark 4.0.1 bundles Hadoop 3.4.1, pyspark 4.1.1 Hadoop 3.4.2: hadoop-aws of the same
  version. iceberg-spark-runtime-4.1_2.13 first exists in Iceberg 1.11.0 (4.0_2.13 in 1.10.0):
  both lines take 1.11.0, whose iceberg-aws-bundle carries AWS SDK v2 2.44.4
  (software/amazon/awssdk/core/util/VersionInfo in the bundle).
- One AWS SDK v2 version per classpath, the one the Iceberg release was built with: hadoop-aws
  3.4.x's dependency on the 600 MB SDK `bundle` is excluded and the three SDK modules S3A uses
  (s3, sts, s3-transfer-manager) come at 2.44.4 instead (about 10 MB with their dependencies).
  On 3.5 the SDK v1 modules (s3, sts, dynamodb: S3Guard's classes are still linked in Hadoop
  3.3) replace the 280 MB `aws-java-sdk-bundle`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from certify.config.models import JAR_NAMES
from certify.errors import UsageError
from certify.platforms.maven import SETTINGS_VAR, Dep, MavenError, SettingsError, resolve

JARS_DIR_VAR = "CERTIFY_JARS_DIR"
JAR_CACHE_VAR = "CERTIFY_JAR_CACHE"
LOCK_VAR = "CERTIFY_JARS_LOCK"
LOCK_FILE = "certify.jars.lock"
# `off` skips Maven without calling it (certify's unit tests set it: they never download)
MAVEN_VAR = "CERTIFY_MAVEN"
SET_SCHEMA = "certify.jar-set/1"
LOCK_SCHEMA = "certify.jars-lock/1"


@dataclass(frozen=True)
class Line:
    """The versions that go with one Spark line (see the module docstring for the sources)."""

    hadoop: str
    iceberg: str
    aws_sdk: str  # group:version of the AWS SDK S3A is built with (v1 on Hadoop 3.3)
    rapids: str | None = None  # why not, when no RAPIDS release supports the line's pyspark


LINES: dict[str, Line] = {
    "3.5": Line("3.3.4", "1.10.1", "com.amazonaws:1.12.262"),
    "4.0": Line("3.4.1", "1.11.0", "software.amazon.awssdk:2.44.4"),
    "4.1": Line("3.4.2", "1.11.0", "software.amazon.awssdk:2.44.4"),
}
_SDK_BUNDLES = ("software.amazon.awssdk:bundle", "com.amazonaws:aws-java-sdk-bundle")
_SDK_MODULES = {
    "com.amazonaws": ("aws-java-sdk-s3", "aws-java-sdk-sts", "aws-java-sdk-dynamodb"),
    "software.amazon.awssdk": ("s3", "sts", "s3-transfer-manager"),
}
NAMES = JAR_NAMES
_COORDINATE = re.compile(r"^[\w.\-]+:[\w.\-]+:[\w.\-]+$")


class JarError(UsageError):
    """Bad jar input (unknown name, lock mismatch, corrupt folder): names the jar, file and fix."""


def is_coordinate(name: str) -> bool:
    """Whether a matrix `jars:` entry is a Maven coordinate (group:artifact:version)."""
    return bool(_COORDINATE.match(name))


def unknown_names(names: Iterable[str]) -> list[str]:
    """The entries of a matrix's `jars:` lists that are neither a known name nor a coordinate."""
    return [n for n in names if n not in NAMES and not is_coordinate(n)]


def deps_for(name: str, spark: str, scala: str, pyspark: str = "") -> tuple[Dep, ...] | str:
    """The Maven dependencies of the jar `name` on a Spark line, or why there are none."""
    line = LINES.get(spark)
    if is_coordinate(name):
        return (Dep(name),)
    if line is None:
        return f"no jar versions are known for Spark {spark} (known: {', '.join(LINES)})"
    iceberg = f"org.apache.iceberg:iceberg-{{}}:{line.iceberg}"
    if name == "iceberg-spark-runtime":
        return (Dep(iceberg.format(f"spark-runtime-{spark}_{scala}")),)
    if name == "iceberg-aws-bundle":
        return (Dep(iceberg.format("aws-bundle")),)
    if name == "hadoop-aws":
        return (Dep(f"org.apache.hadoop:hadoop-aws:{line.hadoop}", _SDK_BUNDLES),)
    if name == "aws-sdk":
        group, version = line.aws_sdk.split(":")
        return tuple(Dep(f"{group}:{module}:{version}") for module in _SDK_MODULES[group])
    if name == "hadoop-azure":
        return (Dep(f"org.apache.hadoop:hadoop-azure:{line.hadoop}"),)
    if name == "sqlite-jdbc":
        return (Dep("org.xerial:sqlite-jdbc:3.50.3.0"),)
    if name == "rapids-4-spark":
        return _rapids(scala, pyspark)
    if name == "unitycatalog-spark":
        return (Dep(f"io.unitycatalog:unitycatalog-spark_{scala}:0.3.0"),)
    return f"unknown jar name {name!r} (known: {', '.join(NAMES)}, or group:artifact:version)"


def _rapids(scala: str, pyspark: str) -> tuple[Dep, ...] | str:
    """The RAPIDS Accelerator release whose shims cover exactly `pyspark`, or why none does."""
    from certify.platforms.gpu import rapids_release

    found = rapids_release(pyspark, scala)
    return (Dep(found),) if isinstance(found, str) else found.reason


@dataclass(frozen=True)
class Jar:
    """One resolved jar file: the named jars it serves, its coordinate, repository and SHA-256."""

    name: str
    route: str
    path: Path | None = None
    coordinate: str | None = None
    sha256: str | None = None
    repository: str | None = None

    def to_json(self) -> dict[str, str | None]:
        """The provenance form."""
        return {
            "name": self.name,
            "route": self.route,
            "path": str(self.path) if self.path else None,
            "coordinate": self.coordinate,
            "repository": self.repository,
            "sha256": self.sha256,
        }

    @property
    def artifact_id(self) -> str:
        return (self.coordinate or ":").split(":")[1] or self.name


@dataclass(frozen=True)
class Missing:
    """Jars no route could provide, and why (mvn's own error line where Maven failed)."""

    name: str
    spark: str
    why: str
    fix: str = ""

    @property
    def reason(self) -> str:
        """One sentence a person can act on."""
        text = f"jar {self.name} for Spark {self.spark} could not be resolved: {self.why}"
        return f"{text}; {self.fix}" if self.fix else text


def sha256(path: Path) -> str:
    """The SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def set_key(deps: Sequence[Dep]) -> str:
    """The cache key of a jar set: its dependencies and exclusions, in order-free form."""
    spec = sorted([d.coordinate, *sorted(d.exclusions)] for d in deps)
    return hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:16]


@dataclass
class Lock:
    """Coordinate -> SHA-256 for every jar of a matrix's jar sets (`certify jars lock`)."""

    path: Path
    jars: dict[str, str] = field(default_factory=dict)
    sets: dict[str, dict[str, object]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Lock:
        fix = f"regenerate it with `certify jars lock` (or delete {path} to run unlocked)"
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise JarError(f"{path}: the jar lock file does not parse ({exc}); {fix}") from exc
        if not isinstance(data, dict) or data.get("schema") != LOCK_SCHEMA:
            raise JarError(f"{path}: not a {LOCK_SCHEMA} lock file; {fix}")
        jars, sets = data.get("jars"), data.get("sets", {})
        if not isinstance(jars, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) == 64 for k, v in jars.items()
        ):
            raise JarError(f"{path}: key `jars` must map coordinates to SHA-256 hex; {fix}")
        return cls(path, dict(jars), dict(sets) if isinstance(sets, dict) else {})

    def write(self) -> None:
        data = {"schema": LOCK_SCHEMA, "jars": dict(sorted(self.jars.items())), "sets": self.sets}
        partial = self.path.with_name(self.path.name + ".part")
        partial.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        partial.replace(self.path)

    def check(self, jar: Jar) -> str | None:
        """Why `jar` is not the locked bytes, or None."""
        want = self.jars.get(jar.coordinate or "")
        if want is None:
            return (
                f"{jar.coordinate} is not in the lock file {self.path}: run `certify jars lock` "
                "to add it, and commit the lock file"
            )
        if want != jar.sha256:
            return (
                f"{jar.coordinate} ({jar.path}) has SHA-256 {jar.sha256}, but the lock file "
                f"{self.path} pins {want}: the repository served other bytes for the same "
                "version; find out why before you accept them with `certify jars lock`"
            )
        return None


def default_lock() -> Lock | None:
    """The lock file certify uses: $CERTIFY_JARS_LOCK, else certify.jars.lock here, if any."""
    given = os.environ.get(LOCK_VAR)
    path = Path(given) if given else Path(LOCK_FILE)
    if not path.exists():
        if given:
            raise JarError(f"${LOCK_VAR}={given}: no such file; unset it or run certify jars lock")
        return None
    return Lock.load(path)


class JarProvider:
    """Resolves a cell's jar names for a Spark line: synced folder, else cache, else Maven."""

    def __init__(
        self, cache: Path | None = None, user_dir: Path | None = None, lock: Lock | None = None
    ) -> None:
        default = Path(os.environ.get(JAR_CACHE_VAR) or Path(".certify", "jars")).resolve()
        self.cache = cache or default
        folder = os.environ.get(JARS_DIR_VAR)
        self.user_dir = user_dir or (Path(folder) if folder else None)
        self.lock = lock
        self._sets: dict[tuple[str, ...], list[Jar] | Missing] = {}
        self._verified: dict[tuple[str, int, int], str] = {}

    @property
    def repository(self) -> Path:
        """Maven's local repository: the jar files themselves."""
        return self.cache / "repository"

    def resolve_set(
        self, names: Sequence[str], spark: str, scala: str, pyspark: str = ""
    ) -> list[Jar] | Missing:
        """Every jar file `names` need on the line, or the first reason one cannot be had."""
        key = (spark, scala, pyspark, *names)
        if key not in self._sets:
            self._sets[key] = self._resolve_set(tuple(names), spark, scala, pyspark)
        return self._sets[key]

    def deps(
        self, names: Sequence[str], spark: str, scala: str, pyspark: str = ""
    ) -> tuple[Dep, ...] | Missing:
        deps: list[Dep] = []
        for name in names:
            got = deps_for(name, spark, scala, pyspark)
            if isinstance(got, str):
                return Missing(name, spark, got)
            deps += [d for d in got if d not in deps]
        return tuple(deps)

    def _resolve_set(
        self, names: tuple[str, ...], spark: str, scala: str, pyspark: str
    ) -> list[Jar] | Missing:
        label = "+".join(names)
        deps = self.deps(names, spark, scala, pyspark)
        if isinstance(deps, Missing):
            return deps
        key = set_key(deps)
        if self.user_dir is not None:
            return self._from_folder(label, spark, key)
        try:
            jars = self._cached(label, key) or self._fetch(label, spark, key, deps)
        except SettingsError as exc:  # bad input: the command stops (exit 2), nothing is run
            raise JarError(f"{exc.line}; {exc.fix}") from exc
        except MavenError as exc:
            return Missing(label, spark, f"mvn: {exc.line}", exc.fix)
        if isinstance(jars, Missing):
            return jars
        if self.lock is not None:
            for jar in jars:
                why = self.lock.check(jar)
                if why is not None:
                    return Missing(label, spark, why)
        return jars

    def _record(self, key: str) -> Path:
        return self.cache / "sets" / f"{key}.json"

    def _cached(self, label: str, key: str) -> list[Jar] | None:
        """The set from the cache when every file is there with its recorded SHA-256."""
        jars = self._read_record(self._record(key), label, self.repository)
        if jars is None:
            return None
        corrupt = [j for j in jars if j.path is None or self._sha(j.path) != j.sha256]
        if not corrupt:
            return jars
        for jar in corrupt:  # fetched again below; mvn checks the new download's checksum
            print(
                f"certify: cached jar {jar.path} does not match its recorded SHA-256; "
                "fetching it again",
                file=sys.stderr,
            )
            if jar.path is not None:
                jar.path.unlink(missing_ok=True)
        self._record(key).unlink(missing_ok=True)
        return None

    def _read_record(self, record: Path, label: str, root: Path) -> list[Jar] | None:
        try:
            data = json.loads(record.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("schema") != SET_SCHEMA:
            return None
        route = "maven" if root == self.repository else "folder"
        return [
            Jar(
                label,
                route,
                root / str(item["file"]),
                str(item["coordinate"]),
                str(item["sha256"]),
                str(item.get("repository", "")),
            )
            for item in data.get("jars", [])
            if isinstance(item, dict)
        ]

    def _sha(self, path: Path) -> str | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in self._verified:
            self._verified[key] = sha256(path)
        return self._verified[key]

    def _fetch(
        self, label: str, spark: str, key: str, deps: tuple[Dep, ...]
    ) -> list[Jar] | Missing:
        if os.environ.get(MAVEN_VAR, "").lower() in ("off", "0", "no", "false"):
            return Missing(
                label,
                spark,
                f"Maven is switched off (${MAVEN_VAR}={os.environ[MAVEN_VAR]})",
                f"unset ${MAVEN_VAR}, or set ${JARS_DIR_VAR} to a folder that "
                "`certify jars sync --to` filled",
            )
        self.cache.mkdir(parents=True, exist_ok=True)
        # one mvn at a time per cache: Maven 3.8's local repository is not safe for two writers
        with _locked(self.cache / ".mvn.lock"):
            found = self._cached(label, key)
            if found is not None:
                return found
            artifacts = resolve(deps, self.repository, f"set-{key}")
            jars = []
            for art in artifacts:
                rel = art.path.resolve().relative_to(self.repository.resolve())
                digest = sha256(art.path)
                jars.append(
                    Jar(
                        label,
                        "maven",
                        self.repository / rel,
                        art.coordinate,
                        digest,
                        art.repository,
                    )
                )
            self._write_record(key, deps, jars)
            return jars

    def _write_record(self, key: str, deps: tuple[Dep, ...], jars: list[Jar]) -> None:
        record = self._record(key)
        record.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "schema": SET_SCHEMA,
            "deps": [{"coordinate": d.coordinate, "exclusions": list(d.exclusions)} for d in deps],
            "jars": [
                {
                    "coordinate": j.coordinate,
                    "file": str(j.path.relative_to(self.repository)) if j.path else "",
                    "sha256": j.sha256,
                    "repository": j.repository,
                }
                for j in jars
            ],
        }
        with tempfile.NamedTemporaryFile("w", dir=record.parent, delete=False, suffix=".part") as f:
            json.dump(data, f, indent=2)
        Path(f.name).replace(record)

    def _from_folder(self, label: str, spark: str, key: str) -> list[Jar] | Missing:
        assert self.user_dir is not None
        folder = self.user_dir
        jars = self._read_record(folder / "sets" / f"{key}.json", label, folder / "repository")
        if jars is None:
            return Missing(
                label,
                spark,
                f"the folder {folder} (${JARS_DIR_VAR}) has no record of this jar set",
                f"fill it with `certify jars sync --to {folder}` on a machine that reaches Maven",
            )
        for jar in jars:
            if jar.path is None or self._sha(jar.path) != jar.sha256:
                raise JarError(
                    f"jar {jar.coordinate} in {folder} (${JARS_DIR_VAR}) is missing or does not "
                    f"match its SHA-256 ({jar.path}); fill the folder again with "
                    f"`certify jars sync --to {folder}`"
                )
            if self.lock is not None and (why := self.lock.check(jar)) is not None:
                raise JarError(why)
        return jars


@dataclass(frozen=True, order=True)
class SetSpec:
    """One jar set to resolve: the jar names of a cell's values on one Spark line."""

    spark: str
    scala: str
    pyspark: str
    names: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"Spark {self.spark}: {' + '.join(self.names)}"


def lock_sets(
    provider: JarProvider, specs: Sequence[SetSpec], path: Path
) -> tuple[Lock, list[str]]:
    """Resolve every set (no lock applies) and pin its files; the sets that failed, and why."""
    lock = Lock(path)
    failed: list[str] = []
    unlocked = JarProvider(provider.cache, provider.user_dir)
    for spec in specs:
        got = unlocked.resolve_set(spec.names, spec.spark, spec.scala, spec.pyspark)
        if isinstance(got, Missing):
            failed.append(f"{spec.label}: {got.reason}")
            continue
        for jar in got:
            lock.jars[jar.coordinate or ""] = jar.sha256 or ""
        lock.sets[spec.label] = {"jars": sorted(j.coordinate or "" for j in got)}
    return lock, failed


def sync_to(provider: JarProvider, specs: Sequence[SetSpec], dest: Path) -> list[str]:
    """Fill `dest` for an air-gapped machine ($CERTIFY_JARS_DIR): each set's record and files,
    copied through a private name so that a half-copied jar is never taken for a whole one."""
    failed: list[str] = []
    for spec in specs:
        got = provider.resolve_set(spec.names, spec.spark, spec.scala, spec.pyspark)
        if isinstance(got, Missing):
            failed.append(f"{spec.label}: {got.reason}")
            continue
        deps = provider.deps(spec.names, spec.spark, spec.scala, spec.pyspark)
        assert not isinstance(deps, Missing)
        for jar in got:
            assert jar.path is not None
            target = dest / "repository" / jar.path.relative_to(provider.repository)
            if target.is_file() and sha256(target) == jar.sha256:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".part")
            shutil.copyfile(jar.path, partial)
            partial.replace(target)
        record = provider._record(set_key(deps))
        (dest / "sets").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(record, dest / "sets" / record.name)
    return failed


def maven_info() -> dict[str, str | None]:
    """How jars would be resolved here (whether they resolve is known only by resolving)."""
    provider = JarProvider()
    off = os.environ.get(MAVEN_VAR, "").lower() in ("off", "0", "no", "false")
    return {
        "mvn": shutil.which("mvn"),
        "switched_off": f"${MAVEN_VAR}={os.environ[MAVEN_VAR]}" if off else None,
        "settings": os.environ.get(SETTINGS_VAR),
        "cache": str(provider.cache),
        "jars_dir": str(provider.user_dir) if provider.user_dir else None,
        "lock": str(Path(os.environ.get(LOCK_VAR) or LOCK_FILE).resolve()),
    }


def shipped(spark_home: Path | None) -> set[str]:
    """Artifact ids of the jars a pyspark installation already ships (`$SPARK_HOME/jars`)."""
    if spark_home is None:
        return set()
    names = set()
    for path in (spark_home / "jars").glob("*.jar"):
        match = re.match(r"^(.*?)-\d[\w.\-]*\.jar$", path.name)
        if match:
            names.add(match.group(1))
    return names


def without_shipped(jars: Sequence[Jar], spark_home: Path | None) -> list[Jar]:
    """`jars` less those the pyspark wheel already ships (its version wins on the classpath)."""
    have = shipped(spark_home)
    return [j for j in jars if j.artifact_id not in have]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (flock) held for the block."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
