"""`certify gate REPORT [--policy FILE]`: decide a report's gate again, fail-closed.

Exit 0 when it passes, 1 when it fails (each reason on its own line), 2 when the report is
missing, truncated or not a valid certify.report/1 document, or the policy is invalid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from certify.config.policy import load_policy
from certify.report.finalize import assemble
from certify.report.readback import load_evidence


def gate(
    report: Annotated[Path, typer.Argument(help="report.json, or the run folder holding it")],
    policy: Annotated[
        Path | None,
        typer.Option(help="Decide under this policy (default: the policy the report recorded)"),
    ] = None,
) -> None:
    """Re-evaluate the release gate of a report; exit 0 pass, 1 fail, 2 unusable input."""
    evidence = load_evidence(report)
    chosen = load_policy(policy) if policy else evidence.policy()
    result = assemble(evidence.inputs(), chosen)
    typer.echo(f"gate: {result.gate.verdict.upper()}")
    for reason in result.gate.reasons:
        typer.echo(reason)
    if not result.gate.passed:
        raise typer.Exit(1)
