"""What a scenario author needs from certify, and nothing else.

    from certify.scenario import CellContext, ICEBERG_CATALOG, not_applicable, not_run

Scenarios and fixtures import from here; everything under `certify.pytest`, `certify.run` or
`certify.platforms` is internal and may change. The cell under test comes from the `cell`
fixture (a `CellContext`: id, values, tier, workdir and the platform's typed `options`); its
private database from the `database` fixture; S3 credentials only from the environment
(`S3_KEY_VAR`, `S3_SECRET_VAR`, and the read-only identity's `S3_READONLY_*`).
"""

from __future__ import annotations

from certify.cell import (
    CellContext,
    PlatformOptions,
    S3Options,
    SparkOptions,
    SqlCatalogOptions,
    cell_slug,
)
from certify.platforms.clients import rest_catalog, s3_client, s3_properties
from certify.platforms.local.session import (
    S3_KEY_VAR,
    S3_READONLY_KEY_VAR,
    S3_READONLY_SECRET_VAR,
    S3_SECRET_VAR,
)
from certify.cell.options import DRIVERS_VAR
from certify.platforms.sparkconf import (
    BASE_CONF,
    ICEBERG_CATALOG,
    JVM_SETTINGS,
    jvm_key,
    jvm_settings,
    local_driver_conf,
)
from certify.pytest.plugin import not_applicable, not_run
from certify.results import RecordStore

__all__ = [
    "BASE_CONF",
    "DRIVERS_VAR",
    "ICEBERG_CATALOG",
    "JVM_SETTINGS",
    "S3_KEY_VAR",
    "S3_READONLY_KEY_VAR",
    "S3_READONLY_SECRET_VAR",
    "S3_SECRET_VAR",
    "CellContext",
    "PlatformOptions",
    "RecordStore",
    "S3Options",
    "SparkOptions",
    "SqlCatalogOptions",
    "cell_slug",
    "jvm_key",
    "jvm_settings",
    "local_driver_conf",
    "not_applicable",
    "not_run",
    "rest_catalog",
    "s3_client",
    "s3_properties",
]
