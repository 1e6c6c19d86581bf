"""Hypothesis fuzzing of bundle inputs: random bytes, random tar members, random edits.

Laws: reading a bundle either finds it unusable (UnusableReport, exit 2) or lists problems;
it never raises anything else and never hangs (bounded sizes, a deadline). A bundle holding an
unsafe name or anything but plain files is never intact. An edited signed bundle never verifies.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.errors import UnusableReport
from certify.report.archive import Damaged, Inflated, Limits
from certify.report.attest import keygen, sign_bundle, verify
from certify.report.bundle import (
    BUNDLE_SCHEMA,
    MANIFEST,
    attestation_path,
    check_bundle,
    create_bundle,
    unsafe_name,
)

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden" / "passing"
FUZZ = settings(
    max_examples=120,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_UNSAFE = ["../x", "/etc/passwd", "a/../../x", "./a", "a//b", "C:x", "a\\..\\b", ""]
_NAMES = st.one_of(
    st.sampled_from(
        ["report.json", "plan.json", "a/b.txt", MANIFEST, "x" * 150, "\u00e9vidence.txt", *_UNSAFE]
    ),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=30),
)
REG = tarfile.REGTYPE
_KINDS = [
    tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE, tarfile.FIFOTYPE,
    tarfile.CHRTYPE, tarfile.BLKTYPE, b"Z",
]  # fmt: skip


def _read(path: Path) -> tuple[str, ...] | None:
    """check_bundle's problems, or None when it found the file unusable (exit 2)."""
    try:
        return check_bundle(path).problems
    except UnusableReport as exc:
        assert str(exc)
        return None


@FUZZ
@given(st.binary(max_size=4096), st.sampled_from([b"", b"\x1f\x8b", b"\x1f\x8b\x08\x00"]))
def test_random_bytes_are_unusable_never_a_crash(tmp_path: Path, data: bytes, head: bytes) -> None:
    path = tmp_path / "b.tar.gz"
    path.write_bytes(head + data)
    assert _read(path) is None


@FUZZ
@given(st.binary(max_size=4096))
def test_gzipped_random_bytes_are_unusable_never_a_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "b.tar.gz"
    path.write_bytes(gzip.compress(data))
    assert _read(path) is None


def _manifest(listed: list[tuple[str, bytes]], valid: bool) -> bytes:
    files = [
        {"path": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in listed
    ]
    doc = {"schema": BUNDLE_SCHEMA, "run": {}, "gate": {}, "files": files}
    return json.dumps(doc).encode() if valid else b'{"schema": "' + BUNDLE_SCHEMA.encode() + b'"'


_MEMBERS = st.lists(
    st.tuples(_NAMES, st.sampled_from(_KINDS), st.binary(max_size=600)), min_size=0, max_size=6
)


@FUZZ
@given(_MEMBERS, st.booleans(), st.booleans())
def test_random_tar_members_never_crash_and_unsafe_ones_are_never_intact(
    tmp_path: Path, members: list[tuple[str, bytes, bytes]], manifest: bool, valid: bool
) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if manifest:
            body = _manifest([(n, d) for n, k, d in members if k == tarfile.REGTYPE], valid)
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "../../etc/passwd" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    path = tmp_path / "b.tar.gz"
    path.write_bytes(gzip.compress(buf.getvalue()))
    problems = _read(path)
    if not (manifest and valid):
        assert problems is None
    elif problems is not None and any(k != REG or unsafe_name(n) for n, k, _ in members):
        assert problems, "a bundle with a link, device, folder or unsafe name was found intact"


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A real run's bundle, signed; and the public key."""
    base = tmp_path_factory.mktemp("fuzz")
    run = base / "run"
    shutil.copytree(GOLDEN, run, ignore=shutil.ignore_patterns("history"))
    (base / "keys").mkdir()
    private, public = keygen(base / "keys")
    bundle, _ = create_bundle(run, base / "run.tar.gz")
    sign_bundle(bundle, str(private))
    return bundle, public


_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["flip", "cut", "insert", "delete"]),
        st.floats(0, 1, exclude_max=True),
        st.integers(1, 255),
    ),
    min_size=1,
    max_size=3,
)


@FUZZ
@given(_EDITS)
def test_an_edited_signed_bundle_never_verifies(
    signed: tuple[Path, Path], tmp_path: Path, edits: list[tuple[str, float, int]]
) -> None:
    bundle, public = signed
    data = bytearray(bundle.read_bytes())
    for op, where, value in edits:
        pos = int(where * len(data)) if data else 0
        if op == "flip" and data:
            data[pos] ^= value
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = bytes([value])
        elif data:
            del data[pos]
    if bytes(data) == bundle.read_bytes():
        return
    path = tmp_path / "edited.tar.gz"
    path.write_bytes(data)
    try:
        result = verify(path, public, attestation=attestation_path(bundle))
    except UnusableReport:
        return
    assert result.problems, f"an edited bundle verified: {edits}"


def test_a_decompression_bomb_stops_at_the_limit() -> None:
    bomb = gzip.compress(bytes(8 << 20))
    stream = Inflated(io.BytesIO(bomb), Limits(uncompressed=1 << 20))
    with pytest.raises(Damaged, match="expands beyond 1048576 bytes"):
        stream.rest_is_zeros()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_ENVELOPE = st.fixed_dictionaries(
    {},
    optional={
        "payloadType": st.one_of(st.just("application/vnd.in-toto+json"), _JSON),
        "payload": st.one_of(
            st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode()), _JSON
        ),
        "signatures": st.one_of(
            st.lists(
                st.fixed_dictionaries({}, optional={"keyid": _JSON, "sig": _JSON}), max_size=3
            ),
            _JSON,
        ),
    },
)


@FUZZ
@given(st.lists(st.one_of(_ENVELOPE, _JSON), max_size=3), st.binary(max_size=40))
def test_a_random_attestation_never_verifies_nor_crashes(
    signed: tuple[Path, Path], tmp_path: Path, lines: list[object], junk: bytes
) -> None:
    bundle, public = signed
    attestation = tmp_path / "random.intoto.jsonl"
    attestation.write_bytes(b"\n".join(json.dumps(line).encode() for line in lines) + junk)
    try:
        result = verify(bundle, public, attestation=attestation)
    except UnusableReport as exc:
        assert str(exc)
        return
    assert result.problems
