"""The suites, chaos experiments and load profiles a matrix's profiles name, found in the project.

A profile entry naming something the project does not have (no `scenarios/NAME/`, no
`chaos/NAME.json|.yaml|.yml`, no `load/NAME.py`) is a configuration error caught by
`certify validate`, `plan` and `run` before any cell starts, located at the entry's line, with
the names that do exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from certify.config.models import MatrixSpec
from certify.config.source import KeyPath, Source
from certify.errors import Issue

# What is wrong inside an existing locustfile (None when nothing is), given its path.
LoadCheck = Callable[[Path], str | None]
# The suffixes certify.chaos.experiments looks an experiment up by, in its order.
EXPERIMENT_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True)
class _Kind:
    """One kind of named thing a profile lists, and where the project keeps it."""

    key: str  # the profile key listing it
    what: str  # as a person calls it
    folder: str  # under the project root

    def paths(self, root: Path, name: str) -> list[Path]:
        """The files or folder that would hold `name`, in look-up order."""
        base = root / self.folder
        if self.key == "suites":
            return [base / name]
        if self.key == "chaos":
            return [base / f"{name}{suffix}" for suffix in EXPERIMENT_SUFFIXES]
        return [base / f"{name}.py"]

    def found(self, root: Path, name: str) -> Path | None:
        """The existing folder (a suite) or file (an experiment, a locustfile) of `name`."""
        for path in self.paths(root, name):
            if path.is_dir() if self.key == "suites" else path.is_file():
                return path
        return None

    def names(self, root: Path) -> list[str]:
        """Every name of this kind the project has."""
        folder = root / self.folder
        if not folder.is_dir():
            return []
        if self.key == "suites":
            found = [p.name for p in folder.iterdir() if p.is_dir()]
        else:
            suffixes = EXPERIMENT_SUFFIXES if self.key == "chaos" else (".py",)
            found = [p.stem for p in folder.iterdir() if p.suffix in suffixes and p.is_file()]
        return sorted(n for n in set(found) if not n.startswith(("_", ".")))

    def missing(self, root: Path, name: str) -> str:
        """The message for a `name` the project lacks."""
        shown = " or ".join(str(p) for p in self.paths(root, name))
        return f"{self.what} {name!r} does not exist (no {shown})"


_KINDS = (
    _Kind("suites", "suite", "scenarios"),
    _Kind("chaos", "chaos experiment", "chaos"),
    _Kind("load", "load profile", "load"),
)


def project_root(matrix: Path, default: Path | None) -> Path | None:
    """The project of a matrix file: ROOT for ROOT/matrices/NAME.yaml, else `default`."""
    folder = matrix.absolute().parent
    return folder.parent if folder.name == "matrices" else default


def _listed(spec: MatrixSpec, profile: str, key: str) -> list[str]:
    entry = spec.profiles[profile]
    if key == "suites":
        return list(entry.suites)
    return [e.name for e in (entry.chaos if key == "chaos" else entry.load)]


def _entries(
    spec: MatrixSpec, source: Source, profile: str, key: str
) -> Iterator[tuple[str, KeyPath]]:
    """The names a profile writes under `key`, each with the key path of its line.

    A default the author did not write (the `smoke` suite of a profile without `suites:`) is
    not checked: it is the default, not a name someone typed.
    """
    if ("profiles", profile, key) not in source.lines:
        return
    for i, name in enumerate(_listed(spec, profile, key)):
        path: KeyPath = ("profiles", profile, key, i)
        named = (*path, "name")
        yield name, (named if named in source.lines else path)


def _broken_locustfile(
    source: Source, path: KeyPath, name: str, found: Path, check_load: LoadCheck
) -> Iterator[Issue]:
    problem = check_load(found)
    if problem:
        yield source.issue(
            path, f"load profile {name!r}: {problem}", f"fix the declarations in {found}"
        )


def reference_issues(
    spec: MatrixSpec,
    source: Source,
    root: Path,
    profiles: Sequence[str] | None = None,
    check_load: LoadCheck | None = None,
) -> list[Issue]:
    """Entries of `profiles` (default: all) naming what `root` lacks, or a broken locustfile."""
    issues: list[Issue] = []
    for profile in spec.profiles if profiles is None else profiles:
        for kind in _KINDS:
            valid: str | None = None  # listed once per kind, when first needed
            for name, path in _entries(spec, source, profile, kind.key):
                found = kind.found(root, name)
                if found is not None:
                    if kind.key == "load" and check_load is not None:
                        issues.extend(_broken_locustfile(source, path, name, found, check_load))
                    continue
                if valid is None:
                    valid = ", ".join(kind.names(root)) or f"none yet under {root / kind.folder}"
                issues.append(source.issue(path, kind.missing(root, name), valid))
    return issues
