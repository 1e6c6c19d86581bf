"""`certify load run`: a profile's load entries on its cells, with SLO verdicts and a report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
    plan = only(build_plan(chosen, profile), "load", load)
    options = RunOptions(
        out=out,
        root=root,
        platform=get_platform(platform),
        argv=tuple(sys.argv),
        policy=policy_for(resolve_policy(root, policy), "load"),
        load_shape=shape,
        load_seconds=seconds,
    )
    try:
        report = execute(chosen, plan, options)
    except Interrupted as exc:
        raise InfrastructureError(f"{exc}; partial report in {out}") from exc
    print_summary(report, out, Console(highlight=False, soft_wrap=True))
    if not report.gate.passed and not no_gate:
        raise typer.Exit(1)
