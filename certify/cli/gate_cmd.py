"""`certify gate RUN_DIR|report.json|BUNDLE`: decide the release gate again, from the records.

Nothing the artifact says is believed: every verdict is re-derived from results.sqlite and
plan.json under the repository's policy and matrix, and any way report.json, the store, the
plan or the bundle disagrees is a reason to fail (certify.report.rederive says what is checked).
Exit 0 when it passes, 1 when it fails (each reason on its own line), 2 when the input is not
usable at all (missing, truncated, not a certify report, store or plan) or the policy is invalid.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

import certify.cli.options as opt
from certify.config.policy import resolve_policy
from certify.errors import UnusableReport
from certify.report.rederive import Judgement, Rules, is_bundle, judge, judge_bundle

# Past this many reasons the rest are counted, not printed: the first ones say what to fix.
_SHOWN = 60


def gate(
    report: Annotated[
        Path, typer.Argument(help="A run folder, its report.json, or its evidence bundle")
    ],
    policy: Annotated[
        Path | None,
        typer.Option(help="Decide under this policy (default: ROOT/reports/policy.yaml)"),
    ] = None,
    root: opt.Root = Path("."),
    matrix: opt.Matrix = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="Bundles: the ed25519 public key (PEM file or env:NAME) its attestation "
            "(BUNDLE.intoto.jsonl) must verify with"
        ),
    ] = None,
) -> None:
    """Re-derive the release gate from the raw records; exit 0 pass, 1 fail, 2 unusable input."""
    if not report.exists():
        raise UnusableReport(f"{report}: no such report")
    if not report.is_dir() and not report.is_file():  # a FIFO would block the read for ever
        raise UnusableReport(f"{report}: not a run folder, a report.json or a bundle file")
    bundle = not report.is_dir() and is_bundle(report)
    if key is not None and not bundle:
        raise UnusableReport(f"{report}: --key checks a bundle's signature; this is no bundle")
    rules = Rules(resolve_policy(root, policy), root, datetime.now(timezone.utc), matrix)
    if bundle:
        judgement = judge_bundle(report, rules, key)
    else:
        judgement = judge(report / "report.json" if report.is_dir() else report, rules)
    _print(judgement)


def _print(judgement: Judgement) -> None:
    typer.echo(f"gate: {'PASS' if judgement.passed else 'FAIL'}")
    shown = judgement.reasons[:_SHOWN]
    for reason in shown:
        typer.echo(reason)
    if len(judgement.reasons) > len(shown):
        typer.echo(f"... and {len(judgement.reasons) - len(shown)} more")
    if not judgement.passed:
        raise typer.Exit(1)
