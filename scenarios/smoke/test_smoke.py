"""Smoke suite: the cell's session starts, its catalog answers, a table and a file round-trip."""

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
    """A job with a shuffle gives the exact answer."""
    total = spark.range(0, 10_000, numPartitions=4).groupBy().sum("id").collect()[0][0]
    assert total == sum(range(10_000))


@pytest.mark.requires(catalog="hive")
def test_catalog_reachable(spark: Any) -> None:
    """The Hive catalog answers, creates a database and lists it."""
    spark.sql("CREATE DATABASE IF NOT EXISTS certify_smoke")
    names = {row[0] for row in spark.sql("SHOW DATABASES").collect()}
    assert {"default", "certify_smoke"} <= names


def test_table_write_and_read(spark: Any) -> None:
    """A small table written through the catalog reads back identical."""
    spark.sql("CREATE DATABASE IF NOT EXISTS certify_smoke")
    frame = spark.createDataFrame(ROWS, "id INT, name STRING, score DOUBLE")
    frame.write.mode("overwrite").saveAsTable("certify_smoke.roundtrip")
    back = spark.table("certify_smoke.roundtrip").collect()
    assert len(back) == len(ROWS)
    assert _digest(back) == _digest(ROWS)


def test_storage_round_trip(spark: Any, storage_root: Path) -> None:
    """Parquet files written to the cell's storage read back identical."""
    target = storage_root / "smoke_parquet"
    frame = spark.createDataFrame(ROWS, "id INT, name STRING, score DOUBLE")
    frame.repartition(3).write.mode("overwrite").parquet(target.as_uri())
    assert any(p.suffix == ".parquet" for p in target.iterdir())
    back = spark.read.parquet(target.as_uri()).collect()
    assert _digest(back) == _digest(ROWS)
