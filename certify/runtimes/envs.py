"""The runtime cache: one virtual environment per Spark line, keyed by the hash of its pins.

An environment is ready once its marker file exists; the marker is written last, so a build that
was interrupted is never mistaken for a ready one and is rebuilt from scratch. Builds of the same
runtime by concurrent certify processes are serialised by a file lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from certify.errors import InfrastructureError
from certify.host.provenance import now
from certify.runtimes.spec import PLATFORM_EXTRA, RuntimeSpec, certify_source

ENV_DIR_VAR = "CERTIFY_ENV_DIR"
INSTALLER_VAR = "CERTIFY_INSTALLER"
MARKER = "certify-env.json"
_BUILD_TIMEOUT_S = 1800.0


def env_dir(option: Path | None = None) -> Path:
    """The cache folder: the option, else $CERTIFY_ENV_DIR, else `.certify/envs` here."""
    if option is not None:
        return option.resolve()
    from_env = os.environ.get(ENV_DIR_VAR)
    return Path(from_env).resolve() if from_env else Path(".certify", "envs").resolve()


def installer() -> str:
    """`uv` when it is installed (much faster), else `pip`; $CERTIFY_INSTALLER overrides."""
    chosen = os.environ.get(INSTALLER_VAR, "")
    if chosen in ("uv", "pip"):
        return chosen
    return "uv" if _uv() else "pip"


def _uv() -> str | None:
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.exists() else shutil.which("uv")


@dataclass(frozen=True)
class EnvStatus:
    """One runtime in the cache: ready, missing, or built for other pins (stale)."""

    spec: RuntimeSpec
    path: Path
    state: str
    stale: tuple[Path, ...]
    built: str | None = None
    size_mb: float | None = None

    def to_json(self) -> dict[str, object]:
        """The row `certify env list --format json` prints."""
        return {
            "runtime": self.spec.name,
            "line": self.spec.line,
            "pyspark": self.spec.pyspark_requirement,
            "key": self.spec.key,
            "path": str(self.path),
            "state": self.state,
            "built": self.built,
            "stale": [str(p) for p in self.stale],
        }


class EnvCache:
    """Builds, finds and lists runtime environments under one cache folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, spec: RuntimeSpec) -> Path:
        """Where the runtime of `spec` lives (whether or not it is built)."""
        return self.root / spec.folder

    def python(self, spec: RuntimeSpec) -> Path:
        """The runtime's interpreter."""
        return self.path(spec) / "bin" / "python"

    def ready(self, spec: RuntimeSpec) -> bool:
        """True when the runtime was built completely for exactly these pins."""
        marker = self.path(spec) / MARKER
        if not marker.is_file() or not self.python(spec).exists():
            return False
        try:
            return bool(json.loads(marker.read_text()).get("key") == spec.key)
        except (OSError, ValueError):
            return False

    def status(self, spec: RuntimeSpec) -> EnvStatus:
        """The state of one runtime in the cache."""
        stale = tuple(
            p
            for p in sorted(self.root.glob(f"{spec.name}-*"))
            if p.is_dir() and p.name != spec.folder
        )
        if not self.ready(spec):
            return EnvStatus(spec, self.path(spec), "missing", stale)
        marker = json.loads((self.path(spec) / MARKER).read_text())
        return EnvStatus(spec, self.path(spec), "ready", stale, marker.get("built"))

    def ensure(self, spec: RuntimeSpec, echo: bool = True) -> Path:
        """The runtime's interpreter, building the runtime first if it is not ready."""
        if self.ready(spec):
            return self.python(spec)
        with self._lock(spec):
            if not self.ready(spec):  # another process may have built it while we waited
                self._build(spec, echo)
        return self.python(spec)

    def sync(self, spec: RuntimeSpec, echo: bool = True) -> tuple[Path, bool]:
        """Build the runtime if needed and drop builds for older pins; (python, rebuilt)."""
        rebuilt = not self.ready(spec)
        python = self.ensure(spec, echo)
        for old in self.status(spec).stale:
            shutil.rmtree(old, ignore_errors=True)
            old.with_suffix(".lock").unlink(missing_ok=True)
        return python, rebuilt

    @contextmanager
    def _lock(self, spec: RuntimeSpec) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / f"{spec.folder}.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _build(self, spec: RuntimeSpec, echo: bool) -> None:
        target = self.path(spec)
        shutil.rmtree(target, ignore_errors=True)
        log = self.root / f"{spec.folder}.log"
        tool = installer()
        if echo:
            print(
                f"certify: building runtime {spec.name} ({spec.pyspark_requirement}) with {tool} "
                f"in {target}; log: {log}",
                file=sys.stderr,
                flush=True,
            )
        started = time.monotonic()
        log.write_text("")
        for argv in _commands(tool, spec, target):
            with log.open("a") as out:
                out.write("$ " + " ".join(argv) + "\n")
            rc = _call(argv, log)
            if rc != 0:
                shutil.rmtree(target, ignore_errors=True)
                raise InfrastructureError(
                    f"building runtime {spec.name} failed ({Path(argv[0]).name} exited {rc}): "
                    f"{_tail(log)} (full log: {log})"
                )
        marker = {
            "key": spec.key,
            "spec": spec.__dict__,
            "built": now(),
            "installer": tool,
            "build_s": round(time.monotonic() - started, 1),
        }
        (target / MARKER).write_text(json.dumps(marker, indent=2, default=list) + "\n")


def _commands(tool: str, spec: RuntimeSpec, target: Path) -> list[list[str]]:
    """The venv and install commands for `spec` with `tool`."""
    python = str(target / "bin" / "python")
    source = certify_source()
    if source is None:
        raise InfrastructureError(
            "certify is not installed from a source tree, so a runtime cannot install it: "
            "install certify with `pip install -e <checkout>`"
        )
    wanted = [spec.pyspark_requirement, "-e", f"{source}[{PLATFORM_EXTRA}]"]
    if tool == "uv":
        uv = _uv() or "uv"
        return [
            [uv, "venv", "--quiet", "--python", sys.executable, str(target)],
            [uv, "pip", "install", "--quiet", "--python", python, *wanted],
        ]
    return [
        [sys.executable, "-m", "venv", str(target)],
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
    ]


def _call(argv: list[str], log: Path) -> int:
    from certify.host.process import run_supervised

    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    return run_supervised(argv, log, Path.cwd(), env, _BUILD_TIMEOUT_S)


def _tail(log: Path, lines: int = 8) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])
