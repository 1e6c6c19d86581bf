"""Options several commands share, declared once (typer reads them from `Annotated`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Matrix = Annotated[
    Path | None, typer.Option(help="Matrix file (default: the one defining the profile)")
]
Platform = Annotated[str, typer.Option(help="Where cells run")]
NoGate = Annotated[bool, typer.Option("--no-gate", help="Exit 0 whatever the gate says")]
Policy = Annotated[
    Path | None, typer.Option(help="Release policy (default: ROOT/reports/policy.yaml if any)")
]
Strategy = Annotated[str | None, typer.Option(help="Override the reduction: full or t=N")]
Seed = Annotated[int | None, typer.Option(help="Seed for covering arrays")]
Root = Annotated[Path, typer.Option(help="Project folder (matrices/, scenarios/)")]
Out = Annotated[Path, typer.Option(help="Run folder for the report and evidence")]
History = Annotated[
    Path | None,
    typer.Option(help="Folder keeping every run's report (default: ROOT/.certify/history)"),
]
Resume = Annotated[
    Path | None,
    typer.Option(help="Continue the run in this folder: keep finished cells, run the rest"),
]
Shard = Annotated[str | None, typer.Option(help="Run shard I of N of the plan's cells, e.g. 2/4")]
Durations = Annotated[
    Path | None,
    typer.Option(
        help="A previous report.json (or run folder): its durations balance shards and "
        "order cells longest first"
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        "-n",
        "--workers",
        min=1,
        help="Run each runtime's cells in one pytest-xdist run with N workers (a cell's "
        "tests stay on one worker and share its Spark session)",
    ),
]
