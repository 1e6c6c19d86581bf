"""The iceberg suite passes on a real Iceberg cell and its checks catch planted faults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from certify.platforms.jars import JarProvider, Missing
from certify.platforms.sparkconf import CellSpark, driver_conf
from certify.results import RecordStore
from fixtures.data import column_checksums, orders_frame
from fixtures.iceberg_checks import (
    checksum_problems,
    data_file_count,
    local_iceberg_session,
    maintenance_problems,
    plant_byte_swap,
    projection_problems,
    pruning_problems,
    scan_evidence,
    snapshot_ids,
    stop_local_session,
    table_checksums,
)

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
VALUES = {
    "spark": "3.5",
    "catalog": "iceberg-hadoop",
    "storage": "local",
    "gpu": "none",
    "deploy": "local",
}
CELL = ",".join(f"{k}={v}" for k, v in VALUES.items())


def iceberg_jar() -> str:
    """The platform's Iceberg runtime jar for Spark 3.5 (resolved by mvn into the cache)."""
    got = JarProvider().resolve_set(["iceberg-spark-runtime"], "3.5", "2.12", "3.5.7")
    if not isinstance(got, list) or not got or got[0].path is None:
        reason = got.reason if isinstance(got, Missing) else got
        pytest.fail(f"the Iceberg runtime jar is not available: {reason}", pytrace=False)
    return str(got[0].path)


# Defined before the module's session is first used, so its pytest (and JVM) runs alone.
def test_the_iceberg_and_interop_suites_pass_on_an_iceberg_hadoop_cell(tmp_path: Path) -> None:
    work = tmp_path / "work"
    conf = driver_conf(CellSpark(VALUES, work / "warehouse", jar_paths=[iceberg_jar()]), work)
    store = tmp_path / "results.sqlite"
    argv = [sys.executable, "-m", "pytest", "scenarios/iceberg", "scenarios/interop", "-q"]
    argv += ["-p", "no:cacheprovider", "--certify-cell", CELL, "--certify-store", str(store)]
    argv += ["--certify-run-id", "it", "--certify-workdir", str(work)]
    argv += ["--certify-values", json.dumps(VALUES)]
    argv += ["--certify-options", json.dumps({"spark": {"conf": conf}})]
    proc = subprocess.run(
        argv,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = RecordStore(store).records("it")
    iceberg = [r for r in records if r.suite == "iceberg"]
    interop = {r.test_id.split("::")[-1]: r for r in records if r.suite == "interop"}
    assert len(iceberg) == 7 and all(r.status == "passed" for r in iceberg)
    hive = interop.pop("test_hive_tables_read_by_the_spark_line_that_did_not_write_them")
    assert hive.status == "not_run" and "requires catalog=hive" in hive.message
    # through a catalog service by name: REST, SQL and Glue cells only, not a Hadoop catalog
    shared = interop.pop("test_spark_and_pyiceberg_share_tables_through_the_cells_catalog")
    assert shared.status == "not_run" and "requires catalog=" in shared.message
    assert len(interop) == 2 and all(r.status == "passed" for r in interop.values())


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local session with the Iceberg jar for the planted-fault tests."""
    session = local_iceberg_session(tmp_path_factory.mktemp("iceberg"), iceberg_jar())
    session.sql("CREATE NAMESPACE IF NOT EXISTS ice.planted")
    yield session
    stop_local_session(session)


def _orders_table(spark: Any, name: str, partitioned: bool = False) -> str:
    table = f"ice.planted.{name}"
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    writer = orders_frame(spark, 2_000, seed=31).writeTo(table).using("iceberg")
    if partitioned:
        from pyspark.sql import functions as F

        writer = writer.partitionedBy(F.col("region"))
    # uncompressed, so a planted byte swap keeps the file valid and the change silent
    writer.tableProperty("write.parquet.compression-codec", "uncompressed").create()
    return table


def test_pruning_and_projection_checks_reject_false_claims(spark: Any) -> None:
    table = _orders_table(spark, "claims", partitioned=True)
    total = data_file_count(spark, table)
    eu = data_file_count(spark, table, "partition.region = 'eu'")
    pruned = scan_evidence(spark.table(table).where("region = 'eu'").select("id"))
    assert pruned is not None and pruning_problems(pruned, eu, total) == []
    assert projection_problems(pruned, {"id", "region"}) == []
    # a filter on a non-partition column cannot prune: claiming it did must fail
    unpruned = scan_evidence(spark.table(table).where("amount_cents < 500").select("id"))
    assert unpruned is not None and unpruned.files_read == total
    problems = pruning_problems(unpruned, eu, total)
    assert problems and problems[0].startswith(f"scan read {total} data files")
    # reading every column while claiming to read only `id` must fail too
    everything = scan_evidence(spark.table(table))
    assert everything is not None
    assert projection_problems(everything, {"id"}) == [
        "scan read columns not asked for: ['amount_cents', 'customer', 'day', 'region']"
    ]


def test_time_travel_check_catches_a_snapshot_that_silently_differs(spark: Any) -> None:
    table = _orders_table(spark, "travel")
    [first] = snapshot_ids(spark, table)
    want = table_checksums(spark, table, first)
    orders_frame(spark, 100, seed=32).writeTo(table).append()
    assert checksum_problems(want, table_checksums(spark, table, first), "snapshot") == []
    files = spark.sql(f"SELECT file_path FROM {table}.files ORDER BY file_path").collect()
    victim = Path(files[0][0].removeprefix("file:"))
    assert plant_byte_swap(victim, b"apac", b"apax") > 0
    problems = checksum_problems(want, table_checksums(spark, table, first), "snapshot")
    assert [p.split(" checksum ")[0] for p in problems] == ["snapshot: column region"]


def test_maintenance_check_catches_a_rewrite_that_changes_data(spark: Any) -> None:
    table = _orders_table(spark, "maintained")
    orders_frame(spark, 100, seed=33).writeTo(table).append()

    def compact() -> None:
        spark.sql(
            "CALL ice.system.rewrite_data_files(table => 'planted.maintained', "
            "options => map('min-input-files', '2'))"
        ).collect()

    assert maintenance_problems(spark, table, compact) == []
    want = column_checksums(spark.table(table))

    def lossy() -> None:  # a "compaction" that drops a row must not pass as maintenance
        spark.sql(f"DELETE FROM {table} WHERE id = 7")

    problems = maintenance_problems(spark, table, lossy)
    assert len(problems) == len(want)
    assert all("after maintenance: column" in p for p in problems)
