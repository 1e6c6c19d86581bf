"""Signed evidence: an in-toto attestation (a DSSE envelope, ed25519) beside an evidence bundle.

    certify report bundle DIR --sign KEY    writes BUNDLE and BUNDLE.intoto.jsonl
    certify report verify BUNDLE --key PUB  checks both (so does `certify gate BUNDLE --key PUB`)

The attestation is an in-toto Statement v1 whose one subject is the bundle: its file name and
the sha256 of the whole archive, every byte of it. Its predicate (PREDICATE_TYPE) is the run's
summary: run id, profile, git revision, matrix and policy digests when the run recorded them,
each cell's tier and verdict, the gate's verdict and the manifest's sha256. The statement is the
payload of a DSSE envelope signed over DSSE's pre-authentication encoding (`pae`); the keyid is
the sha256 of the public key's DER (SubjectPublicKeyInfo) form, which
`openssl pkey -pubin -in PUB -outform DER | sha256sum` also prints.

The attestation cannot live inside the archive it digests, so it is a file beside it:
BUNDLE + ".intoto.jsonl", one envelope per line (the in-toto convention for attestation files);
a copy goes into the run folder as attestation.intoto.jsonl, where a shard merge finds it.
Keys are PEM files (PKCS#8 private, SubjectPublicKeyInfo public), or `env:NAME` for a PEM held
in an environment variable (a CI secret); the private key is read only to sign and is never
written into a bundle, an attestation or a report.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from certify.errors import UnusableReport, UsageError
from certify.report.bundle import (
    RUN_ATTESTATION,
    BundleCheck,
    attestation_path,
    check_bundle,
    open_regular,
)
from certify.report.jsondoc import obj, objs, text
from certify.results.findings import JsonObject, JsonValue

__all__ = [
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "Verification",
    "attestation_path",
    "keygen",
    "keyid",
    "pae",
    "sign_bundle",
    "verify",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://certify.dev/attestation/run/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
_MAX_KEY = 64 << 10
_MAX_ATTESTATION = 16 << 20
# digests the run may record of its inputs, in its run section or its provenance
_DIGESTS = ("matrix_sha256", "policy_sha256")


@dataclass(frozen=True)
class Verification:
    """What verifying a bundle against its attestation and a public key found.

    `problems` is empty when the signature verifies with the key, the signed subject's sha256 is
    the sha256 of the whole archive, every member matches the manifest and the signed summary
    agrees with the bundle's report.json. `members` holds the bytes of the members asked for with
    `keep` exactly as they were hashed and checked, so that a caller judges the bytes that were
    verified (no second read of the file, nothing extracted to disk).
    """

    bundle: Path
    sha256: str  # of the whole archive file, as read
    problems: tuple[str, ...]
    predicate: JsonObject = field(default_factory=dict)  # the signed summary; {} if unverified
    members: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        """True when nothing was found wrong."""
        return not self.problems


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: `DSSEv1 <len> <type> <len> <body>`, lengths in bytes."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def keyid(public: Ed25519PublicKey) -> str:
    """The sha256 of the public key's DER SubjectPublicKeyInfo, in hex."""
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def _key_bytes(source: str, what: str) -> bytes:
    if source.startswith("env:"):
        value = os.environ.get(source[4:], "")
        if not value.strip():
            raise UsageError(f"{source}: the environment variable holding the {what} is unset")
        return value.encode("utf-8")
    with open_regular(Path(source), what) as stream:
        return stream.read(_MAX_KEY + 1)


def load_private_key(source: str) -> Ed25519PrivateKey:
    """The ed25519 private key of a PEM file or of `env:NAME`; UsageError naming the fix."""
    body = _key_bytes(source, "signing key")
    try:
        key = serialization.load_pem_private_key(body, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise UsageError(
            f"{source}: not an unencrypted PEM private key ({str(exc).splitlines()[0]}); "
            "make one with `certify report keygen --out DIR`"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{source}: a {type(key).__name__}, not an ed25519 key")
    return key


def load_public_key(source: str) -> Ed25519PublicKey:
    """The ed25519 public key of a PEM file or of `env:NAME`; UsageError naming the fix."""
    body = _key_bytes(source, "public key")
    try:
        key = serialization.load_pem_public_key(body)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise UsageError(
            f"{source}: not a PEM public key ({str(exc).splitlines()[0]}); pass the .pub file "
            "that `certify report keygen` wrote beside the signing key"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{source}: a {type(key).__name__}, not an ed25519 key")
    return key


def keygen(out: Path) -> tuple[Path, Path]:
    """Write a new pair, OUT/certify-signing.key (mode 0600) and OUT/certify-signing.pub."""
    if not out.is_dir():
        raise UsageError(f"{out}: no such folder for the keys; create it first")
    private, public = out / "certify-signing.key", out / "certify-signing.pub"
    for path in (private, public):
        if path.exists():
            raise UsageError(f"{path}: exists; certify never overwrites a key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(pem)
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def _summary(report: JsonObject, manifest_sha256: str) -> JsonObject:
    """The predicate: what the run was, what it found and what the gate decided."""
    run = obj(report["run"], "run")
    provenance = obj(run.get("provenance") or {}, "run.provenance")
    keys = ("id", "profile", "matrix", "platform", "started", "finished", "interrupted")
    summary: JsonObject = {
        "run": {k: run[k] for k in keys if k in run},
        "git_revision": provenance.get("git_revision", ""),
        "certify": provenance.get("certify", ""),
        "cells": [
            {"id": c["id"], "tier": c["tier"], "verdict": c["verdict"]}
            for c in objs(report["cells"], "cells")
        ],
        "gate": {"verdict": obj(report["gate"], "gate")["verdict"]},
        "manifest_sha256": manifest_sha256,
    }
    for key in _DIGESTS:
        value = run.get(key, provenance.get(key))
        if value is not None:
            summary[key] = value
    for key in ("shards", "attestations"):
        if key in run:
            summary[key] = run[key]
    return summary


def _report_of(check: BundleCheck) -> JsonObject:
    try:
        return obj(json.loads(check.members["report.json"]), "report")
    except (KeyError, ValueError, TypeError, RecursionError):
        raise UsageError(f"{check.path}: holds no readable report.json; nothing to sign") from None


def _signable(check: BundleCheck) -> JsonObject:
    try:
        return _summary(_report_of(check), check.manifest_sha256)
    except (KeyError, TypeError) as exc:
        raise UsageError(f"{check.path}: its report.json lacks {exc}; nothing to sign") from None


def sign_bundle(bundle: Path, key: str, run_dir: Path | None = None) -> tuple[Path, str]:
    """Sign an intact `bundle`: write BUNDLE.intoto.jsonl (and RUN_DIR's copy); (path, keyid)."""
    private = load_private_key(key)
    check = check_bundle(bundle)
    if check.problems:
        raise UsageError(f"{bundle}: not intact, refusing to sign it: {check.problems[0]}")
    statement: JsonObject = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": bundle.name, "digest": {"sha256": check.sha256}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": _signable(check),
    }
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")
    kid = keyid(private.public_key())
    sig = base64.b64encode(private.sign(pae(PAYLOAD_TYPE, payload))).decode("ascii")
    envelope = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": kid, "sig": sig}],
    }
    line = json.dumps(envelope, sort_keys=True) + "\n"
    path = attestation_path(bundle)
    for dest in (path, *([run_dir / RUN_ATTESTATION] if run_dir else [])):
        tmp = dest.with_name(f".{dest.name}.tmp")
        tmp.write_text(line, encoding="utf-8")
        tmp.replace(dest)
    return path, kid


def _envelopes(path: Path) -> list[JsonObject]:
    """The DSSE envelopes of an attestation file; UnusableReport when it holds none."""
    with open_regular(path, "attestation (sign with `certify report bundle DIR --sign KEY`)") as f:
        body = f.read(_MAX_ATTESTATION + 1)
    if len(body) > _MAX_ATTESTATION:
        raise UnusableReport(f"{path}: over {_MAX_ATTESTATION} bytes, not a certify attestation")
    try:
        found = [obj(json.loads(line), "envelope") for line in body.splitlines() if line.strip()]
        for envelope in found:
            text(envelope["payloadType"], "payloadType")
            text(envelope["payload"], "payload")
            for sig in objs(envelope["signatures"], "signatures"):
                text(sig["sig"], "sig")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise UnusableReport(f"{path}: not a DSSE envelope per line ({exc!s:.200})") from None
    if not found:
        raise UnusableReport(f"{path}: an empty attestation")
    return found


def _sigs(envelope: JsonObject) -> list[JsonObject]:
    return objs(envelope["signatures"], "signatures")  # checked when the file was read


def _b64(value: JsonValue) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        return b""


def _signed_payload(
    envelopes: list[JsonObject], public: Ed25519PublicKey
) -> tuple[bytes, str] | None:
    """The payload and type of the first envelope `public` signed, None if it signed none."""
    for envelope in envelopes:
        payload, kind = _b64(envelope["payload"]), str(envelope["payloadType"])
        for sig in _sigs(envelope):
            try:
                public.verify(_b64(sig["sig"]), pae(kind, payload))
            except InvalidSignature:
                continue
            return payload, kind
    return None


@dataclass(frozen=True)
class _Statement:
    """The parts of a signed in-toto statement a verification uses."""

    digests: tuple[str, ...]
    predicate: JsonObject
    problems: tuple[str, ...]


def _statement(payload: bytes, kind: str) -> _Statement:
    """The signed statement's subject digests and predicate, and what is wrong with its form."""
    try:
        statement = obj(json.loads(payload), "statement")
        subjects = objs(statement["subject"], "subject")
        predicate = obj(statement["predicate"], "predicate")
        digests = tuple(text(obj(s["digest"], "digest")["sha256"], "sha256") for s in subjects)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        why = f"attestation: the signed payload is not an in-toto statement ({exc!s:.200})"
        return _Statement((), {}, (why,))
    problems = [
        f"attestation: the signed {name} is {got!r}, not {want}"
        for name, got, want in (
            ("payloadType", kind, PAYLOAD_TYPE),
            ("_type", statement.get("_type"), STATEMENT_TYPE),
            ("predicateType", statement.get("predicateType"), PREDICATE_TYPE),
        )
        if got != want
    ]
    return _Statement(digests, predicate, tuple(problems))


def _agreement(predicate: JsonObject, check: BundleCheck) -> list[str]:
    """Where the signed summary and the bundle's own report.json disagree."""
    try:
        report = _report_of(check)
        ours = _summary(report, check.manifest_sha256)
    except (UsageError, KeyError, TypeError):
        return []  # the bundle's problems already say why its report cannot be read
    return [
        f"attestation: the signed {key} differs from the bundle's ({key} was edited)"
        for key in sorted(set(ours) | set(predicate))
        if ours.get(key) != predicate.get(key)
    ]


def verify(
    bundle: Path,
    key: Path | str,
    *,
    attestation: Path | None = None,
    keep: Sequence[str] = ("report.json", "plan.json"),
) -> Verification:
    """Verify `bundle` with the ed25519 public key `key`; never extracts to disk.

    `key` is a PEM file or `env:NAME`; `attestation` defaults to `attestation_path(bundle)`;
    `keep` names the members whose verified bytes come back in `Verification.members` (a member
    that is missing or differs from the manifest is never among them).

    Raises UnusableReport when the bundle or the attestation cannot be read at all (missing,
    not a regular file, not gzip, not a tar, no readable MANIFEST.json, not a DSSE envelope per
    line) and UsageError when the key is not an ed25519 public key: both exit 2 with one message
    naming the file and the fix. Everything found wrong in a readable bundle
    (tampering: exit 1) is a line of `Verification.problems`; an empty tuple means verified.
    """
    public = load_public_key(str(key))
    envelopes = _envelopes(attestation or attestation_path(bundle))
    check = check_bundle(bundle, keep)
    members = {k: v for k, v in check.members.items() if k in keep}
    signed = _signed_payload(envelopes, public)
    if signed is None:
        named = sorted({str(s.get("keyid", "?"))[:16] for e in envelopes for s in _sigs(e)})
        why = (
            f"attestation: no signature verifies with {key} (keyid {keyid(public)[:16]}; the "
            f"attestation names {', '.join(named) or 'none'}): signed with another key, or the "
            "attestation was edited"
        )
        return Verification(bundle, check.sha256, (why, *check.problems), {}, members)
    statement = _statement(*signed)
    problems = list(statement.problems)
    if not problems and check.sha256 not in statement.digests:
        problems.append(
            f"attestation: the signed subject sha256 is not the bundle's ({check.sha256}): "
            "the archive changed after it was signed"
        )
    if not problems:
        problems += _agreement(statement.predicate, check)
    return Verification(
        bundle, check.sha256, (*problems, *check.problems), statement.predicate, members
    )
