"""`certify validate [PATH...]`: check matrix files and print every error at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from certify.config.policy import default_policy_path
from certify.errors import ConfigError, UsageError
from certify.matrix.model import matrix_files, validate_files


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
    issues = validate_files(files)
    if issues:
        raise ConfigError(issues)
    Console(highlight=False).print(f"{len(files)} file(s) valid: " + ", ".join(map(str, files)))
