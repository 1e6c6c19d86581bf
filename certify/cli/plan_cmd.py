"""`certify plan`: show the cells a profile certifies and the coverage they reach."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from certify.cli.validate_cmd import locustfile_problem
from certify.matrix.model import Matrix
from certify.matrix.references import project_root
from certify.plan import Plan, build_plan, find_profile
from certify.platforms.base import Assessment


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
    platform: Annotated[
        str | None,
        typer.Option(help="Also say, per cell, whether this platform can run it here and why not"),
    ] = None,
) -> None:
    """Expand or reduce the matrix under a profile and print the plan with its coverage."""
    # a plan runs nothing: a matrix of another project (its matrices/) is checked against it
    project = project_root(matrix, root) if matrix is not None else root
    chosen = find_profile(root, profile, matrix, locustfile_problem, project)
    result = build_plan(chosen, profile, strategy, seed)
    verdicts = runnable(chosen, result, platform) if platform else None
    if format is Format.json:
        body = result.to_json()
        if verdicts is not None:
            body["platform"] = platform
            for cell in body["cells"]:
                found = verdicts[cell["id"]]
                cell.update(runnable=found.runnable, reason=found.reason, notes=list(found.notes))
        typer.echo(json.dumps(body, indent=2))
    else:
        print_plan(result, _stdout(), verdicts)


def runnable(matrix: Matrix, result: Plan, platform: str) -> dict[str, Assessment]:
    """Cell id -> what `platform` can do for it here (nothing is downloaded or started)."""
    from certify.platforms import get_platform

    backend = get_platform(platform)
    return {p.cell.id: backend.assess(matrix, p, fetch=False) for p in result.cells}


def _stdout() -> Console:
    """stdout; when piped, wide enough that no value is cut short or wrapped (rich assumes 80)."""
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=1000)


def print_plan(
    result: Plan, console: Console, verdicts: Mapping[str, Assessment] | None = None
) -> None:
    """The person-readable view: one row per cell, then coverage per tier."""
    table = Table(title=f"profile {result.profile} of matrix {result.matrix} (seed {result.seed})")
    table.add_column("#", justify="right")
    for dim in result.dimensions:
        table.add_column(dim)
    table.add_column("tier")
    table.add_column("runtime")
    if verdicts is not None:
        table.add_column("runnable here")
    for i, planned in enumerate(result.cells, 1):
        values = planned.cell.values
        row = [str(i), *(values[d] for d in result.dimensions), planned.cell.tier, planned.runtime]
        if verdicts is not None:
            found = verdicts[planned.cell.id]
            row.append("yes" if found.runnable else f"no: {found.reason}")
        table.add_row(*row)
    console.print(table)
    for group in result.groups:
        ratio = 100.0 * group.covered / group.required if group.required else 100.0
        status = "[green]complete[/]" if group.complete else "[red]INCOMPLETE[/]"
        console.print(
            f"{group.tier}: {group.strategy} -> {group.cells} cells; t={group.t} coverage "
            f"{group.covered}/{group.required} tuples ({ratio:.1f}%), {group.invalid} invalid "
            f"cells: {status}"
        )
