"""Iceberg suite: snapshots, schema and partition evolution, MERGE/DELETE, pruning, maintenance.

Tables live in the cell's Iceberg catalog (`ice`) under the cell's private namespace. Every
claim is checked against data known independently (the orders dataset's formulas, checksums
taken before a change) or against what the scan really did (scan metrics, the plan's scan
output), through the checks in `fixtures/iceberg_checks.py`.
"""

from __future__ import annotations

from typing import Any

import pytest

from certify.scenario import ICEBERG_CATALOG, not_run
from fixtures.data import column_checksums, order_row, orders_frame, row_digest
from fixtures.iceberg_checks import (
    at_snapshot,
    checksum_problems,
    data_file_count,
    maintenance_problems,
    projection_problems,
    pruning_problems,
    scan_evidence,
    snapshot_ids,
    table_checksums,
)

pytestmark = [pytest.mark.iceberg, pytest.mark.requires(catalog="iceberg-*")]

ROWS = 2_000


@pytest.fixture(scope="module")
def namespace(spark: Any, database: str) -> str:
    """The cell's namespace in the Iceberg catalog."""
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {ICEBERG_CATALOG}.{database}")
    return f"{ICEBERG_CATALOG}.{database}"


def _fresh(spark: Any, table: str, columns: str, partitioned_by: str = "") -> None:
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    clause = f" PARTITIONED BY ({partitioned_by})" if partitioned_by else ""
    spark.sql(f"CREATE TABLE {table} {columns} USING iceberg{clause}")


ORDERS_DDL = "(id BIGINT, customer INT, amount_cents BIGINT, region STRING, day INT)"


def test_snapshot_isolation_and_time_travel(spark: Any, namespace: str) -> None:
    """A reader pinned to a snapshot sees it unchanged after appends, deletes and overwrites."""
    table = f"{namespace}.time_travel"
    _fresh(spark, table, ORDERS_DDL)
    orders_frame(spark, ROWS, seed=1).writeTo(table).append()
    first = snapshot_ids(spark, table)[-1]
    want = column_checksums(orders_frame(spark, ROWS, seed=1))
    pinned = at_snapshot(spark, table, first)
    orders_frame(spark, 500, seed=9).writeTo(table).append()
    spark.sql(f"DELETE FROM {table} WHERE region = 'eu'")
    assert len(snapshot_ids(spark, table)) == 3
    assert checksum_problems(want, column_checksums(pinned), "pinned reader") == []
    by_sql = spark.sql(f"SELECT * FROM {table} VERSION AS OF {first}")
    assert checksum_problems(want, column_checksums(by_sql), "VERSION AS OF") == []
    committed = spark.sql(
        f"SELECT committed_at FROM {table}.snapshots WHERE snapshot_id = {first}"
    ).collect()[0][0]
    by_time = spark.sql(f"SELECT * FROM {table} TIMESTAMP AS OF '{committed}'")
    assert checksum_problems(want, column_checksums(by_time), "TIMESTAMP AS OF") == []
    expected = [order_row(i, 1) for i in range(ROWS)] + [order_row(i, 9) for i in range(500)]
    current = spark.table(table).collect()
    assert row_digest(current) == row_digest(r for r in expected if r[3] != "eu")


def test_schema_evolution_and_old_snapshots(spark: Any, namespace: str) -> None:
    """Add, rename, drop and widen columns; old snapshots still read with their own schema."""
    table = f"{namespace}.evolving"
    _fresh(spark, table, "(id BIGINT, qty INT, note STRING, region STRING)")
    spark.sql(f"INSERT INTO {table} VALUES (1, 10, 'a', 'eu'), (2, 20, 'b', 'us')")
    [before] = snapshot_ids(spark, table)
    spark.sql(f"ALTER TABLE {table} ADD COLUMN score DOUBLE")
    spark.sql(f"ALTER TABLE {table} RENAME COLUMN note TO label")
    spark.sql(f"ALTER TABLE {table} DROP COLUMN region")
    spark.sql(f"ALTER TABLE {table} ALTER COLUMN qty TYPE BIGINT")
    spark.sql(f"INSERT INTO {table} VALUES (3, 3000000000, 'c', 0.5)")
    now = spark.table(table)
    assert dict(now.dtypes) == {
        "id": "bigint",
        "qty": "bigint",
        "label": "string",
        "score": "double",
    }
    assert sorted(tuple(r) for r in now.collect()) == [
        (1, 10, "a", None),
        (2, 20, "b", None),
        (3, 3_000_000_000, "c", 0.5),
    ]
    old = spark.sql(f"SELECT * FROM {table} VERSION AS OF {before}")
    assert old.columns == ["id", "qty", "note", "region"]
    assert sorted(tuple(r) for r in old.collect()) == [(1, 10, "a", "eu"), (2, 20, "b", "us")]


def test_merge_upsert_and_delete(spark: Any, namespace: str) -> None:
    """MERGE updates matched rows and inserts new ones; DELETE removes exactly its predicate."""
    table = f"{namespace}.merged"
    _fresh(spark, table, ORDERS_DDL)
    orders_frame(spark, ROWS, seed=2).writeTo(table).append()
    # updates for ids 1500..2499: the first 500 exist (update), the rest are new (insert)
    orders_frame(spark, ROWS + 500, seed=3).where("id >= 1500").createOrReplaceTempView("updates")
    spark.sql(
        f"MERGE INTO {table} t USING updates u ON t.id = u.id "
        "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
    )
    expected = {i: order_row(i, 2) for i in range(1500)}
    expected.update({i: order_row(i, 3) for i in range(1500, ROWS + 500)})
    assert row_digest(spark.table(table).collect()) == row_digest(expected.values())
    spark.sql(f"DELETE FROM {table} WHERE amount_cents < 50000 AND region = 'us'")
    left = [r for r in expected.values() if not (r[2] < 50000 and r[3] == "us")]
    assert len(left) < len(expected)
    assert row_digest(spark.table(table).collect()) == row_digest(left)


def test_partition_evolution(spark: Any, namespace: str) -> None:
    """A new partition spec applies to new files only; all data reads back under both specs."""
    table = f"{namespace}.repartitioned"
    _fresh(spark, table, ORDERS_DDL, "region")
    orders_frame(spark, ROWS, seed=4).writeTo(table).append()
    spark.sql(f"ALTER TABLE {table} ADD PARTITION FIELD bucket(4, customer) AS cust_bucket")
    spark.sql(f"ALTER TABLE {table} DROP PARTITION FIELD region")
    orders_frame(spark, 1_000, seed=5).where("id >= 0").selectExpr(
        "id + 100000 AS id", "customer", "amount_cents", "region", "day"
    ).writeTo(table).append()
    # each ALTER makes a spec; old files keep spec 0, new files get the last one
    specs = sorted(r[0] for r in spark.sql(f"SELECT DISTINCT spec_id FROM {table}.files").collect())
    assert len(specs) == 2 and specs[0] == 0, specs
    new = spark.sql(f"SELECT partition FROM {table}.files WHERE spec_id = {specs[1]}").collect()
    assert new and all(r[0].asDict()["cust_bucket"] is not None for r in new)
    assert all(r[0].asDict().get("region") is None for r in new)
    expected = [order_row(i, 4) for i in range(ROWS)]
    expected += [(i + 100_000, *order_row(i, 5)[1:]) for i in range(1_000)]
    assert row_digest(spark.table(table).collect()) == row_digest(expected)


def test_partition_pruning_proven_by_scan_metrics(spark: Any, namespace: str) -> None:
    """A partition filter reads only the files the `files` table lists for that partition."""
    table = f"{namespace}.pruned"
    _fresh(spark, table, ORDERS_DDL, "region")
    orders_frame(spark, ROWS, seed=6).writeTo(table).append()
    frame = spark.table(table).where("region = 'eu'").select("id", "amount_cents")
    evidence = scan_evidence(frame)
    if evidence is None:
        not_run("no scan metrics reached this client (neither py4j nor Spark Connect metrics)")
    matching = data_file_count(spark, table, "partition.region = 'eu'")
    assert pruning_problems(evidence, matching, data_file_count(spark, table)) == []
    want = [(r[0], r[2]) for r in (order_row(i, 6) for i in range(ROWS)) if r[3] == "eu"]
    assert row_digest(frame.collect()) == row_digest(want)


def test_column_projection_proven_by_the_plan(spark: Any, namespace: str) -> None:
    """Selecting two of five columns makes the Iceberg scan read only those two."""
    table = f"{namespace}.projected"
    _fresh(spark, table, ORDERS_DDL)
    orders_frame(spark, ROWS, seed=7).writeTo(table).append()
    frame = spark.table(table).select("id", "day")
    evidence = scan_evidence(frame)
    if evidence is None:
        not_run("no scan evidence reached this client (neither py4j nor Spark Connect metrics)")
    assert projection_problems(evidence, {"id", "day"}) == []
    assert row_digest(frame.collect()) == row_digest(
        (r[0], r[4]) for r in (order_row(i, 7) for i in range(ROWS))
    )


def test_compaction_and_snapshot_expiry_keep_data_identical(spark: Any, namespace: str) -> None:
    """rewrite_data_files and expire_snapshots change files and history, never the data."""
    table = f"{namespace}.maintained"
    name = table.split(".", 1)[1]
    _fresh(spark, table, ORDERS_DDL)
    for seed in range(4):  # four commits of small files to compact
        orders_frame(spark, 500, seed=10 + seed, partitions=2).selectExpr(
            f"id + {seed * 1000} AS id", "customer", "amount_cents", "region", "day"
        ).writeTo(table).append()
    files_before = data_file_count(spark, table)
    want = table_checksums(spark, table)

    def compact() -> None:
        spark.sql(
            f"CALL {ICEBERG_CATALOG}.system.rewrite_data_files(table => '{name}', "
            "options => map('min-input-files', '2'))"
        ).collect()

    assert maintenance_problems(spark, table, compact) == []
    assert data_file_count(spark, table) < files_before
    assert len(snapshot_ids(spark, table)) == 5

    # every snapshot but the current one is older than this (a literal: procedure arguments are)
    cutoff = spark.sql(
        f"SELECT CAST(max(committed_at) + INTERVAL 1 SECOND AS STRING) FROM {table}.snapshots"
    ).collect()[0][0]

    def expire() -> None:
        spark.sql(
            f"CALL {ICEBERG_CATALOG}.system.expire_snapshots(table => '{name}', "
            f"older_than => TIMESTAMP '{cutoff}', retain_last => 1)"
        ).collect()

    assert maintenance_problems(spark, table, expire) == []
    assert len(snapshot_ids(spark, table)) == 1
    assert checksum_problems(want, table_checksums(spark, table), "after both") == []
