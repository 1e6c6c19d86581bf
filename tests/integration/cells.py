"""The cells the local platform's acceptance runs use, as a matrix derived from platform.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]

BASE = {"gpu": "none"}
STANDALONE_HIVE = {"spark": "3.5", "catalog": "hive", "storage": "local", "deploy": "standalone"}
STANDALONE_ICEBERG_HADOOP = {**STANDALONE_HIVE, "catalog": "iceberg-hadoop"}
STANDALONE_ICEBERG_HIVE = {**STANDALONE_HIVE, "catalog": "iceberg-hive"}
CONNECT_HIVE = {"spark": "4.1", "catalog": "hive", "storage": "local", "deploy": "connect"}
REST_S3 = {"spark": "3.5", "catalog": "iceberg-rest", "storage": "s3", "deploy": "local"}
SQL_LOCAL = {"spark": "3.5", "catalog": "iceberg-sql", "storage": "local", "deploy": "local"}
HIVE_S3 = {"spark": "3.5", "catalog": "hive", "storage": "s3", "deploy": "local"}
GPU = {
    "spark": "3.5",
    "catalog": "hive",
    "storage": "local",
    "deploy": "standalone",
    "gpu": "nvidia",
}

PROFILES: dict[str, list[dict[str, str]]] = {
    "platform-standalone": [STANDALONE_HIVE, STANDALONE_ICEBERG_HADOOP, STANDALONE_ICEBERG_HIVE],
    "platform-connect": [CONNECT_HIVE],
    "platform-pyiceberg": [REST_S3, SQL_LOCAL],
    "platform-unrunnable": [HIVE_S3, GPU],
    "platform-two-runtimes": [STANDALONE_HIVE, CONNECT_HIVE],
    "platform-35-hive": [STANDALONE_HIVE],
}


def cell_id(values: dict[str, str]) -> str:
    """The id of a cell of platform.yaml (dimension order: spark, catalog, storage, gpu, deploy)."""
    full = {**BASE, **values}
    return ",".join(f"{d}={full[d]}" for d in ("spark", "catalog", "storage", "gpu", "deploy"))


def write_matrix(folder: Path, profiles: dict[str, list[dict[str, str]]] | None = None) -> Path:
    """platform.yaml with its profiles replaced by `profiles` (default: PROFILES)."""
    spec: dict[str, Any] = yaml.safe_load((ROOT / "matrices" / "platform.yaml").read_text())
    spec["name"] = "platform-acceptance"
    spec["profiles"] = {
        name: {
            "tiers": ["certified", "documented", "experimental"],
            "select": [{**BASE, **c} for c in cells],
            "reduction": "full",
            "suites": ["smoke"],
        }
        for name, cells in (profiles or PROFILES).items()
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "platform-acceptance.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path
