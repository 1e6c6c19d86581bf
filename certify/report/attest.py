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
BUNDLE + ".intoto.jsonl", one envelope per line (the in-toto convention for attestation files).
Keys are PEM files (PKCS#8 private, SubjectPublicKeyInfo public); the private key is read only to
sign and is never written into a bundle, an attestation or a report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from certify.results.findings import JsonObject

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://certify.dev/attestation/run/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
SUFFIX = ".intoto.jsonl"


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


def attestation_path(bundle: Path) -> Path:
    """Where the attestation of `bundle` lives: beside it, named BUNDLE.intoto.jsonl."""
    return bundle.with_name(bundle.name + SUFFIX)


def verify(
    bundle: Path,
    key: Path,
    *,
    attestation: Path | None = None,
    keep: Sequence[str] = ("report.json", "plan.json"),
) -> Verification:
    """Verify `bundle` with the ed25519 public key in PEM file `key`; never extracts to disk.

    `attestation` defaults to `attestation_path(bundle)`. Raises UnusableReport (exit 2, one
    message naming the file and the fix) when the bundle, the attestation or the key cannot be
    read at all: missing, not a regular file, not gzip, not a tar, no readable MANIFEST.json,
    not a DSSE envelope, not an ed25519 public key. Everything found wrong in a readable bundle
    (tampering: exit 1) is a line of `Verification.problems`; an empty tuple means verified.
    """
    raise NotImplementedError("certify.report.attest.verify: being built (SIGN engineer)")
