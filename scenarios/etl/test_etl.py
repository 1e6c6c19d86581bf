"""ETL suite: a deterministic dataset written partitioned and read back exactly; known answers.

Sizes come from ``CERTIFY_ETL_SIZES`` (comma-separated row counts; default ``1000,100000``);
nightly runs set e.g. ``1000,100000,10000000``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from fixtures.data import (
    column_checksums,
    customers_rows,
    expected_region_totals,
    expected_segment_totals,
    orders_frame,
    row_digest,
)

pytestmark = pytest.mark.etl

SIZES = [int(s) for s in os.environ.get("CERTIFY_ETL_SIZES", "1000,100000").split(",") if s]


@pytest.fixture(scope="module")
def etl_db(spark: Any, database: str) -> str:
    """The cell's private database, created in its catalog, for the suite's tables.

    Cells share one metastore: a fixed name here made two cells of one run collide.
    """
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    return database


@pytest.mark.parametrize("rows", SIZES)
def test_partitioned_round_trip_is_exact(spark: Any, etl_db: str, rows: int) -> None:
    """Per-column checksums and per-partition counts survive a partitioned write and read."""
    table = f"{etl_db}.orders_{rows}"
    frame = orders_frame(spark, rows, seed=rows)
    frame.write.mode("overwrite").partitionBy("region").saveAsTable(table)
    back = spark.table(table).select(*frame.columns)
    assert column_checksums(back) == column_checksums(frame)
    counts = {r["region"]: r["count"] for r in back.groupBy("region").count().collect()}
    assert counts == {r: c for r, (c, _) in expected_region_totals(rows, seed=rows).items()}


def test_small_table_matches_the_python_oracle_row_for_row(spark: Any, etl_db: str) -> None:
    """For a small size every row is compared with the pure-Python generator."""
    from fixtures.data import order_row

    frame = orders_frame(spark, 2_000, seed=7)
    frame.write.mode("overwrite").partitionBy("region").saveAsTable(f"{etl_db}.orders_oracle")
    back = spark.table(f"{etl_db}.orders_oracle").select(*frame.columns).collect()
    assert row_digest(back) == row_digest(order_row(i, 7) for i in range(2_000))


@pytest.mark.parametrize("rows", SIZES)
def test_aggregation_has_the_known_answer(spark: Any, rows: int) -> None:
    """Counts and sums per region equal the independently computed answer."""
    from pyspark.sql import functions as F

    result = (
        orders_frame(spark, rows, seed=3)
        .groupBy("region")
        .agg(F.count("*").alias("n"), F.sum("amount_cents").alias("total"))
        .collect()
    )
    assert {r["region"]: (r["n"], r["total"]) for r in result} == expected_region_totals(rows, 3)


@pytest.mark.parametrize("rows", SIZES)
def test_join_has_the_known_answer(spark: Any, rows: int) -> None:
    """Orders joined to customers sum to the known total per segment."""
    from pyspark.sql import functions as F

    customers = spark.createDataFrame(customers_rows(), "customer INT, segment STRING")
    result = (
        orders_frame(spark, rows, seed=5)
        .join(customers, "customer")
        .groupBy("segment")
        .agg(F.sum("amount_cents").alias("total"))
        .collect()
    )
    assert {r["segment"]: r["total"] for r in result} == expected_segment_totals(rows, 5)
