"""The typer application: one module per command, user errors as one clean message."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from certify.errors import CertifyError, ConfigError

app = typer.Typer(
    name="certify",
    help="Certify Spark platform combinations: matrix, scenarios, chaos, load, release gate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        from certify import __version__

        typer.echo(f"certify {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version")
    ] = False,
) -> None:
    """Certify Spark platform combinations: matrix, scenarios, chaos, load, release gate."""


def _register() -> None:
    import certify.cli.chaos_cmd as chaos_cmd
    import certify.cli.env_cmd as env_cmd
    import certify.cli.gate_cmd as gate_cmd
    import certify.cli.jars_cmd as jars_cmd
    import certify.cli.load_cmd as load_cmd
    import certify.cli.plan_cmd as plan_cmd
    import certify.cli.platform_cmd as platform_cmd
    import certify.cli.report_cmd as report_cmd
    import certify.cli.run_cmd as run_cmd
    import certify.cli.validate_cmd as validate_cmd

    # every command first stops what a killed certify command left running (pid files)
    platform_cmd.sweep()

    app.command("validate")(validate_cmd.validate)
    app.command("plan")(plan_cmd.plan)
    app.command("run")(run_cmd.run)
    app.command("report")(report_cmd.report)
    app.command("gate")(gate_cmd.gate)
    app.add_typer(env_cmd.env_app, name="env")
    app.add_typer(jars_cmd.jars_app, name="jars")
    app.add_typer(platform_cmd.platform_app, name="platform")
    app.add_typer(chaos_cmd.chaos_app, name="chaos")
    app.add_typer(load_cmd.load_app, name="load")


def main() -> None:
    """Entry point of the console script: run the app and map errors to exit codes."""
    _register()
    try:
        app()  # standalone: usage errors exit 2, typer.Exit(n) exits n
    except CertifyError as exc:
        _report(exc)
        sys.exit(exc.exit_code)


def _report(exc: CertifyError) -> None:
    if isinstance(exc, ConfigError):
        for issue in exc.issues:
            err.print(issue.format(), markup=False)
        err.print(f"{len(exc.issues)} error(s)", style="red", markup=False)
    else:
        err.print(f"certify: {exc}", markup=False)
