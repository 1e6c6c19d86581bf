"""`certify load run`: a profile's load entries on its cells, with SLO verdicts and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

load_app = typer.Typer(
    help="Run load profiles (load/NAME.py) on a profile's cells and judge their SLOs.",
    no_args_is_help=True,
)


@load_app.command("run")
def run(
    profile: Annotated[str, typer.Option(help="Matrix profile whose `load:` entries to run")],
    matrix: Annotated[
        Path | None, typer.Option(help="Matrix file (default: the one defining the profile)")
    ] = None,
    out: Annotated[Path, typer.Option(help="Run folder for the report and evidence")] = Path(
        "runs/load"
    ),
    platform: Annotated[str, typer.Option(help="Where cells run")] = "local",
    load: Annotated[
        str | None, typer.Option("--load", help="Run only this load profile of the profile")
    ] = None,
    shape: Annotated[
        str | None, typer.Option(help="Override every entry's shape: ramp, step, spike, soak")
    ] = None,
    seconds: Annotated[
        float | None, typer.Option(min=1, help="Duration of each load run (default: the file's)")
    ] = None,
    no_gate: Annotated[
        bool, typer.Option("--no-gate", help="Exit 0 whatever the gate says")
    ] = False,
    root: Annotated[Path, typer.Option(help="Project folder (matrices/, load/)")] = Path("."),
    policy: Annotated[
        Path | None, typer.Option(help="Release policy (default: ROOT/reports/policy.yaml if any)")
    ] = None,
) -> None:
    """Start the cells' services, run each load entry on each cell, write the report, gate."""
    from certify.cli.run_cmd import KindRun, run_one_kind

    request = KindRun("load", load, profile, matrix, out, root, platform, policy, shape, seconds)
    run_one_kind(request, no_gate)
