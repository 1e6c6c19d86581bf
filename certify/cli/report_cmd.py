"""`certify report`: re-render a run's report, merge shards, bundle and verify evidence.

    certify report DIR                  re-render DIR's outputs, compared with the history
    certify report merge DIR... --out OUT
    certify report bundle DIR [--out FILE.tar.gz] [--sign KEY]
    certify report verify BUNDLE [--key PUB] [--attestation FILE] [--sha256 HEX]
    certify report keygen --out DIR

`--sign KEY` writes BUNDLE.intoto.jsonl beside the bundle (and a copy into DIR): an in-toto
attestation, ed25519-signed, of the bundle's sha256 and the run's summary. KEY is a PEM file or
`env:NAME` (a CI secret in an environment variable); it is never written anywhere. `verify`
with `--key` checks that signature too; exit 0 intact, 1 tampered, 2 unreadable.

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

_ACTIONS = ("merge", "bundle", "verify", "keygen")


def report(
    args: Annotated[
        list[str],
        typer.Argument(
            help="DIR | merge DIR... | bundle DIR | verify BUNDLE | keygen", show_default=False
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="merge: folder for the merged report; bundle: the tarball to write; "
            "keygen: the folder for the key pair"
        ),
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
    sha256: Annotated[
        str | None, typer.Option(help="verify: the sha256 the whole bundle file must have")
    ] = None,
    sign: Annotated[
        str | None,
        typer.Option(help="bundle: sign it with this ed25519 PEM private key (a file or env:NAME)"),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(help="verify: check the bundle's attestation with this PEM public key"),
    ] = None,
    attestation: Annotated[
        Path | None, typer.Option(help="verify: the attestation (default: BUNDLE.intoto.jsonl)")
    ] = None,
) -> None:
    """Re-render a run's report (and compare with history), merge shards, bundle or verify."""
    action, rest = (args[0], args[1:]) if args[0] in _ACTIONS else ("render", args)
    kept = None if no_history else History(history or Path(".certify/history"))
    if action == "verify":
        if len(rest) != 1:
            raise UsageError("certify report verify takes one bundle")
        _verify(Path(rest[0]), key, attestation, (manifest_sha256, sha256))
    elif action == "bundle":
        _bundle(rest, out, sign)
    elif action == "keygen":
        _keygen(rest, out)
    elif action == "merge":
        if out is None:
            raise UsageError("certify report merge needs --out DIR for the merged report")
        from certify.report.merge import merge_shards, write_evidence

        shards = [Path(p) for p in rest]
        evidence = merge_shards(shards, out)
        write_evidence(shards, out)
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


def _bundle(rest: list[str], out: Path | None, sign: str | None) -> None:
    from certify.report.bundle import create_bundle

    if len(rest) != 1:
        raise UsageError("certify report bundle takes one run folder")
    run_dir = Path(rest[0])
    if sign is not None:  # a bad key is refused before anything is written
        from certify.report.attest import load_private_key

        load_private_key(sign)
    path, digest = create_bundle(run_dir, out)
    typer.echo(f"bundle: {path}")
    typer.echo(f"manifest sha256: {digest}")
    if sign is not None:
        from certify.report.attest import sign_bundle

        signed, kid = sign_bundle(path, sign, run_dir)
        typer.echo(f"attestation: {signed} (ed25519 keyid {kid})")


def _keygen(rest: list[str], out: Path | None) -> None:
    from certify.report.attest import keygen

    if rest or out is None:
        raise UsageError("certify report keygen takes no argument, only --out DIR")
    private, public = keygen(out)
    typer.echo(f"signing key: {private} (keep it secret: store it as a CI secret, then delete it)")
    typer.echo(f"public key: {public} (commit it; verify with --key {public})")


def _verify(
    bundle: Path, key: str | None, attestation: Path | None, pins: tuple[str | None, str | None]
) -> None:
    from certify.report.bundle import attestation_path, verify_bundle

    if key is None:
        problems = verify_bundle(bundle, *pins)
        note = "signature not checked: pass --key PUB" if attestation_path(bundle).exists() else ""
    else:
        from certify.report.attest import verify

        result = verify(bundle, key, attestation=attestation)
        found = (str(result.predicate.get("manifest_sha256", "")), result.sha256)
        problems = [
            f"{what}: sha256 {got} is not the expected {want}"
            for what, got, want in zip(("MANIFEST.json", bundle.name), found, pins, strict=True)
            if want and got != want.lower()
        ]
        problems += result.problems
        note = f"signature verified; sha256 {result.sha256}" if not problems else ""
    if problems:
        typer.echo(f"bundle {bundle}: TAMPERED")
        for problem in problems:
            typer.echo(problem)
        raise typer.Exit(1)
    typer.echo(f"bundle {bundle}: intact")
    if note:
        typer.echo(note)
