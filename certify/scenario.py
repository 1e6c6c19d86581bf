"""What a scenario author needs from certify, and nothing else.

    from certify.scenario import CellContext, ICEBERG_CATALOG, not_applicable, not_run

Scenarios and fixtures import from here; everything under `certify.pytest`, `certify.run` or
`certify.platforms` is internal and may change. The cell under test comes from the `cell`
fixture (a `CellContext`: id, values, tier, workdir and the platform's typed `options`); its
private database from the `database` fixture and every other name it makes in a shared
service from `cell.names` (`CellNames`: S3 key prefix, SQL warehouse prefix), cleaned up after
the cell unless `KEEP_VAR` is set (`certify run --keep`); S3 credentials only from the environment
(`S3_KEY_VAR`, `S3_SECRET_VAR`, and the read-only identity's `S3_READONLY_*`).
"""

from __future__ import annotations

from certify.cell import (
    KEEP_VAR,
    CellContext,
    CellNames,
    PlatformOptions,
    S3Options,
    SparkOptions,
    SqlCatalogOptions,
    cell_slug,
    keep_requested,
    run_database_name,
)
from certify.cell.options import DRIVERS_VAR
from certify.platforms.clients import connect_session, rest_catalog, s3_client, s3_properties
from certify.platforms.glue import GLUE_SERVICE, glue_catalog, jvm_identity
from certify.platforms.gpu import PLUGIN as RAPIDS_PLUGIN
from certify.platforms.gpu import gpu_plan_check
from certify.platforms.local.session import (
    S3_KEY_VAR,
    S3_READONLY_KEY_VAR,
    S3_READONLY_SECRET_VAR,
    S3_SECRET_VAR,
)
from certify.platforms.sparkconf import (
    BASE_CONF,
    ICEBERG_CATALOG,
    JVM_SETTINGS,
    is_iceberg,
    jvm_key,
    jvm_settings,
    local_driver_conf,
)
from certify.pytest.plugin import not_applicable, not_run
from certify.results import RecordStore

__all__ = [
    "BASE_CONF",
    "DRIVERS_VAR",
    "GLUE_SERVICE",
    "ICEBERG_CATALOG",
    "JVM_SETTINGS",
    "KEEP_VAR",
    "RAPIDS_PLUGIN",
    "S3_KEY_VAR",
    "S3_READONLY_KEY_VAR",
    "S3_READONLY_SECRET_VAR",
    "S3_SECRET_VAR",
    "CellContext",
    "CellNames",
    "PlatformOptions",
    "RecordStore",
    "S3Options",
    "SparkOptions",
    "SqlCatalogOptions",
    "cell_slug",
    "connect_session",
    "glue_catalog",
    "gpu_plan_check",
    "is_iceberg",
    "jvm_identity",
    "jvm_key",
    "jvm_settings",
    "keep_requested",
    "local_driver_conf",
    "not_applicable",
    "not_run",
    "rest_catalog",
    "run_database_name",
    "s3_client",
    "s3_properties",
]
