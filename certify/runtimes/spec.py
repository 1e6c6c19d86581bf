"""What a Spark line's runtime must contain, and the hash of those pins that keys its cache."""

from __future__ import annotations

import hashlib
import json
import platform
import re
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from certify.errors import UsageError
from certify.matrix.model import Matrix

# The optional extra of certify that every runtime gets: what fixtures and services need
# (pyiceberg, boto3, the SeaweedFS binary, pytest-xdist). One source of truth: pyproject.toml.
PLATFORM_EXTRA = "platform"


def certify_source() -> Path | None:
    """The source tree certify is installed from (editable installs), or None."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "certify").is_dir() else None


def platform_requirements() -> tuple[str, ...]:
    """Requirement strings of certify itself and its `platform` extra (extra marker removed).

    certify's own requirements are part of the key too: a changed pin of pytest, say, must
    rebuild the runtimes that run the scenarios with it.
    """
    source = certify_source()
    if source is not None:
        # the source tree's own pins: the installed metadata depends on how certify was started
        # (`python -m certify` in the checkout finds the checkout's egg-info, the `certify`
        # script its venv's), and two keys for one tree made each run sweep the other's runtime
        found = _pyproject_requirements(source / "pyproject.toml")
        if found is not None:
            return found
    try:
        requires = metadata.requires("spark-certify") or []
    except metadata.PackageNotFoundError:
        return ()
    marker = re.compile(r";\s*extra\s*==\s*['\"]" + PLATFORM_EXTRA + r"['\"]\s*$")
    core = [r.strip() for r in requires if "extra" not in r]
    extra = [marker.sub("", r).strip() for r in requires if marker.search(r)]
    return tuple(sorted(core + extra))


def _pyproject_requirements(path: Path) -> tuple[str, ...] | None:
    try:
        import tomllib  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # Python 3.10: the installed metadata is all there is
        return None
    project = tomllib.loads(path.read_text()).get("project", {})
    core = [str(r).strip() for r in project.get("dependencies", [])]
    extra = [
        str(r).strip() for r in project.get("optional-dependencies", {}).get(PLATFORM_EXTRA, [])
    ]
    return tuple(sorted(core + extra))


@dataclass(frozen=True)
class RuntimeSpec:
    """The pins of one Spark line's runtime; `key` changes whenever any pin changes."""

    line: str
    pyspark: str
    extras: tuple[str, ...]
    packages: tuple[str, ...]
    python: str

    @property
    def name(self) -> str:
        """The runtime's name in plans and records (`spark-3.5`)."""
        return f"spark-{self.line}"

    @property
    def pyspark_requirement(self) -> str:
        """`pyspark[connect]==4.1.1`."""
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"pyspark{extras}=={self.pyspark}"

    @property
    def key(self) -> str:
        """A short hash of every pin (Python, pyspark and its extras, the other packages)."""
        body = json.dumps(
            {
                "python": self.python,
                "pyspark": self.pyspark_requirement,
                "packages": list(self.packages),
                "machine": platform.machine(),
            },
            sort_keys=True,
        )
        return hashlib.sha256(body.encode()).hexdigest()[:12]

    @property
    def folder(self) -> str:
        """Folder name under the cache (`spark-3.5-1a2b3c4d5e6f`)."""
        return f"{self.name}-{self.key}"


def runtime_specs(matrix: Matrix, lines: list[str] | None = None) -> list[RuntimeSpec]:
    """The runtime of each Spark line of the matrix (or of `lines`), from its value metadata."""
    dim = matrix.spec.dimensions.get("spark")
    if dim is None:
        raise UsageError(f"{matrix.path}: no `spark` dimension, so there are no Spark runtimes")
    known = list(dim.values)
    wanted = lines or known
    unknown = [line for line in wanted if line not in known]
    if unknown:
        raise UsageError(f"unknown Spark line(s) {', '.join(unknown)} (valid: {', '.join(known)})")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    specs = []
    for line in wanted:
        value = dim.spec(line)
        if not value.pyspark:
            raise UsageError(f"{matrix.path}: spark {line!r} has no `pyspark` pin")
        extras = tuple(e for e in value.meta.get("pyspark_extras", "").split(",") if e)
        specs.append(RuntimeSpec(line, value.pyspark, extras, platform_requirements(), python))
    return specs
