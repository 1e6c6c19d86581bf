"""`certify run`: certify every cell of a profile and exit with the gate's verdict."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from certify.config.policy import resolve_policy
from certify.errors import InfrastructureError
from certify.plan import build_plan, find_profile
from certify.platforms import get_platform
from certify.report import Report
from certify.run.process import Interrupted
from certify.run.runner import RunOptions, execute


def run(
    profile: Annotated[str, typer.Option(help="Profile to run (smoke, pr, nightly, release)")],
    out: Annotated[Path, typer.Option(help="Run folder for the report and evidence")] = Path(
        "runs/latest"
    ),
    platform: Annotated[str, typer.Option(help="Where cells run")] = "local",
    matrix: Annotated[
        Path | None, typer.Option(help="Matrix file (default: the one defining the profile)")
    ] = None,
    strategy: Annotated[
        str | None, typer.Option(help="Override the reduction: full or t=N")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for covering arrays")] = None,
    no_gate: Annotated[
        bool, typer.Option("--no-gate", help="Exit 0 whatever the gate says")
    ] = False,
    root: Annotated[Path, typer.Option(help="Project folder (matrices/, scenarios/)")] = Path("."),
    policy: Annotated[
        Path | None, typer.Option(help="Release policy (default: ROOT/reports/policy.yaml if any)")
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option(help="Folder keeping every run's report (default: ROOT/.certify/history)"),
    ] = None,
) -> None:
    """Run the profile's scenarios on every planned cell, write the report, exit with the gate."""
    root = root.resolve()
    chosen = find_profile(root, profile, matrix)
    plan = build_plan(chosen, profile, strategy, seed)
    options = RunOptions(
        out=out.resolve(),
        root=root,
        platform=get_platform(platform),
        argv=tuple(sys.argv),
        policy=resolve_policy(root, policy),
        history=(history or root / ".certify" / "history").resolve(),
    )
    try:
        report = execute(chosen, plan, options)
    except Interrupted as exc:
        raise InfrastructureError(f"{exc}; partial report in {out}") from exc
    print_summary(report, out, Console(highlight=False, soft_wrap=True))
    if not report.gate.passed and not no_gate:
        raise typer.Exit(1)


def print_summary(report: Report, out: Path, console: Console) -> None:
    """A few lines: cells by verdict, the gate and its reasons, where the report is."""
    summary = report.summary()
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(summary["verdicts"].items()))
    tests = ", ".join(f"{n} {s}" for s, n in sorted(summary["tests"].items()))
    console.print(f"{summary['cells']} cell(s): {verdicts or 'none'}; tests: {tests or 'none'}")
    for cell in report.cells:
        console.print(f"  {cell.verdict:<10} {cell.id}", markup=False)
    colour = "green" if report.gate.passed else "red"
    console.print(f"gate: [{colour}]{report.gate.verdict.upper()}[/]")
    for reason in report.gate.reasons:
        console.print(f"  - {reason}", markup=False)
    console.print(f"report: {out / 'report.json'}", markup=False)
