"""Spark configuration for a cell: deploy mode, catalog and jars (never credentials).

Used by the cell's session fixture (driver settings) and by the Spark Connect server, whose
catalog settings are static and so must be given when the server starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certify.platforms.glue import glue_catalog_conf

# Spark's settings for a certification run: quiet, loopback only, small shuffles for 2 cores.
BASE_CONF = {
    "spark.ui.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.adaptive.enabled": "true",
    "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.sql.session.timeZone": "UTC",
}
ICEBERG_CATALOG = "ice"
# The JVMs of a certification run are short-lived and work on small data: their time goes to
# start-up and JIT warm-up, not to peak speed. The client compiler alone and the serial
# collector halve the CPU a driver spends on the same scenarios on 2 cores (benchmarks/run.py
# measures both). `$CERTIFY_JVM_OPTIONS` replaces them ("" keeps the JVM's defaults, e.g. for
# peak-speed benchmarks).
JVM_OPTIONS_VAR = "CERTIFY_JVM_OPTIONS"
DEFAULT_JVM_OPTIONS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"


def jvm_options() -> str:
    """Java options of every JVM certify starts: drivers, executors and services."""
    import os

    return os.environ.get(JVM_OPTIONS_VAR, DEFAULT_JVM_OPTIONS).strip()


# Settings that only take effect when a driver JVM starts (its classpath, its command line and
# heap): cells that differ in one of them need their own JVM; every other setting is applied
# to a fresh SparkContext in a JVM that an earlier cell of the same pytest process started.
JVM_SETTINGS = (
    "spark.jars",
    "spark.jars.packages",
    "spark.jars.repositories",
    "spark.jars.excludes",
    "spark.driver.extraClassPath",
    "spark.driver.extraJavaOptions",
    "spark.driver.extraLibraryPath",
    "spark.driver.memory",
)
_ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"


@dataclass(frozen=True)
class Endpoints:
    """Where a cell's services answer (None when the cell does not use that service)."""

    master: str | None = None
    hive: str | None = None
    s3: str | None = None
    iceberg_rest: str | None = None
    sql_catalog: str | None = None
    glue: str | None = None
    table_bucket: str = "lake"
    bucket: str = "warehouse"
    workers: int = 1


@dataclass(frozen=True)
class CellSpark:
    """Everything that decides a cell's Spark settings."""

    values: Mapping[str, str]
    warehouse: Path
    endpoints: Endpoints = field(default_factory=Endpoints)
    jar_paths: Sequence[str] = ()  # files (resolved by certify.platforms.jars), never coordinates
    gpu_discovery: str = ""  # the GPU discovery script of a gpu=nvidia cell


def driver_conf(cell: CellSpark, workdir: Path) -> dict[str, str]:
    """Settings of the cell's driver (deploy=local or standalone)."""
    conf = dict(BASE_CONF)
    deploy = cell.values.get("deploy", "local")
    options = jvm_options()
    if deploy == "standalone" and cell.endpoints.master:
        conf["spark.master"] = cell.endpoints.master
        if options:
            conf["spark.executor.extraJavaOptions"] = options
        conf["spark.executor.cores"] = "1"
        conf["spark.executor.memory"] = "768m"
        conf["spark.cores.max"] = str(cell.endpoints.workers)
    else:
        conf["spark.master"] = "local[2]"
    # the driver JVM's command line names the run's work folder (how tests find it); the run's,
    # not the cell's, so cells of a run can share a driver JVM (derby.log is all it decides)
    conf["spark.driver.extraJavaOptions"] = (
        f"-Dderby.system.home={workdir.parent} {options}".strip()
    )
    conf.update(catalog_conf(cell, embedded_metastore=workdir / "metastore_db"))
    conf.update(gpu_conf(cell))
    return conf


def gpu_conf(cell: CellSpark) -> dict[str, str]:
    """The RAPIDS Accelerator's settings of a gpu=nvidia cell (GPUs, never explain-only: an
    explain-only session plans on the CPU and certifies nothing)."""
    if cell.values.get("gpu") != "nvidia":
        return {}
    from certify.platforms.gpu import rapids_conf

    return rapids_conf(Path(cell.gpu_discovery), explain_only=False)


def jvm_settings(conf: Mapping[str, str]) -> dict[str, str]:
    """The part of a driver's settings that decides its JVM (see JVM_SETTINGS)."""
    return {k: conf[k] for k in JVM_SETTINGS if k in conf}


def jvm_key(conf: Mapping[str, str]) -> str:
    """Equal for two drivers that one JVM can serve one after the other."""
    return "\n".join(f"{k}={v}" for k, v in sorted(jvm_settings(conf).items()))


def local_driver_conf(values: Mapping[str, str], workdir: Path) -> dict[str, str]:
    """Driver settings of a cell run without a platform: local Spark, Hive on embedded Derby."""
    return driver_conf(CellSpark(values, workdir / "warehouse"), workdir)


def server_conf(cell: CellSpark) -> dict[str, str]:
    """Static settings of a Spark Connect server serving cells like `cell` (a GPU cell's server
    loads the plugin; its classpath, the RAPIDS jar, keeps CPU cells off it)."""
    return {**catalog_conf(cell, embedded_metastore=None), **gpu_conf(cell)}


def connect_session_setting(key: str) -> bool:
    """Whether a Spark Connect session may set `key` itself (the cell's catalog), not its server.

    Catalog plugins are read from the session's settings when first used, so every cell of a
    line can share one server, each session with its own catalog; everything else (catalog
    implementation, extensions, jars, the Hadoop settings) is static: the server's.
    """
    return (
        key.startswith(f"spark.sql.catalog.{ICEBERG_CATALOG}") or key == "spark.sql.defaultCatalog"
    )


def connect_session_conf(cell: CellSpark) -> dict[str, str]:
    """The settings a Connect cell's session sets for itself (see connect_session_setting)."""
    return {k: v for k, v in server_conf(cell).items() if connect_session_setting(k)}


def shared_server_conf(cells: Sequence[CellSpark]) -> dict[str, str]:
    """Static settings of one Spark Connect server serving every cell of `cells` (one line).

    Hive support when any cell's catalog is Hive, Iceberg's extensions when any is Iceberg, the
    union of their jars; the cells' own catalogs are their sessions' (connect_session_conf).
    """
    conf: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for cell in cells:
        for key, value in server_conf(cell).items():
            if connect_session_setting(key):
                continue
            if key == "spark.jars":
                known = lists.setdefault(key, [])
                known += [v for v in value.split(",") if v and v not in known]
            else:
                conf.setdefault(key, value)
    conf.update({key: ",".join(values) for key, values in lists.items()})
    return conf


def _glue_conf(endpoints: Endpoints) -> dict[str, str]:
    """Iceberg's GlueCatalog against the Glue endpoint (moto locally), data in S3 (S3FileIO)."""
    conf = {
        "spark.sql.extensions": _ICEBERG_EXTENSIONS,
        "spark.sql.defaultCatalog": ICEBERG_CATALOG,
    }
    if endpoints.glue and endpoints.s3:
        prefix = f"spark.sql.catalog.{ICEBERG_CATALOG}"
        conf.update(glue_catalog_conf(prefix, endpoints.glue, endpoints.s3, endpoints.bucket))
    return conf


def is_iceberg(catalog: str) -> bool:
    """Whether a catalog value serves Iceberg tables (the iceberg-* values and Glue)."""
    return catalog.startswith("iceberg-") or catalog == "glue"


def catalog_conf(cell: CellSpark, embedded_metastore: Path | None) -> dict[str, str]:
    """Catalog, warehouse and jar settings; Hive on embedded Derby when no metastore is given."""
    conf = {"spark.sql.warehouse.dir": cell.warehouse.as_uri()}
    catalog = cell.values.get("catalog", "hive")
    hive = cell.endpoints.hive
    if catalog == "hive":
        conf["spark.sql.catalogImplementation"] = "hive"
        if hive:
            conf["spark.hadoop.hive.metastore.uris"] = hive
        elif embedded_metastore is not None:
            conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
                f"jdbc:derby:;databaseName={embedded_metastore};create=true"
            )
    elif catalog == "glue":
        conf.update(_glue_conf(cell.endpoints))
    elif catalog.startswith("iceberg-"):
        prefix = f"spark.sql.catalog.{ICEBERG_CATALOG}"
        conf["spark.sql.extensions"] = _ICEBERG_EXTENSIONS
        conf[prefix] = "org.apache.iceberg.spark.SparkCatalog"
        conf[f"{prefix}.warehouse"] = (cell.warehouse / "iceberg").as_uri()
        conf["spark.sql.defaultCatalog"] = ICEBERG_CATALOG
        if catalog == "iceberg-hadoop":
            conf[f"{prefix}.type"] = "hadoop"
        elif catalog == "iceberg-hive":
            conf[f"{prefix}.type"] = "hive"
            conf[f"{prefix}.uri"] = hive or ""
            # Hive 2.3's lock API fails Iceberg commits with operationType=UNSET
            conf["spark.hadoop.iceberg.engine.hive.lock-enabled"] = "false"
        elif catalog == "iceberg-rest":
            # needs iceberg-aws-bundle (S3FileIO); credentials are added from the environment
            conf[f"{prefix}.type"] = "rest"
            conf[f"{prefix}.uri"] = cell.endpoints.iceberg_rest or ""
            conf[f"{prefix}.warehouse"] = f"s3://{cell.endpoints.table_bucket}"
            conf[f"{prefix}.io-impl"] = "org.apache.iceberg.aws.s3.S3FileIO"
            conf[f"{prefix}.s3.endpoint"] = cell.endpoints.s3 or ""
            conf[f"{prefix}.s3.path-style-access"] = "true"
            conf[f"{prefix}.client.region"] = "us-east-1"
        elif catalog == "iceberg-sql":
            # needs the sqlite-jdbc driver; the same SQLite file as pyiceberg's SQL catalog
            conf[f"{prefix}.catalog-impl"] = "org.apache.iceberg.jdbc.JdbcCatalog"
            conf[f"{prefix}.uri"] = (cell.endpoints.sql_catalog or "").replace(
                "sqlite:///", "jdbc:sqlite:/"
            )
            # cells of a run write the one SQLite catalog at once: wait for its lock (30 s)
            # instead of failing a commit with SQLITE_BUSY at the first contention
            conf[f"{prefix}.jdbc.busy_timeout"] = "30000"
    if cell.jar_paths:
        conf["spark.jars"] = ",".join(cell.jar_paths)
    if cell.endpoints.s3 and cell.values.get("storage") == "s3":
        conf["spark.hadoop.fs.s3a.endpoint"] = cell.endpoints.s3
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = "false"
    return conf


def bound_connect_retries(session: Any, total_s: float = 15.0) -> None:
    """Make a Spark Connect client give up on a lost server after about `total_s` seconds.

    pyspark's default policy retries an unreachable server for at least ten minutes, so a call
    in flight when the server dies hangs past any recovery criterion or load window. Chaos
    workloads and load users want the failure (and then reconnect with a fresh session).
    """
    from pyspark.sql.connect.client.retries import DefaultPolicy

    initial_ms, backoff, cap_ms = 250, 2.0, 5000
    retries, waited = 0, 0.0
    while waited < total_s * 1000:
        waited += min(initial_ms * backoff**retries, cap_ms)
        retries += 1
    policy = DefaultPolicy(
        max_retries=retries,
        backoff_multiplier=backoff,
        initial_backoff=initial_ms,
        max_backoff=cap_ms,
    )
    session.client.set_retry_policies([policy])
