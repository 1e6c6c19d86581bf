"""Iceberg tables in the AWS Glue Data Catalog: Spark's settings, pyiceberg's catalog, identity.

Table data lives in the cell's S3 (SeaweedFS locally) under `s3://BUCKET/glue`; the catalog
is Glue at an explicit endpoint (moto's server locally). Credentials never appear in settings:
S3FileIO takes the cell's S3 keys from the session fixture (as for iceberg-rest), and Glue's
client has no catalog property for keys, so its AWS SDK reads them from the driver JVM's
system properties (`jvm_identity`) or from the standard `AWS_*` environment (`aws_env`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from certify.cell.options import REGION, S3Options

GLUE_SERVICE = "glue"  # the service's name, and its key in `PlatformOptions.services`
WAREHOUSE_PATH = "glue"  # tables' default location under the bucket: s3://BUCKET/glue/DB.db/T
GLUE_CATALOG_IMPL = "org.apache.iceberg.aws.glue.GlueCatalog"
S3_FILE_IO = "org.apache.iceberg.aws.s3.S3FileIO"


def _endpoint(field: str, value: str) -> str:
    # without an explicit endpoint the AWS SDK calls the real AWS service: never from certify
    if not value.startswith(("http://", "https://")):
        raise ValueError(
            f"{field}: {value!r} is not an http(s) endpoint (without one the catalog reaches AWS)"
        )
    return value.rstrip("/")


def glue_warehouse(bucket: str, path: str = WAREHOUSE_PATH) -> str:
    """Where Glue tables live by default: `s3://bucket/path` (the same for Spark and pyiceberg)."""
    if not bucket:
        raise ValueError("bucket: empty (Glue tables need an S3 bucket)")
    return f"s3://{bucket}/{path.strip('/')}"


def glue_catalog_conf(
    prefix: str, glue_endpoint: str, s3_endpoint: str, bucket: str, region: str = REGION
) -> dict[str, str]:
    """Spark settings of an Iceberg catalog at `prefix` (`spark.sql.catalog.NAME`) on Glue.

    Every key is under `prefix`, so a Spark Connect session may set them all itself. Needs
    iceberg-spark-runtime and iceberg-aws-bundle (Glue client, S3FileIO) on the classpath.
    """
    return {
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        f"{prefix}.catalog-impl": GLUE_CATALOG_IMPL,
        f"{prefix}.glue.endpoint": _endpoint("glue_endpoint", glue_endpoint),
        f"{prefix}.warehouse": glue_warehouse(bucket),
        f"{prefix}.io-impl": S3_FILE_IO,
        f"{prefix}.s3.endpoint": _endpoint("s3_endpoint", s3_endpoint),
        f"{prefix}.s3.path-style-access": "true",
        f"{prefix}.client.region": region,
    }


def glue_catalog(glue_endpoint: str, s3: S3Options, key: str, secret: str, **extra: str) -> Any:
    """pyiceberg's Glue catalog at `glue_endpoint`, its tables in `s3`'s bucket (`extra`: more
    catalog properties). The one AWS identity (`key`, `secret`) signs Glue and S3 requests."""
    from pyiceberg.catalog import load_catalog

    properties = {
        "glue.endpoint": _endpoint("glue_endpoint", glue_endpoint),
        "glue.region": s3.region,
        "glue.access-key-id": key,
        "glue.secret-access-key": secret,
        "warehouse": glue_warehouse(s3.bucket),
        "s3.endpoint": _endpoint("s3_endpoint", s3.s3),
        "s3.access-key-id": key,
        "s3.secret-access-key": secret,
        "s3.region": s3.region,
    }
    return load_catalog("glue", type="glue", **{**properties, **extra})


def aws_env(key: str, secret: str, region: str = REGION) -> dict[str, str]:
    """The standard AWS environment of a process whose AWS SDK must sign with `key` (a Spark
    Connect server's Glue client); the instance-metadata lookup is off, so a missing key fails
    at once instead of calling a link-local address."""
    return {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


# AWS SDK v2's system properties for the same (SystemPropertyCredentialsProvider comes first
# in its default chain, before the environment, so a reused driver JVM takes the cell's own)
JVM_IDENTITY_PROPERTIES: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "aws.accessKeyId",
    "AWS_SECRET_ACCESS_KEY": "aws.secretAccessKey",
    "AWS_REGION": "aws.region",
    "AWS_EC2_METADATA_DISABLED": "aws.disableEc2Metadata",
}


def jvm_identity(jvm: Any, key: str, secret: str, region: str = REGION) -> None:
    """Give a running driver JVM (pyspark's `SparkContext._jvm`) the AWS identity of its Glue
    client as system properties: never on its command line, in its settings or in a log."""
    system = jvm.java.lang.System
    for variable, value in aws_env(key, secret, region).items():
        system.setProperty(JVM_IDENTITY_PROPERTIES[variable], value)
