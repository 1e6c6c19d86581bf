"""Signed evidence bundles nobody can fool: one real smoke run, bundled and signed, then edits.

Every edit of the bundle, of its attestation or of the key it is checked with must make both
`certify report verify BUNDLE --key PUB` and `certify gate BUNDLE --key PUB` exit 1 (tampered)
or 2 (unusable) with a reason naming what was wrong, never a traceback; the untouched bundle
verifies and passes. Each edit works on its own copy.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.acceptance.conftest import REPO, Certify

# (the bundle copy, its attestation, a scratch folder, the signed original) -> the key to use
Apply = Callable[[Path, Path, Path, "Signed"], Path]


@dataclass(frozen=True)
class Signed:
    """The real run, its signed bundle and the key pair it was signed with."""

    run: Path
    bundle: Path
    private: Path
    public: Path


@dataclass(frozen=True)
class Edit:
    """One way to tamper with a signed bundle, and what verify and gate must say about it."""

    apply: Apply
    says: tuple[str, ...]  # one of these must be in the output of both commands
    codes: tuple[int, ...] = (1,)


EDITS: dict[str, Edit] = {}


def edit(*says: str, codes: tuple[int, ...] = (1,)) -> Callable[[Apply], Apply]:
    """Register an edit under its function's name."""

    def register(apply: Apply) -> Apply:
        EDITS[apply.__name__.replace("_", "-")] = Edit(apply, says, codes)
        return apply

    return register


@pytest.fixture(scope="module")
def signed(certify: Certify, tmp_path_factory: pytest.TempPathFactory) -> Signed:
    """One real `certify run --profile smoke`, bundled and signed with a fresh key pair."""
    base = tmp_path_factory.mktemp("trust")
    run = base / "run"
    result = certify(
        "run", "--profile", "smoke", "--out", str(run), "--history", str(base / "history"),
        timeout=900,
    )  # fmt: skip
    assert result.rc == 0, result.output
    (base / "keys").mkdir()
    result = certify("report", "keygen", "--out", str(base / "keys"))
    assert result.rc == 0, result.output
    private, public = base / "keys" / "certify-signing.key", base / "keys" / "certify-signing.pub"
    bundle = base / "run.tar.gz"
    result = certify("report", "bundle", str(run), "--out", str(bundle), "--sign", str(private))
    assert result.rc == 0, result.output
    assert f"attestation: {bundle}.intoto.jsonl (ed25519 keyid " in result.stdout
    return Signed(run, bundle, private, public)


def _members(bundle: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(bundle) as tar:
        return [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar]  # type: ignore[union-attr]


def _write(bundle: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    with tarfile.open(bundle, "w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)


def _add(bundle: Path, name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    _write(bundle, [*_members(bundle), (info, b"planted\n")])


def _flip(bundle: Path, pos: int) -> None:
    data = bytearray(bundle.read_bytes())
    data[pos] ^= 0x01
    bundle.write_bytes(data)


def _statement(attestation: Path) -> tuple[dict[str, object], dict[str, object]]:
    envelope = json.loads(attestation.read_text())
    return envelope, json.loads(base64.b64decode(envelope["payload"]))


NOT_SIGNED = "attestation: the signed subject sha256 is not the bundle's"
EDITED = "the attestation was edited"


@edit(NOT_SIGNED)
def flip_a_byte_of_the_gzip_header(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    _flip(bundle, 5)  # its mtime: no decompressed byte changes, only the digest sees it
    return s.public


@edit(NOT_SIGNED, "damaged archive", "not a readable gzip-compressed tar", codes=(1, 2))
def flip_a_byte_inside_the_compressed_stream(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    _flip(bundle, bundle.stat().st_size * 2 // 3)
    return s.public


@edit(NOT_SIGNED, "6 byte(s) after the end of the compressed stream")
def append_bytes(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    bundle.write_bytes(bundle.read_bytes() + b"\x00" * 6)
    return s.public


@edit("the file ends inside the compressed stream (truncated)", codes=(1, 2))
def truncate_the_bundle(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    bundle.write_bytes(bundle.read_bytes()[: bundle.stat().st_size * 3 // 4])
    return s.public


@edit("extra.txt: not in the manifest (added after bundling)")
def add_a_member(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    _add(bundle, "extra.txt")
    return s.public


@edit("plan.json: in the manifest but missing from the bundle")
def remove_a_member(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    _write(bundle, [(m, d) for m, d in _members(bundle) if m.name != "plan.json"])
    return s.public


@edit(NOT_SIGNED)
def change_a_member_and_update_the_manifest(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    members = _members(bundle)
    new = b'{"schema": "certify.run/1"}\n'
    manifest = json.loads(members[0][1])
    for entry in manifest["files"]:
        if entry["path"] == "run.json":
            entry["size"], entry["sha256"] = len(new), hashlib.sha256(new).hexdigest()
    members[0] = (members[0][0], json.dumps(manifest).encode())
    _write(bundle, [(m, new if m.name == "run.json" else d) for m, d in members])
    return s.public


@edit("'../evil.txt': a path with `..`")
def add_a_path_traversal_member(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    _add(bundle, "../evil.txt")
    return s.public


@edit("'/tmp/evil.txt': an absolute path in the bundle")
def add_an_absolute_member(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    _add(bundle, "/tmp/evil.txt")
    return s.public


@edit("notes.txt: a symlink to '/etc/passwd', not a plain file")
def add_a_symlink_member(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    _add(bundle, "notes.txt", tarfile.SYMTYPE, "/etc/passwd")
    return s.public


@edit("copy.json: a hardlink to 'report.json', not a plain file")
def add_a_hardlink_member(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    _add(bundle, "copy.json", tarfile.LNKTYPE, "report.json")
    return s.public


@edit("zero: a character device, not a plain file")
def add_a_device_member(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    _add(bundle, "zero", tarfile.CHRTYPE)
    return s.public


@edit("not MANIFEST.json: not a certify bundle", codes=(2,))
def remove_the_manifest(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    _write(bundle, [(m, d) for m, d in _members(bundle) if m.name != "MANIFEST.json"])
    return s.public


@edit("MANIFEST.json is not JSON", codes=(2,))
def break_the_manifest(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    members = _members(bundle)
    members[0] = (members[0][0], b'{"schema": "certify.bundle/1", "files": [')
    _write(bundle, members)
    return s.public


@edit("not a readable gzip-compressed tar", codes=(2,))
def store_an_uncompressed_tar(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    with tarfile.open(bundle) as tar:  # the same members, no gzip
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w") as out:
            for member in tar:
                out.addfile(member, tar.extractfile(member))
    bundle.write_bytes(data.getvalue())
    return s.public


@edit(EDITED)
def edit_the_attestation_subject(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    envelope, statement = _statement(att)
    statement["subject"][0]["digest"]["sha256"] = hashlib.sha256(b"other").hexdigest()  # type: ignore[index]
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    att.write_text(json.dumps(envelope) + "\n")
    return s.public


@edit(EDITED)
def edit_the_signed_gate_verdict(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    envelope, statement = _statement(att)
    statement["predicate"]["gate"]["verdict"] = "pass"  # type: ignore[index]
    statement["predicate"]["cells"] = []  # type: ignore[index]
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    att.write_text(json.dumps(envelope) + "\n")
    return s.public


@edit(EDITED)
def swap_in_the_signature_of_another_bundle(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    from certify.report.attest import sign_bundle

    other = shutil.copy(bundle, tmp / "other.tar.gz")  # the same bytes under another name
    sign_bundle(Path(other), str(s.private))
    envelope, _ = _statement(att)
    theirs, _ = _statement(tmp / "other.tar.gz.intoto.jsonl")
    envelope["signatures"] = theirs["signatures"]
    att.write_text(json.dumps(envelope) + "\n")
    return s.public


@edit("attestation: no signature verifies with")
def verify_with_another_key(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    from certify.report.attest import keygen

    (tmp / "other").mkdir()
    return keygen(tmp / "other")[1]


@edit("no such attestation", codes=(2,))
def drop_the_attestation(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    att.unlink()
    return s.public


@edit("not a DSSE envelope per line", codes=(2,))
def garble_the_attestation(bundle: Path, att: Path, tmp: Path, s: Signed) -> Path:
    att.write_text(att.read_text()[:40] + "\n")
    return s.public


def _run(certify: Certify, *args: str) -> tuple[int, str]:
    result = certify(*args, cwd=REPO)
    assert "Traceback" not in result.output, result.output
    return result.rc, result.output


def test_the_untouched_signed_bundle_verifies_and_passes_the_gate(
    certify: Certify, signed: Signed
) -> None:
    rc, out = _run(certify, "report", "verify", str(signed.bundle), "--key", str(signed.public))
    digest = hashlib.sha256(signed.bundle.read_bytes()).hexdigest()
    assert (rc, out) == (
        0,
        f"bundle {signed.bundle}: intact\nsignature verified; sha256 {digest}\n",
    )
    rc, out = _run(certify, "gate", str(signed.bundle), "--key", str(signed.public))
    assert (rc, out.splitlines()[0]) == (0, "gate: PASS"), out
    # the private key is nowhere in what was written
    secret = signed.private.read_bytes()
    for path in (signed.bundle, Path(f"{signed.bundle}.intoto.jsonl"), *signed.run.rglob("*")):
        assert not path.is_file() or secret not in path.read_bytes(), path


@pytest.mark.parametrize("name", sorted(EDITS))
def test_every_edit_of_a_signed_bundle_fails_verify_and_gate(
    certify: Certify, signed: Signed, tmp_path: Path, name: str
) -> None:
    change = EDITS[name]
    bundle = tmp_path / signed.bundle.name
    shutil.copy(signed.bundle, bundle)
    attestation = Path(f"{bundle}.intoto.jsonl")
    shutil.copy(f"{signed.bundle}.intoto.jsonl", attestation)
    key = change.apply(bundle, attestation, tmp_path, signed)
    for command in (("report", "verify"), ("gate",)):
        rc, out = _run(certify, *command, str(bundle), "--key", str(key))
        assert rc in change.codes, f"{' '.join(command)}: {name} gave {rc}:\n{out}"
        assert any(s in out for s in change.says), f"{' '.join(command)}: {name}:\n{out}"
