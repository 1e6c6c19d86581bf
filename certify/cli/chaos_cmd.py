"""`certify chaos run` and `certify chaos validate`: chaos experiments per cell of a profile."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

chaos_app = typer.Typer(help="Chaos Toolkit experiments per cell.", no_args_is_help=True)


@chaos_app.command("validate")
def validate(
    root: Annotated[Path, typer.Option(help="Project folder holding chaos/")] = Path("."),
) -> None:
    """Validate every experiment in chaos/ (Chaos Toolkit's checks and certify's extension)."""
    from certify.chaos.experiments import validate_all
    from certify.errors import UsageError

    found = validate_all(root.resolve())
    if not found:
        raise UsageError(f"{root.resolve() / 'chaos'}: no experiments (*.json, *.yaml)")
    bad = {n: why for n, why in found.items() if why}
    for name, why in found.items():
        typer.echo(
            f"{'ok     ' if why is None else 'INVALID'} {name}" + (f": {why}" if why else "")
        )
    if bad:
        raise typer.Exit(2)


@chaos_app.command("run")
def run(
    profile: Annotated[str, typer.Option(help="Profile whose chaos experiments to run")],
    matrix: Annotated[Path | None, typer.Option(help="Matrix file")] = None,
    out: Annotated[Path, typer.Option(help="Run folder")] = Path("runs/chaos"),
    experiment: Annotated[
        str | None, typer.Option(help="Run only this experiment (of those the profile plans)")
    ] = None,
    root: Annotated[Path, typer.Option(help="Project folder")] = Path("."),
    no_gate: Annotated[bool, typer.Option("--no-gate", help="Exit 0 whatever the gate")] = False,
) -> None:
    """Start the platform for the profile's cells, run their experiments, report, gate."""
    from certify.cli.run_cmd import KindRun, run_one_kind

    run_one_kind(KindRun("chaos", experiment, profile, matrix, out, root), no_gate)
