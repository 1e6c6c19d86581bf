"""`certify validate [PATH...]`: check matrix files and print every error at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from certify.config.policy import default_policy_path
from certify.errors import ConfigError, ProfileError, UsageError
from certify.matrix.model import matrix_files, validate_files


def locustfile_problem(path: Path) -> str | None:
    """What is wrong in the declarations of the locustfile `path` (None when nothing is).

    Read without importing it (and so without locust), as a load run would read it.
    """
    from certify.load.profile import read_profile

    try:
        read_profile(path.parent.parent, path.stem)
    except ProfileError as exc:
        return str(exc).removeprefix(f"{path}: ")
    return None


def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Matrix or policy files (default: matrices/*.yaml + reports/policy.yaml)"
        ),
    ] = None,
    root: Annotated[Path, typer.Option(help="Project folder holding matrices/")] = Path("."),
) -> None:
    """Validate matrix and policy files; exit 2 with every error as `file:line: key: what`."""
    files = list(paths) if paths else matrix_files(root)
    if not files:
        raise UsageError(f"no matrix files under {root / 'matrices'} and none given")
    policy = default_policy_path(root)
    if not paths and policy.is_file():
        files.append(policy)
    issues = validate_files(files, root, locustfile_problem)
    if issues:
        raise ConfigError(issues)
    Console(highlight=False).print(f"{len(files)} file(s) valid: " + ", ".join(map(str, files)))
