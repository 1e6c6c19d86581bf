"""`certify plan`: show the cells a profile certifies and the coverage they reach."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from certify.plan import Plan, build_plan, find_profile


class Format(str, Enum):
    """Output formats of `certify plan`."""

    table = "table"
    json = "json"


def plan(
    profile: Annotated[str, typer.Option(help="Profile to plan (smoke, pr, nightly, release)")],
    matrix: Annotated[
        Path | None, typer.Option(help="Matrix file (default: the one defining the profile)")
    ] = None,
    strategy: Annotated[
        str | None, typer.Option(help="Override the reduction: full or t=N")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for covering arrays (default: profile's)")
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
    root: Annotated[Path, typer.Option(help="Project folder holding matrices/")] = Path("."),
) -> None:
    """Expand or reduce the matrix under a profile and print the plan with its coverage."""
    result = build_plan(find_profile(root, profile, matrix), profile, strategy, seed)
    if format is Format.json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        print_plan(result, _stdout())


def _stdout() -> Console:
    """stdout; when piped, wide enough that no value is cut short or wrapped (rich assumes 80)."""
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=1000)


def print_plan(result: Plan, console: Console) -> None:
    """The person-readable view: one row per cell, then coverage per tier."""
    table = Table(title=f"profile {result.profile} of matrix {result.matrix} (seed {result.seed})")
    table.add_column("#", justify="right")
    for dim in result.dimensions:
        table.add_column(dim)
    table.add_column("tier")
    table.add_column("runtime")
    for i, planned in enumerate(result.cells, 1):
        values = planned.cell.values
        table.add_row(
            str(i), *(values[d] for d in result.dimensions), planned.cell.tier, planned.runtime
        )
    console.print(table)
    for group in result.groups:
        ratio = 100.0 * group.covered / group.required if group.required else 100.0
        status = "[green]complete[/]" if group.complete else "[red]INCOMPLETE[/]"
        console.print(
            f"{group.tier}: {group.strategy} -> {group.cells} cells; t={group.t} coverage "
            f"{group.covered}/{group.required} tuples ({ratio:.1f}%), {group.invalid} invalid "
            f"cells: {status}"
        )
