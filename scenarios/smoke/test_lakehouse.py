"""Smoke suite, lakehouse clients: pyiceberg on the cell's Iceberg catalog, boto3 on its S3."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from certify.scenario import CellContext

pytestmark = pytest.mark.smoke


@pytest.mark.requires(catalog=["iceberg-rest", "iceberg-sql", "glue"])
def test_pyiceberg_round_trip(iceberg_catalog: Any, database: str) -> None:
    """pyiceberg creates a table, appends twice, scans it and time-travels to the first commit."""
    import pyarrow as pa

    iceberg_catalog.create_namespace_if_not_exists(database)
    name = f"{database}.events"
    if iceberg_catalog.table_exists(name):
        iceberg_catalog.drop_table(name)
    schema = pa.schema([("id", pa.int64()), ("name", pa.string())])
    table = iceberg_catalog.create_table(name, schema=schema)
    table.append(pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}, schema=schema))
    first = table.current_snapshot().snapshot_id
    table.append(pa.table({"id": [4], "name": ["d"]}, schema=schema))
    table = iceberg_catalog.load_table(name)
    assert sorted(table.scan().to_arrow().column("id").to_pylist()) == [1, 2, 3, 4]
    old = table.scan(snapshot_id=first).to_arrow()
    assert sorted(old.column("id").to_pylist()) == [1, 2, 3]
    assert len(table.history()) == 2


@pytest.mark.requires(storage="s3")
def test_s3_object_round_trip(s3_client: Any, s3_bucket: str, cell: CellContext) -> None:
    """An object written under the cell's prefix of its S3 bucket lists and reads back exactly."""
    body = hashlib.sha256(cell.database.encode()).hexdigest().encode() * 1000
    key = cell.names.s3_key("smoke", "object.bin")
    s3_client.put_object(Bucket=s3_bucket, Key=key, Body=body)
    listed = s3_client.list_objects_v2(Bucket=s3_bucket, Prefix=cell.names.s3_key("smoke", ""))
    assert [o["Key"] for o in listed.get("Contents", [])] == [key]
    assert s3_client.get_object(Bucket=s3_bucket, Key=key)["Body"].read() == body
