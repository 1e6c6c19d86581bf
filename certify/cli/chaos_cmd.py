"""`certify chaos run` and `certify chaos validate`: chaos experiments per cell of a profile."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
    from certify.cli.run_cmd import print_summary
    from certify.config.policy import resolve_policy
    from certify.errors import InfrastructureError
    from certify.plan import build_plan, find_profile
    from certify.platforms import get_platform
    from certify.run.partial import only, policy_for
    from certify.run.process import Interrupted
    from certify.run.runner import RunOptions, execute

    root, out = root.resolve(), out.resolve()
    chosen = find_profile(root, profile, matrix)
    plan = only(build_plan(chosen, profile), "chaos", experiment)
    options = RunOptions(
        out=out,
        root=root,
        platform=get_platform("local"),
        argv=tuple(sys.argv),
        policy=policy_for(resolve_policy(root, None), "chaos"),
    )
    try:
        report = execute(chosen, plan, options)
    except Interrupted as exc:
        raise InfrastructureError(f"{exc}; partial report in {out}") from exc
    print_summary(report, out, Console(highlight=False, soft_wrap=True))
    if not report.gate.passed and not no_gate:
        raise typer.Exit(1)
