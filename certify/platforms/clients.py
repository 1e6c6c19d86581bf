"""Clients of a cell's lakehouse services, built from its options and credentials.

A cell's options carry the S3 and Iceberg REST endpoints (`options["s3"]`, see
LocalSession.options); credentials only ever come from the environment. Scenario fixtures, chaos
workloads and load profiles all talk to the same services, so they build their clients here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REGION = "us-east-1"


def s3_properties(s3: Mapping[str, Any], key: str, secret: str) -> dict[str, str]:
    """pyiceberg FileIO properties for the cell's S3 endpoint."""
    return {
        "s3.endpoint": str(s3["s3"]),
        "s3.access-key-id": key,
        "s3.secret-access-key": secret,
        "s3.region": str(s3.get("region", REGION)),
    }


def rest_catalog(s3: Mapping[str, Any], key: str, secret: str, **extra: str) -> Any:
    """The pyiceberg REST catalog of SeaweedFS (`extra`: more catalog properties)."""
    from pyiceberg.catalog import load_catalog

    return load_catalog(
        "rest",
        type="rest",
        uri=str(s3["iceberg_rest"]),
        warehouse=f"s3://{s3.get('table_bucket', 'lake')}",
        credential=f"{key}:{secret}",
        **{**s3_properties(s3, key, secret), **extra},
    )


def s3_client(s3: Mapping[str, Any], key: str, secret: str) -> Any:
    """A boto3 S3 client for the cell's object store."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=str(s3["s3"]),
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name=str(s3.get("region", REGION)),
    )
