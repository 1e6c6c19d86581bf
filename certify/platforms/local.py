"""The embedded local platform: real Spark in local mode on this machine.

This first version runs cells in-process-style (driver and executors in one JVM) with the Hive
catalog on embedded Derby and local storage, in the interpreter certify runs in. Services
(metastore, object store, REST catalog, standalone cluster, Spark Connect) and one runtime per
Spark line plug in here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from certify.matrix.model import Matrix
from certify.plan import PlannedCell
from certify.platforms.base import Runtime
from certify.run.provenance import java_version, package_version

# What this platform provides in-process, per dimension; other values need services or jars.
PROVIDED = {
    "deploy": {"local"},
    "catalog": {"hive"},
    "storage": {"local"},
    "gpu": {"none"},
}

_NEEDS = {
    "deploy": "its services (standalone master/workers, Spark Connect server or a cluster)",
    "catalog": "its jars and catalog service",
    "storage": "its connector jars and an object-store service",
    "gpu": "a GPU (nvidia-smi) and the RAPIDS jar",
}


class LocalPlatform:
    """Runs cells on this machine with real Spark."""

    name = "local"

    def unavailable(self, matrix: Matrix, planned: PlannedCell) -> str | None:
        """Why the cell cannot run here, or None."""
        values = planned.cell.values
        for dim, provided in PROVIDED.items():
            value = values.get(dim)
            if value is not None and value not in provided:
                return (
                    f"{dim}={value} is not provided by the local platform yet: it needs "
                    f"{_NEEDS[dim]}"
                )
        if java_version() is None:
            return (
                "no Java found on PATH: install Java 17 "
                "(apt-get install -y openjdk-17-jre-headless)"
            )
        spark = values.get("spark")
        pin = matrix.value_spec("spark", spark).pyspark if spark else None
        have = package_version("pyspark")
        if pin and have != pin:
            return (
                f"runtime for spark={spark} needs pyspark=={pin}, this interpreter has "
                f"{'pyspark==' + have if have else 'no pyspark'}: install it "
                f"(pip install pyspark=={pin})"
            )
        return None

    def runtime(self, matrix: Matrix, planned: PlannedCell) -> Runtime:
        """This interpreter."""
        return Runtime(planned.runtime, Path(sys.executable), package_version("pyspark"))
