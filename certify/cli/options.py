"""Options several commands share, declared once (typer reads them from `Annotated`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from certify.errors import UsageError

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
Keep = Annotated[
    bool,
    typer.Option(
        "--keep",
        help="Leave what cells made in shared services (databases, namespaces, S3 objects "
        "under their prefix) for inspection, instead of dropping it after each cell",
    ),
]
Workers = Annotated[
    str | None,
    typer.Option(
        "-n",
        "--workers",
        metavar="N|auto",
        help="Run at most N Spark drivers at once over the whole run (default auto: one per "
        "core, as memory permits); cells go longest first, a cell's scenarios in one session",
    ),
]


def parse_workers(value: str | None) -> int | None:
    """`-n N` as a number of drivers, `-n auto` (or no -n) as None: the machine's choice."""
    if value is None or value.strip().lower() == "auto":
        return None
    text = value.strip()
    if not text.isdigit() or int(text) < 1:
        raise UsageError(
            f"-n {value}: not a number of drivers (valid: a whole number from 1, or auto)"
        )
    return int(text)
