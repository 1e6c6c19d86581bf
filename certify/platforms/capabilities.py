"""What this machine can run: Java, GPU, binaries, runtimes, jar routes and services."""

from __future__ import annotations

import functools
import importlib.util
import shutil
import subprocess
from pathlib import Path
from typing import Any

from certify.host.provenance import java_version

SERVICES = ("spark-master", "spark-worker", "spark-connect", "hive-metastore", "seaweedfs")
SERVICES_WITHOUT_PROCESS = ("sql-catalog",)


@functools.lru_cache(maxsize=1)
def gpus() -> tuple[list[str], str | None]:
    """(GPU names from nvidia-smi, None) or ([], why there is none)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return [], "nvidia-smi not found on PATH (no NVIDIA driver on this machine)"
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"nvidia-smi failed: {exc}"
    names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    if out.returncode != 0 or not names:
        return [], f"nvidia-smi found no GPU (exit {out.returncode})"
    return names, None


def has_module(name: str) -> bool:
    """Whether this interpreter can import `name` (without importing it)."""
    return importlib.util.find_spec(name) is not None


def spark_home_of(python: Path) -> Path | None:
    """The pyspark folder (SPARK_HOME) of a virtual environment's interpreter."""
    env = python.parent.parent
    found = sorted(env.glob("lib/python*/site-packages/pyspark"))
    return found[0] if found else None


def host_spark_home() -> Path | None:
    """The pyspark folder of this interpreter, if it has pyspark."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def connect_server_jar(spark_home: Path) -> Path | None:
    """The Spark Connect server jar a pyspark wheel ships (Spark 4 lines only)."""
    found = sorted((spark_home / "jars").glob("spark-connect_*.jar"))
    return found[0] if found else None


def describe(platform: Any) -> dict[str, Any]:
    """The capability report `certify platform info` prints."""
    from certify.platforms.jars import maven_info
    from certify.platforms.local.services.seaweedfs import weed_binary
    from certify.runtimes.envs import _uv

    names, why_no_gpu = gpus()
    weed = weed_binary()
    return {
        "platform": platform.name,
        "java": java_version(),
        "gpu": {"devices": names, "reason": why_no_gpu},
        "binaries": {
            "java": shutil.which("java"),
            "weed": str(weed) if weed else None,
            "uv": _uv(),
            "nvidia-smi": shutil.which("nvidia-smi"),
        },
        "maven": maven_info(),
        "services": list(SERVICES + SERVICES_WITHOUT_PROCESS),
        "python_modules": {m: has_module(m) for m in ("pyspark", "pyiceberg", "boto3")},
    }
