"""Spark's settings for Iceberg on Glue, and the AWS identity that stays out of them."""

from __future__ import annotations

from typing import Any

import pytest

from certify.platforms.glue import (
    JVM_IDENTITY_PROPERTIES,
    aws_env,
    glue_catalog_conf,
    glue_warehouse,
    jvm_identity,
)
from certify.platforms.sparkconf import connect_session_setting

PREFIX = "spark.sql.catalog.ice"
GLUE = "http://127.0.0.1:5001"
S3 = "http://127.0.0.1:8333"


def test_the_catalog_is_icebergs_glue_catalog_on_the_given_endpoints() -> None:
    conf = glue_catalog_conf(PREFIX, GLUE, S3, "warehouse")
    assert conf == {
        PREFIX: "org.apache.iceberg.spark.SparkCatalog",
        f"{PREFIX}.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        f"{PREFIX}.glue.endpoint": GLUE,
        f"{PREFIX}.warehouse": "s3://warehouse/glue",
        f"{PREFIX}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        f"{PREFIX}.s3.endpoint": S3,
        f"{PREFIX}.s3.path-style-access": "true",
        f"{PREFIX}.client.region": "us-east-1",
    }


def test_every_setting_is_the_catalogs_own_so_a_connect_session_may_set_it() -> None:
    conf = glue_catalog_conf(PREFIX, GLUE, S3, "warehouse", region="eu-west-1")
    assert all(connect_session_setting(k) for k in conf)
    assert conf[f"{PREFIX}.client.region"] == "eu-west-1"


def test_no_credential_is_ever_part_of_the_settings() -> None:
    conf = glue_catalog_conf(PREFIX, GLUE, S3, "warehouse")
    assert not [k for k in conf if "key" in k or "secret" in k or "credential" in k]


def test_a_trailing_slash_of_an_endpoint_is_dropped() -> None:
    conf = glue_catalog_conf(PREFIX, GLUE + "/", S3 + "/", "warehouse")
    assert conf[f"{PREFIX}.glue.endpoint"] == GLUE
    assert conf[f"{PREFIX}.s3.endpoint"] == S3


@pytest.mark.parametrize(
    ("glue", "s3", "field"),
    [("", S3, "glue_endpoint"), ("127.0.0.1:5001", S3, "glue_endpoint"), (GLUE, "", "s3_endpoint")],
)
def test_a_missing_endpoint_is_an_error_never_a_catalog_that_reaches_aws(
    glue: str, s3: str, field: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: .* not an http\(s\) endpoint"):
        glue_catalog_conf(PREFIX, glue, s3, "warehouse")


def test_the_warehouse_needs_a_bucket() -> None:
    assert glue_warehouse("lake", "/tables/") == "s3://lake/tables"
    with pytest.raises(ValueError, match="bucket"):
        glue_catalog_conf(PREFIX, GLUE, S3, "")


def test_the_aws_environment_names_the_identity_and_turns_instance_metadata_off() -> None:
    assert aws_env("k", "s") == {
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class _System:
    def __init__(self) -> None:
        self.properties: dict[str, str] = {}

    def setProperty(self, name: str, value: str) -> None:  # java.lang.System.setProperty
        self.properties[name] = value


class _Jvm:
    def __init__(self) -> None:
        self.java: Any = type("java", (), {})()
        self.java.lang = type("lang", (), {})()
        self.java.lang.System = _System()


def test_the_driver_jvm_gets_the_identity_as_the_aws_sdks_system_properties() -> None:
    jvm = _Jvm()
    jvm_identity(jvm, "k", "s", region="eu-west-1")
    assert jvm.java.lang.System.properties == {
        "aws.accessKeyId": "k",
        "aws.secretAccessKey": "s",
        "aws.region": "eu-west-1",
        "aws.disableEc2Metadata": "true",
    }
    assert set(JVM_IDENTITY_PROPERTIES) == set(aws_env("k", "s"))
