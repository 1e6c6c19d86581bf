"""Interop suite: Spark and pyiceberg read each other's Iceberg tables; Hive tables cross lines.

Spark -> pyiceberg: pyiceberg opens the Spark-written table from its current metadata file
(`StaticTable.from_metadata`). pyiceberg -> Spark: pyiceberg writes through its SQL catalog
(SQLite, in the cell's storage) and Spark loads that table's metadata file as a path. Both are
compared with the orders dataset computed in pure Python and with Spark's own column checksums.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from certify.scenario import ICEBERG_CATALOG, not_applicable
from fixtures.data import column_checksums, orders_frame
from fixtures.interop import (
    ORDER_COLUMNS,
    current_metadata,
    digest_problems,
    line_table_problems,
    other_line_tables,
    pyiceberg_append,
    pyiceberg_rows,
    pyiceberg_write,
    spark_line,
    spark_read_metadata,
    write_line_table,
)

pytestmark = pytest.mark.interop

ROWS = 2_000


@pytest.mark.requires(catalog="iceberg-*", storage="local")
def test_spark_written_table_reads_identically_in_pyiceberg(
    spark: Any, database: str, iceberg_io: dict[str, str]
) -> None:
    """pyiceberg reads a Spark-written table (two commits) row for row as the dataset."""
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {ICEBERG_CATALOG}.{database}")
    table = f"{ICEBERG_CATALOG}.{database}.from_spark"
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    orders_frame(spark, ROWS // 2, seed=21).writeTo(table).using("iceberg").create()
    orders_frame(spark, ROWS, seed=21).where(f"id >= {ROWS // 2}").writeTo(table).append()
    got = pyiceberg_rows(current_metadata(spark, table), iceberg_io)
    assert digest_problems(got, ROWS, 21, "pyiceberg") == []
    assert column_checksums(spark.table(table)) == column_checksums(
        orders_frame(spark, ROWS, seed=21)
    )


@pytest.mark.requires(catalog="iceberg-*", storage="local")
def test_pyiceberg_written_table_reads_identically_in_spark(spark: Any, storage_root: Path) -> None:
    """Spark reads a pyiceberg-written table with the same checksums as its own dataset."""
    metadata = pyiceberg_write(storage_root / "pyiceberg", "orders", ROWS, seed=22)
    frame = spark_read_metadata(spark, metadata)
    assert column_checksums(frame) == column_checksums(orders_frame(spark, ROWS, seed=22))
    assert digest_problems([tuple(r) for r in frame.collect()], ROWS, 22, "Spark") == []


@pytest.mark.requires(catalog=["iceberg-rest", "iceberg-sql", "glue"])
def test_spark_and_pyiceberg_share_tables_through_the_cells_catalog(
    spark: Any, iceberg_catalog: Any, database: str
) -> None:
    """Through the one catalog service, by name (no metadata path handed over): pyiceberg
    loads Spark's table and Spark reads pyiceberg's, each row for row the dataset."""
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {ICEBERG_CATALOG}.{database}")
    table = f"{ICEBERG_CATALOG}.{database}.via_catalog_spark"
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    orders_frame(spark, ROWS, seed=23).writeTo(table).using("iceberg").create()
    arrow = iceberg_catalog.load_table(f"{database}.via_catalog_spark").scan().to_arrow()
    got = [tuple(r[c] for c in ORDER_COLUMNS) for r in arrow.to_pylist()]
    assert digest_problems(got, ROWS, 23, "pyiceberg") == []
    pyiceberg_append(iceberg_catalog, f"{database}.via_catalog_pyiceberg", ROWS, seed=24)
    frame = spark.table(f"{ICEBERG_CATALOG}.{database}.via_catalog_pyiceberg")
    rows = [tuple(r) for r in frame.select(*ORDER_COLUMNS).collect()]
    assert digest_problems(rows, ROWS, 24, "Spark") == []


@pytest.mark.requires(catalog="hive")
def test_hive_tables_read_by_the_spark_line_that_did_not_write_them(
    spark: Any, run_database: str
) -> None:
    """Another Spark line's Hive table in the shared metastore reads with its writer's checksums.

    Every cell writes its line's table into the run's shared database first, so whichever line
    runs second checks the first.
    """
    write_line_table(spark, run_database, ROWS, seed=23)
    others = other_line_tables(spark, run_database)
    if not others:
        # nothing to check yet is not a gap of this cell: its table is what a later line checks
        not_applicable(
            f"no interop Hive table written by a Spark line other than {spark_line(spark)} is in "
            "this cell's metastore yet: run the interop suite on hive cells of two Spark lines "
            "that share one metastore (e.g. spark=3.5 deploy=standalone and spark=4.1 "
            "deploy=connect in one `certify run`), the later one checks the earlier one"
        )
    problems = [p for table in sorted(others) for p in line_table_problems(spark, table, ROWS, 23)]
    assert problems == [], others
