"""Clients of a cell's lakehouse services, built from its options and credentials.

A cell's options carry the S3 and Iceberg REST endpoints (`PlatformOptions.s3`, see
LocalSession.options); credentials only ever come from the environment. Scenario fixtures, chaos
workloads and load profiles all talk to the same services, so they build their clients here.
Children that read the options' JSON form may pass its `s3` object as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from certify.cell.options import REGION, S3Options

__all__ = ["REGION", "S3", "connect_session", "rest_catalog", "s3_client", "s3_properties"]

# the typed options, or their JSON form (`options["s3"]` of a cell.json)
S3 = S3Options | Mapping[str, object]


def _typed(s3: S3) -> S3Options:
    return s3 if isinstance(s3, S3Options) else S3Options.from_json(s3)


def s3_properties(s3: S3, key: str, secret: str) -> dict[str, str]:
    """pyiceberg FileIO properties for the cell's S3 endpoint."""
    store = _typed(s3)
    return {
        "s3.endpoint": store.s3,
        "s3.access-key-id": key,
        "s3.secret-access-key": secret,
        "s3.region": store.region,
    }


def rest_catalog(s3: S3, key: str, secret: str, **extra: str) -> Any:
    """The pyiceberg REST catalog of SeaweedFS (`extra`: more catalog properties)."""
    from pyiceberg.catalog import load_catalog

    store = _typed(s3)
    return load_catalog(
        "rest",
        type="rest",
        uri=str(store.iceberg_rest),
        warehouse=f"s3://{store.table_bucket}",
        credential=f"{key}:{secret}",
        **{**s3_properties(store, key, secret), **extra},
    )


def s3_client(s3: S3, key: str, secret: str) -> Any:
    """A boto3 S3 client for the cell's object store."""
    import boto3

    store = _typed(s3)
    return boto3.client(
        "s3",
        endpoint_url=store.s3,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name=store.region,
    )


def connect_session(
    remote: str, settings: Mapping[str, str] | None = None, new: bool = False
) -> Any:
    """A Spark Connect session on `remote` with the cell's own settings (its catalog).

    Cells of a Spark line share one server, so a cell's catalog lives in its session's
    settings (`SparkOptions.session`); `new` makes a fresh session even where one is active.
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.remote(remote)
    for key, value in (settings or {}).items():
        builder = builder.config(key, value)
    return builder.create() if new else builder.getOrCreate()
