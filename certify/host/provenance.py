"""Where an outcome came from: certify, Python, Java and Spark versions, host, git revision."""

from __future__ import annotations

import functools
import platform
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any


def now() -> str:
    """The current UTC time as ISO-8601 with a `Z`."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def package_version(name: str) -> str | None:
    """Installed version of a distribution, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def java_version() -> str | None:
    """The `java -version` of the Java on PATH (or JAVA_HOME), e.g. `17.0.15`."""
    java = shutil.which("java")
    if java is None:
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "([^"]+)"', out.stderr + out.stdout)
    return match.group(1) if match else None


@functools.lru_cache(maxsize=4)
def git_revision(root: Path) -> str | None:
    """`HEAD` of the repository holding `root`, with `-dirty` if it has uncommitted changes."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


# JSON set by the runner in a cell's environment: the runtime and the jars (with checksums)
PROVENANCE_VAR = "CERTIFY_PROVENANCE"


def collect(root: Path) -> dict[str, Any]:
    """Provenance of this process: every field a record and a report carry."""
    import json
    import os

    try:
        extra = json.loads(os.environ.get(PROVENANCE_VAR, "{}"))
    except ValueError:
        extra = {}
    return {
        **(extra if isinstance(extra, dict) else {}),
        "certify": package_version("spark-certify"),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "pyspark": package_version("pyspark"),
        "java": java_version(),
        "host": platform.node(),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "git_revision": git_revision(root.resolve()),
    }
