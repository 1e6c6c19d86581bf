"""`certify env sync|list`: the cached Python runtime of each Spark line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from certify.cli.plan_cmd import Format
from certify.matrix.model import Matrix

env_app = typer.Typer(
    help="Build and list the per-Spark-line runtimes (virtual environments).",
    no_args_is_help=True,
)

_MatrixOpt = Annotated[
    Path | None, typer.Option("--matrix", help="Matrix file (default: matrices/platform.yaml)")
]
_EnvDirOpt = Annotated[
    Path | None,
    typer.Option("--env-dir", help="Cache folder (default: $CERTIFY_ENV_DIR or .certify/envs)"),
]
_RootOpt = Annotated[Path, typer.Option(help="Project folder holding matrices/")]


def _matrix(root: Path, path: Path | None) -> Matrix:
    from certify.errors import UsageError
    from certify.matrix.model import load_matrix, matrix_files

    if path is not None:
        return load_matrix(path)
    files = [f for f in matrix_files(root) if f.stem == "platform"] or matrix_files(root)
    if not files:
        raise UsageError(f"no matrix files under {root / 'matrices'} (pass --matrix FILE)")
    return load_matrix(files[0])


@env_app.command("sync")
def sync(
    spark: Annotated[
        list[str] | None, typer.Option("--spark", help="Spark line(s) to build (default: all)")
    ] = None,
    matrix: _MatrixOpt = None,
    env_dir: _EnvDirOpt = None,
    root: _RootOpt = Path("."),
) -> None:
    """Build (or reuse) the runtime of each Spark line, with the matrix's pinned pyspark."""
    from certify.runtimes import EnvCache, runtime_specs
    from certify.runtimes.envs import env_dir as resolve_dir

    cache = EnvCache(resolve_dir(env_dir))
    for spec in runtime_specs(_matrix(root, matrix), spark):
        python, rebuilt = cache.sync(spec)
        state = "built" if rebuilt else "up to date"
        typer.echo(f"{spec.name}: {state} ({spec.pyspark_requirement}) {python}")


@env_app.command("list")
def list_envs(
    matrix: _MatrixOpt = None,
    env_dir: _EnvDirOpt = None,
    format: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
    root: _RootOpt = Path("."),
) -> None:
    """Show each Spark line's runtime: ready or missing, its pins' key and where it lives."""
    from certify.runtimes import EnvCache, runtime_specs
    from certify.runtimes.envs import env_dir as resolve_dir

    cache = EnvCache(resolve_dir(env_dir))
    rows = [cache.status(s) for s in runtime_specs(_matrix(root, matrix))]
    if format is Format.json:
        typer.echo(
            json.dumps({"env_dir": str(cache.root), "runtimes": [r.to_json() for r in rows]})
        )
        return
    table = Table(title=f"runtimes in {cache.root}")
    for column in ("runtime", "pyspark", "key", "state", "built", "path"):
        table.add_column(column)
    for row in rows:
        stale = f" (+{len(row.stale)} stale)" if row.stale else ""
        table.add_row(
            row.spec.name,
            escape(row.spec.pyspark_requirement),
            row.spec.key,
            row.state + stale,
            row.built or "",
            str(row.path),
        )
    Console(highlight=False, width=200).print(table)
