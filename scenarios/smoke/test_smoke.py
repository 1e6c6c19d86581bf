"""Smoke suite, Spark: the session starts, the catalog answers, a table and a file round-trip.

Tables go to a database private to the cell (`database` fixture): cells of a run share one
metastore or catalog service.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.smoke

ROWS = [(i, f"name-{i}", i * 0.5) for i in range(100)]


def _digest(rows: list[Any]) -> str:
    """Order-independent checksum of rows."""
    lines = sorted(repr(tuple(r)) for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_session_runs_a_job(spark: Any) -> None:
    """A job with a shuffle gives the exact answer (on the cell's executors)."""
    total = spark.range(0, 10_000, numPartitions=4).groupBy().sum("id").collect()[0][0]
    assert total == sum(range(10_000))


def test_catalog_reachable(spark: Any, database: str) -> None:
    """The cell's catalog answers: it creates a database (namespace) and lists it."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    names = {row[0] for row in spark.sql("SHOW DATABASES").collect()}
    assert database in names


def test_table_write_and_read(spark: Any, database: str) -> None:
    """A small table written through the catalog reads back identical."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    frame = spark.createDataFrame(ROWS, "id INT, name STRING, score DOUBLE")
    frame.write.mode("overwrite").saveAsTable(f"{database}.roundtrip")
    back = spark.table(f"{database}.roundtrip").collect()
    assert len(back) == len(ROWS)
    assert _digest(back) == _digest(ROWS)


@pytest.mark.requires(storage="local")
def test_storage_round_trip(spark: Any, storage_root: Path) -> None:
    """Parquet files written to the cell's storage read back identical."""
    target = storage_root / "smoke_parquet"
    frame = spark.createDataFrame(ROWS, "id INT, name STRING, score DOUBLE")
    frame.repartition(3).write.mode("overwrite").parquet(target.as_uri())
    assert any(p.suffix == ".parquet" for p in target.iterdir())
    back = spark.read.parquet(target.as_uri()).collect()
    assert _digest(back) == _digest(ROWS)


@pytest.mark.requires(catalog="iceberg-*")
def test_iceberg_table_has_snapshots(spark: Any, database: str) -> None:
    """An Iceberg table keeps one snapshot per commit and reads an older one back."""
    table = f"{database}.snapshots"
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    spark.sql(f"CREATE TABLE {table} (id INT, name STRING) USING iceberg")
    spark.sql(f"INSERT INTO {table} VALUES (1, 'a'), (2, 'b')")
    spark.sql(f"INSERT INTO {table} VALUES (3, 'c')")
    snapshots = spark.sql(f"SELECT snapshot_id FROM {table}.snapshots ORDER BY committed_at")
    ids = [r[0] for r in snapshots.collect()]
    assert len(ids) == 2
    # SQL time travel: Iceberg 1.11 for Spark 4.1 dropped the `snapshot-id` read option
    first = spark.sql(f"SELECT * FROM {table} VERSION AS OF {int(ids[0])}").collect()
    assert sorted(r[0] for r in first) == [1, 2]
    assert spark.table(table).count() == 3
