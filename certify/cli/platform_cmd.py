"""`certify platform up|status|down|info`: a cell's services by hand, for debugging."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, TypedDict

import typer
from rich.console import Console
from rich.table import Table

from certify.cli.plan_cmd import Format

platform_app = typer.Typer(
    help="Start, inspect and stop the local platform's services for one cell.",
    no_args_is_help=True,
)


def sweep() -> None:
    """Stop what a crashed or killed certify command left running (cheap; never raises)."""
    from certify.platforms.local.state import sweep_stale

    for session in sweep_stale():
        typer.echo(f"certify: stopped leftovers of {session}", err=True)


@platform_app.command("up")
def up(
    cell: Annotated[str, typer.Option("--cell", help="Cell id whose services to start")],
    matrix: Annotated[
        Path | None, typer.Option("--matrix", help="Matrix file (default: matrices/platform.yaml)")
    ] = None,
    root: Annotated[Path, typer.Option(help="Project folder holding matrices/")] = Path("."),
) -> None:
    """Start the services one cell needs and leave them running until `platform down`."""
    from certify.cell import Cell
    from certify.cli.env_cmd import _matrix
    from certify.errors import UsageError
    from certify.matrix.space import parse_cell_id
    from certify.plan import PlannedCell
    from certify.platforms.local.platform import LocalPlatform
    from certify.platforms.local.state import state_dir, up_session

    if up_session() is not None:
        raise UsageError("the platform is already up: run `certify platform down` first")
    chosen = _matrix(root, matrix)
    values = parse_cell_id(cell)
    if list(values) != list(chosen.space.names):
        valid = ", ".join(chosen.space.names)
        raise UsageError(f"cell {cell!r} does not name every dimension (valid order: {valid})")
    planned = PlannedCell(
        Cell(tuple(values.items()), "adhoc"), f"spark-{values.get('spark')}", ("smoke",), (), ()
    )
    platform = LocalPlatform()
    found = platform.assess(chosen, planned, fetch=True)
    if not found.runnable:
        raise UsageError(f"cell {cell} cannot run here: {found.reason}")
    logs = state_dir() / "logs"
    session = platform.start(chosen, [planned], logs, mode="up", assessments={cell: found})
    options = session.options(planned, (root / ".certify" / "adhoc").resolve()).to_json()
    session.state.mark_complete(cell=cell, options=options)
    credentials = session.env(planned)
    if credentials:
        secret_file = session.state.path / "credentials.env"
        secret_file.touch(mode=0o600)
        secret_file.write_text("".join(f"export {k}={v}\n" for k, v in credentials.items()))
        typer.echo(f"S3 credentials: source {secret_file}")
    for row in session.status():
        typer.echo(f"{row['name']:<16} pid {row['pid'] or '-':<8} {row['endpoint']}")
    if found.spark:
        typer.echo(f"note: Spark scenarios of this cell are not_run here: {found.spark}")
    typer.echo(
        f"run the cell's scenarios with: pytest scenarios/smoke --certify-cell {cell} "
        f"--certify-options '{json.dumps(options)}'"
    )


class ServiceRow(TypedDict):
    """One service of `platform up` as `platform status` shows it."""

    name: str
    pid: int | None
    endpoint: str
    healthy: bool
    log: str


def _rows() -> list[ServiceRow]:
    from certify.platforms.local.services.base import tcp_open
    from certify.platforms.local.state import up_session

    session = up_session()
    if session is None:
        return []
    rows: list[ServiceRow] = []
    for service in session.services():
        alive = service.alive() if service.pid else True
        port = service.endpoint.rsplit(":", 1)[-1].split("/")[0]
        reachable = tcp_open(int(port)) if port.isdigit() else alive
        rows.append(
            {
                "name": service.name,
                "pid": service.pid or None,
                "endpoint": service.endpoint,
                "healthy": bool(alive and reachable),
                "log": service.log,
            }
        )
    return rows


@platform_app.command("status")
def status(
    format: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
) -> None:
    """Each service of `platform up`: name, pid, endpoint, healthy."""
    from certify.platforms.local.state import up_session

    session = up_session()
    rows = _rows()
    if format is Format.json:
        body = {"up": session is not None, "cell": session.meta.get("cell") if session else None}
        typer.echo(json.dumps({**body, "services": rows}, indent=2))
        return
    if session is None:
        typer.echo("the platform is down")
        return
    table = Table(title=f"services of {session.meta.get('cell', session.id)}")
    for column in ("name", "pid", "endpoint", "healthy"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], str(row["pid"] or "-"), row["endpoint"], str(row["healthy"]))
    Console(highlight=False, width=200).print(table)


@platform_app.command("down")
def down() -> None:
    """Stop every service `platform up` started."""
    from certify.platforms.local.state import up_session

    session = up_session()
    if session is None:
        typer.echo("the platform is already down")
        return
    name = session.meta.get("cell", session.id)
    pids = session.stop()
    typer.echo(f"stopped {len(pids)} process(es) of {name}")


@platform_app.command("info")
def info() -> None:
    """What the local platform can run here: Java, GPU, binaries, jar routes, services."""
    from certify.platforms.local.platform import LocalPlatform

    typer.echo(json.dumps(LocalPlatform().capabilities(), indent=2))
