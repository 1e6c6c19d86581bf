"""Signed evidence bundles (certify.report.attest, certify.report.bundle) on a real run's folder.

The run folder is the passing golden run (tests/fixtures/golden/passing): a real report.json,
plan.json and results store. Everything here signs and verifies in memory and in tmp_path.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certify.errors import UnusableReport, UsageError
from certify.report.attest import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    keygen,
    keyid,
    pae,
    sign_bundle,
    verify,
)
from certify.report.bundle import (
    RUN_ATTESTATION,
    attestation_path,
    check_bundle,
    create_bundle,
    verify_bundle,
)
from certify.report.merge import merge_shards

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden" / "passing"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A copy of a real run's folder (its history left out: not evidence of this run)."""
    out = tmp_path / "run"
    shutil.copytree(GOLDEN, out, ignore=shutil.ignore_patterns("history"))
    return out


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """A fresh ed25519 pair written by `keygen`."""
    folder = tmp_path / "keys"
    folder.mkdir()
    return keygen(folder)


@pytest.fixture
def signed(run_dir: Path, keys: tuple[Path, Path], tmp_path: Path) -> Path:
    """The run's bundle, signed with `keys`."""
    bundle, _ = create_bundle(run_dir, tmp_path / "run.tar.gz")
    sign_bundle(bundle, str(keys[0]), run_dir)
    return bundle


def _envelope(bundle: Path) -> dict[str, object]:
    return json.loads(attestation_path(bundle).read_text())  # type: ignore[no-any-return]


def _statement(envelope: dict[str, object]) -> dict[str, object]:
    return json.loads(base64.b64decode(str(envelope["payload"])))  # type: ignore[no-any-return]


def _resign(bundle: Path, statement: dict[str, object], key: Path) -> None:
    """Write an attestation of `statement` signed with `key`, as a key holder could."""
    private = serialization.load_pem_private_key(key.read_bytes(), None)
    assert isinstance(private, Ed25519PrivateKey)
    payload = json.dumps(statement).encode()
    sig = base64.b64encode(private.sign(pae(PAYLOAD_TYPE, payload))).decode()
    envelope = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": keyid(private.public_key()), "sig": sig}],
    }
    attestation_path(bundle).write_text(json.dumps(envelope) + "\n")


def test_pae_is_dsse_v1s_encoding() -> None:
    # the example of the DSSE protocol document
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert pae("t", b"") == b"DSSEv1 1 t 0 "
    assert pae("\u00e9", b"x y") == "DSSEv1 2 \u00e9 3 x y".encode()  # lengths in bytes


def test_keyid_is_the_sha256_of_the_public_keys_der(keys: tuple[Path, Path]) -> None:
    public = serialization.load_pem_public_key(keys[1].read_bytes())
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert keyid(public) == hashlib.sha256(der).hexdigest()  # type: ignore[arg-type]
    assert keys[0].stat().st_mode & 0o777 == 0o600


def test_a_signed_bundle_verifies_and_its_predicate_is_the_runs_summary(
    signed: Path, run_dir: Path, keys: tuple[Path, Path]
) -> None:
    result = verify(signed, keys[1], keep=("report.json", "plan.json", "results.sqlite"))
    assert result.problems == ()
    assert result.sha256 == hashlib.sha256(signed.read_bytes()).hexdigest()
    report = json.loads((run_dir / "report.json").read_text())
    assert result.predicate["run"]["id"] == report["run"]["id"]  # type: ignore[index]
    assert result.predicate["gate"] == {"verdict": report["gate"]["verdict"]}
    assert result.predicate["git_revision"] == report["run"]["provenance"]["git_revision"]
    assert result.predicate["cells"] == [
        {"id": c["id"], "tier": c["tier"], "verdict": c["verdict"]} for c in report["cells"]
    ]
    for name in ("report.json", "plan.json", "results.sqlite"):
        assert result.members[name] == (run_dir / name).read_bytes()
    statement = _statement(_envelope(signed))
    assert statement["_type"] == STATEMENT_TYPE
    assert statement["predicateType"] == PREDICATE_TYPE
    assert statement["subject"] == [{"name": signed.name, "digest": {"sha256": result.sha256}}]
    # the run folder keeps a copy for a shard merge; no private key material anywhere
    assert (run_dir / RUN_ATTESTATION).read_bytes() == attestation_path(signed).read_bytes()
    secret = keys[0].read_bytes()
    for path in (signed, attestation_path(signed), run_dir / RUN_ATTESTATION):
        assert b"PRIVATE" not in path.read_bytes() and secret not in path.read_bytes()


def test_the_same_folder_gives_the_same_bundle_bytes(run_dir: Path, tmp_path: Path) -> None:
    a, _ = create_bundle(run_dir, tmp_path / "a.tar.gz")
    b, _ = create_bundle(run_dir, tmp_path / "b.tar.gz")
    assert a.read_bytes() == b.read_bytes()
    assert check_bundle(a).problems == ()


def test_a_wrong_key_does_not_verify(signed: Path, tmp_path: Path) -> None:
    folder = tmp_path / "other"
    folder.mkdir()
    _, other = keygen(folder)
    [problem] = verify(signed, other).problems
    assert problem.startswith(f"attestation: no signature verifies with {other} (keyid ")


def test_an_edited_predicate_or_subject_breaks_the_signature(
    signed: Path, keys: tuple[Path, Path]
) -> None:
    envelope = _envelope(signed)
    for edit in ("predicate", "subject"):
        statement = _statement(envelope)
        if edit == "predicate":
            statement["predicate"]["gate"]["verdict"] = "fail"  # type: ignore[index]
        else:
            statement["subject"][0]["digest"]["sha256"] = "0" * 64  # type: ignore[index]
        edited = dict(envelope, payload=base64.b64encode(json.dumps(statement).encode()).decode())
        attestation_path(signed).write_text(json.dumps(edited) + "\n")
        [problem] = verify(signed, keys[1]).problems
        assert "no signature verifies" in problem and "the attestation was edited" in problem


def test_a_validly_signed_but_wrong_subject_or_summary_fails(
    signed: Path, keys: tuple[Path, Path]
) -> None:
    statement = _statement(_envelope(signed))
    statement["subject"][0]["digest"]["sha256"] = "0" * 64  # type: ignore[index]
    _resign(signed, statement, keys[0])
    [problem] = verify(signed, keys[1]).problems
    assert problem.startswith("attestation: the signed subject sha256 is not the bundle's")

    statement = _statement(_envelope(signed))
    statement["subject"][0]["digest"]["sha256"] = hashlib.sha256(signed.read_bytes()).hexdigest()  # type: ignore[index]
    statement["predicate"]["gate"]["verdict"] = "fail"  # type: ignore[index]
    _resign(signed, statement, keys[0])
    assert verify(signed, keys[1]).problems == (
        "attestation: the signed gate differs from the bundle's (gate was edited)",
    )
    statement["predicateType"] = "https://example.com/other"
    _resign(signed, statement, keys[0])
    [problem] = verify(signed, keys[1]).problems
    assert problem.startswith("attestation: the signed predicateType is 'https://example.com/")


def test_every_byte_of_the_archive_is_covered_by_the_signature(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    data = signed.read_bytes()
    flipped = tmp_path / "flipped.tar.gz"
    # the gzip header, a spread of the middle, and the tail (tar padding, CRC32, length)
    positions = [*range(12), *range(0, len(data), max(1, len(data) // 60)), *range(-40, 0)]
    for pos in positions:
        edited = bytearray(data)
        edited[pos] ^= 0x01
        flipped.write_bytes(edited)
        try:
            problems = verify(flipped, keys[1], attestation=attestation_path(signed)).problems
        except UnusableReport:
            continue  # not even readable as a bundle any more: refused, exit 2
        assert problems, f"a flipped byte at {pos} verified"


def test_without_a_signature_flips_in_the_tail_are_still_found(
    signed: Path, tmp_path: Path
) -> None:
    # what tarfile never read: the tar's zero padding, the deflate tail, CRC32 and length
    data = signed.read_bytes()
    flipped = tmp_path / "flipped.tar.gz"
    for pos in range(-8, 0):
        edited = bytearray(data)
        edited[pos] ^= 0x01
        flipped.write_bytes(edited)
        problem = verify_bundle(flipped)[0]
        assert problem.startswith(f"{flipped}: damaged archive: the compressed stream is damaged")
        assert "incorrect data check" in problem or "incorrect length check" in problem
    flipped.write_bytes(data + b"\x00")
    assert verify_bundle(flipped) == ["1 byte(s) after the end of the compressed stream"]
    assert verify_bundle(signed, sha256="0" * 64)[0].startswith(f"{signed.name}: sha256 ")


def test_what_cannot_be_read_is_unusable_with_a_reason(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    bare = tmp_path / "bare.tar.gz"
    shutil.copy(signed, bare)
    with pytest.raises(UnusableReport, match=r"bare\.tar\.gz\.intoto\.jsonl: no such attestation"):
        verify(bare, keys[1])
    attestation_path(bare).write_text("{not json\n")
    with pytest.raises(UnusableReport, match="not a DSSE envelope per line"):
        verify(bare, keys[1])
    attestation_path(bare).write_text('{"payloadType": "x", "payload": 1, "signatures": []}\n')
    with pytest.raises(UnusableReport, match="payload: not a string"):
        verify(bare, keys[1])
    rsa_pub = tmp_path / "rsa.pub"
    rsa_pub.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(UsageError, match="not an ed25519 key"):
        verify(signed, rsa_pub)
    with pytest.raises(UsageError, match="not a PEM public key"):
        verify(signed, keys[0])
    with pytest.raises(UnusableReport, match="not a regular file"):
        verify(signed, keys[1], attestation=tmp_path)


def test_signing_refuses_a_bad_key_or_a_damaged_bundle(
    run_dir: Path, keys: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle, _ = create_bundle(run_dir, tmp_path / "run.tar.gz")
    with pytest.raises(UsageError, match="not an unencrypted PEM private key"):
        sign_bundle(bundle, str(keys[1]))
    monkeypatch.setenv("CERTIFY_TEST_KEY", keys[0].read_text())
    sign_bundle(bundle, "env:CERTIFY_TEST_KEY")
    assert verify(bundle, keys[1]).problems == ()
    bundle.write_bytes(bundle.read_bytes()[:-9])
    with pytest.raises(UsageError, match="not intact, refusing to sign it"):
        sign_bundle(bundle, str(keys[0]))
    with pytest.raises(UsageError, match="exists; certify never overwrites a key"):
        keygen(keys[0].parent)


def test_merge_keeps_each_shards_attestation_and_refuses_duplicates(
    signed: Path, run_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "merged"
    evidence = merge_shards([run_dir], out)
    run_id = str(evidence.run["shards"][0])  # type: ignore[index]
    kept = f"attestations/{run_id}.intoto.jsonl"
    body = (out / kept).read_bytes()
    assert body == attestation_path(signed).read_bytes()
    assert evidence.run["attestations"] == [
        {"shard": run_id, "file": kept, "sha256": hashlib.sha256(body).hexdigest()}
    ]
    with pytest.raises(UsageError, match="given twice"):
        merge_shards([run_dir, run_dir / "report.json"])
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    with pytest.raises(UsageError, match=f"run {run_id} is also in .*: the same shard given twice"):
        merge_shards([run_dir, copy])
