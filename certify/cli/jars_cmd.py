"""`certify jars lock|sync`: the jars of a matrix's cells, pinned and fetched by Maven."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from certify.cli.env_cmd import _matrix, _MatrixOpt, _RootOpt

jars_app = typer.Typer(
    help="Resolve, pin and fetch the jars of the matrix's cells (mvn, cached in .certify/jars).",
    no_args_is_help=True,
)
_ProfileOpt = Annotated[
    list[str] | None,
    typer.Option("--profile", help="Only these profiles' cells (default: every profile)"),
]
_LockOpt = Annotated[
    Path | None,
    typer.Option("--lock", help="Lock file (default: $CERTIFY_JARS_LOCK or ./certify.jars.lock)"),
]


def _specs(root: Path, matrix: Path | None, profiles: list[str] | None) -> list:  # type: ignore[type-arg]
    from certify.plan import build_plan
    from certify.platforms.local.platform import jar_spec

    loaded = _matrix(root, matrix)
    found = set()
    for name in profiles or sorted(loaded.spec.profiles):
        for planned in build_plan(loaded, name).cells:
            spec = jar_spec(loaded, planned.cell.values)
            if spec is not None:
                found.add(spec)
    return sorted(found)


def _lock_path(lock: Path | None) -> Path:
    import os

    from certify.platforms.jars import LOCK_FILE, LOCK_VAR

    return lock or Path(os.environ.get(LOCK_VAR) or LOCK_FILE)


def _report(failed: list[str], what: str) -> None:
    from certify.errors import UsageError

    for line in failed:
        typer.echo(f"not {what}: {line}", err=True)
    if failed:
        raise UsageError(f"{len(failed)} jar set(s) could not be resolved (see above)")


@jars_app.command("lock")
def lock(
    matrix: _MatrixOpt = None,
    profile: _ProfileOpt = None,
    lock_file: _LockOpt = None,
    root: _RootOpt = Path("."),
) -> None:
    """Resolve every jar set of the profiles' cells and write coordinate -> SHA-256."""
    from certify.platforms.jars import JarProvider, lock_sets

    specs = _specs(root, matrix, profile)
    path = _lock_path(lock_file)
    written, failed = lock_sets(JarProvider(), specs, path)
    # what resolved is written either way; the cells of a set left out are not_run ("not in
    # the lock file") until it resolves and is locked: nothing unlocked is ever certified
    written.write()
    typer.echo(f"{path}: {len(written.jars)} jars in {len(written.sets)} jar sets")
    _report(failed, "locked")


@jars_app.command("sync")
def sync(
    matrix: _MatrixOpt = None,
    profile: _ProfileOpt = None,
    lock_file: _LockOpt = None,
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            help="Also fill this folder for an air-gapped machine "
            "(use it there as $CERTIFY_JARS_DIR)",
        ),
    ] = None,
    root: _RootOpt = Path("."),
) -> None:
    """Fetch what the lock file names into the cache (fails on a SHA-256 mismatch)."""
    from certify.errors import UsageError
    from certify.platforms.jars import JarProvider, Lock, sync_to

    path = _lock_path(lock_file)
    if not path.is_file():
        raise UsageError(f"{path}: no jar lock file; write one with `certify jars lock`")
    provider = JarProvider(lock=Lock.load(path))
    specs = _specs(root, matrix, profile)
    failed = []
    for spec in specs:
        got = provider.resolve_set(spec.names, spec.spark, spec.scala, spec.pyspark)
        if not isinstance(got, list):
            failed.append(f"{spec.label}: {got.reason}")
    _report(failed, "synced")
    if to is not None:
        _report(sync_to(provider, specs, to), "copied")
    typer.echo(f"{len(specs)} jar sets match {path}" + (f"; copied to {to}" if to else ""))
