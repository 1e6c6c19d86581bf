"""`certify report`: re-render a run's report, merge shards, bundle and verify evidence.

    certify report DIR                  re-render DIR's outputs, compared with the history
    certify report merge DIR... --out OUT
    certify report bundle DIR [--out FILE.tar.gz]
    certify report verify BUNDLE [--manifest-sha256 HEX]

One command that dispatches on its first word, because a click group cannot also take a
folder as its first argument.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from certify.config.policy import Policy, load_policy
from certify.errors import UsageError
from certify.report.finalize import assemble, publish
from certify.report.history import History
from certify.report.model import Report
from certify.report.readback import Evidence, load_evidence

_ACTIONS = ("merge", "bundle", "verify")


def report(
    args: Annotated[
        list[str],
        typer.Argument(help="DIR | merge DIR... | bundle DIR | verify BUNDLE", show_default=False),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="merge: folder for the merged report; bundle: the tarball to write"),
    ] = None,
    policy: Annotated[
        Path | None, typer.Option(help="Decide under this policy instead of the report's own")
    ] = None,
    history: Annotated[
        Path | None, typer.Option(help="History folder (default: .certify/history here)")
    ] = None,
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Neither compare with nor add to a history")
    ] = False,
    manifest_sha256: Annotated[
        str | None, typer.Option(help="verify: the sha256 the manifest must have")
    ] = None,
) -> None:
    """Re-render a run's report (and compare with history), merge shards, bundle or verify."""
    action, rest = (args[0], args[1:]) if args[0] in _ACTIONS else ("render", args)
    kept = None if no_history else History(history or Path(".certify/history"))
    if action == "verify":
        _verify(rest, manifest_sha256)
    elif action == "bundle":
        _bundle(rest, out)
    elif action == "merge":
        if out is None:
            raise UsageError("certify report merge needs --out DIR for the merged report")
        from certify.report.merge import merge_shards

        evidence = merge_shards([Path(p) for p in rest])
        _render(evidence, out, policy, kept)
    else:
        if len(rest) != 1:
            raise UsageError("certify report takes one run folder (or: merge, bundle, verify)")
        folder = Path(rest[0])
        _render(
            load_evidence(folder),
            out or (folder if folder.is_dir() else folder.parent),
            policy,
            kept,
        )


def _render(
    evidence: Evidence, out: Path, policy_file: Path | None, history: History | None
) -> Report:
    chosen: Policy = load_policy(policy_file) if policy_file else evidence.policy()
    report = assemble(evidence.inputs(), chosen, history)
    publish(report, out, history)
    counts = ", ".join(f"{n} {v}" for v, n in sorted(report.summary()["verdicts"].items()))
    typer.echo(
        f"{len(report.cells)} cell(s): {counts or 'none'}; gate {report.gate.verdict.upper()}"
    )
    if report.changes is not None:
        typer.echo(
            "since "
            + report.changes.previous
            + ": "
            + ", ".join(
                f"{len(items)} {kind.replace('_', ' ')}" for kind, items in report.changes.items()
            )
        )
    typer.echo(f"report: {out / 'report.html'}")
    return report


def _bundle(rest: list[str], out: Path | None) -> None:
    from certify.report.bundle import create_bundle

    if len(rest) != 1:
        raise UsageError("certify report bundle takes one run folder")
    path, digest = create_bundle(Path(rest[0]), out)
    typer.echo(f"bundle: {path}")
    typer.echo(f"manifest sha256: {digest}")


def _verify(rest: list[str], manifest_sha256: str | None) -> None:
    from certify.report.bundle import verify_bundle

    if len(rest) != 1:
        raise UsageError("certify report verify takes one bundle")
    problems = verify_bundle(Path(rest[0]), manifest_sha256)
    if problems:
        typer.echo(f"bundle {rest[0]}: TAMPERED")
        for problem in problems:
            typer.echo(problem)
        raise typer.Exit(1)
    typer.echo(f"bundle {rest[0]}: intact")
