"""Evidence bundles: a run folder as a tarball with a manifest of sha256 sums and provenance.

`MANIFEST.json` (certify.bundle/1) is the first member; it lists every other member with its
size and sha256, and carries the run's provenance and gate. Bundles are reproducible: members
are written in path order with fixed owner, mode and mtime, and the gzip header carries no name
and no time, so the same run folder always gives the same bytes (and the same digest).

Verification never extracts: the archive is read once, strictly (certify.report.archive), every
member is hashed as it is read, and anything not a plain file with a safe relative name is
itself a finding. The sha256 of the whole file is computed in the same pass; a signed
attestation (certify.report.attest) or `--sha256` pins it, and only that covers every byte.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from certify.errors import UnusableReport, UsageError
from certify.report.archive import Damaged, Entry, Inflated, Limits, data, members
from certify.report.jsondoc import integer, obj, objs, text
from certify.report.readback import read_report
from certify.results.findings import JsonObject

BUNDLE_SCHEMA = "certify.bundle/1"
MANIFEST = "MANIFEST.json"
ATTESTATION_SUFFIX = ".intoto.jsonl"
# the copy of the attestation of the folder's own bundle: it describes the bundle, so is no part
RUN_ATTESTATION = "attestation.intoto.jsonl"
# Scratch space of the cells (Spark warehouses, Derby metastores): not evidence, often large.
_SKIP_DIRS = ("work",)
_CHUNK = 1 << 20
_MAX_MANIFEST = 64 << 20
_MAX_KEPT = 256 << 20
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class _Member:
    """One file of the bundle as the manifest lists it."""

    path: str
    size: int
    sha256: str

    def to_json(self) -> JsonObject:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}

    @classmethod
    def from_json(cls, data: JsonObject) -> _Member:
        member = cls(
            text(data["path"], "path"),
            integer(data["size"], "size"),
            text(data["sha256"], "sha256"),
        )
        if member.size < 0 or len(member.sha256) != 64 or not set(member.sha256) <= _HEX:
            raise TypeError(f"{member.path}: size or sha256 is not a size and a sha256")
        return member


@dataclass(frozen=True)
class BundleCheck:
    """What reading a bundle strictly found; `problems` is empty when it is intact."""

    path: Path
    sha256: str  # of the whole archive file, as read
    manifest_sha256: str
    manifest: JsonObject
    problems: tuple[str, ...]
    members: dict[str, bytes] = field(default_factory=dict)  # the kept members, as hashed

    @property
    def intact(self) -> bool:
        """True when nothing was found wrong."""
        return not self.problems


def attestation_path(bundle: Path) -> Path:
    """Where the attestation of `bundle` lives: beside it, named BUNDLE.intoto.jsonl."""
    return bundle.with_name(bundle.name + ATTESTATION_SUFFIX)


def unsafe_name(name: str) -> str:
    """Why `name` must not be a member's name (absolute, `..`, ...); "" when it is safe."""
    if not name or "\x00" in name or "\\" in name:
        return "an empty name or one with a NUL or a backslash"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    parts = PurePosixPath(name).parts
    if ".." in parts or name != "/".join(parts) or "." in name.split("/"):
        return "a path with `..`, `.` or an empty part (path traversal)"
    return ""


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _evidence_files(run_dir: Path, skip: Iterable[Path]) -> Iterator[Path]:
    skipped = {p.resolve() for p in skip}
    for path in sorted(run_dir.rglob("*")):
        rel = path.relative_to(run_dir)
        if rel.parts[0] in _SKIP_DIRS or path.name.startswith(".") or not path.is_file():
            continue
        if path.is_symlink() or path.resolve() in skipped or rel.as_posix() == RUN_ATTESTATION:
            continue
        yield path


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)  # fixed owner, mode and time: the same folder, the same bytes
    info.size, info.mtime, info.mode = size, 0, 0o644
    return info


def _write(tmp: Path, run_dir: Path, body: bytes, files: list[_Member]) -> None:
    with (
        tmp.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        tar.addfile(_info(MANIFEST, len(body)), io.BytesIO(body))
        for entry in files:
            with (run_dir / entry.path).open("rb") as stream:
                tar.addfile(_info(entry.path, entry.size), stream)


def create_bundle(run_dir: Path, dest: Path | None = None) -> tuple[Path, str]:
    """Write `dest` (default: RUN_DIR.tar.gz beside it); returns it and the manifest's sha256."""
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: not a run folder")
    doc = read_report(run_dir)  # only a run with a valid report is evidence worth bundling
    dest = dest or run_dir.with_name(run_dir.name + ".tar.gz")
    files = []
    for path in _evidence_files(run_dir, (dest, attestation_path(dest))):
        with path.open("rb") as stream:
            files.append(
                _Member(path.relative_to(run_dir).as_posix(), path.stat().st_size, _sha256(stream))
            )
    gate = obj(doc["gate"], "gate")
    manifest: JsonObject = {
        "schema": BUNDLE_SCHEMA,
        "run": doc["run"],
        "gate": {"verdict": gate["verdict"], "reasons": gate["reasons"]},
        "files": [f.to_json() for f in files],
    }
    body = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
    tmp = dest.with_name(f".{dest.name}.tmp")
    try:
        _write(tmp, run_dir, body, files)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"{dest}: cannot write it ({exc}); did {run_dir} change?") from None
    tmp.replace(dest)
    return dest, hashlib.sha256(body).hexdigest()


def open_regular(path: Path, what: str) -> IO[bytes]:
    """`path` opened for reading if it is a regular file (a FIFO would block: refused first)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UnusableReport(f"{path}: no such {what}") from None
    except OSError as exc:
        raise UnusableReport(f"{path}: cannot read the {what}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnusableReport(f"{path}: not a regular file (a folder, FIFO or device), no {what}")
    return os.fdopen(fd, "rb")


def _parse_manifest(body: bytes, bundle: Path) -> tuple[JsonObject, dict[str, _Member]]:
    try:
        manifest = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise UnusableReport(
            f"{bundle}: {MANIFEST} is not JSON ({exc!s:.200}): not a certify bundle"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("schema") != BUNDLE_SCHEMA:
        raise UnusableReport(f"{bundle}: {MANIFEST} is not a {BUNDLE_SCHEMA} manifest")
    try:
        listed = [_Member.from_json(m) for m in objs(manifest.get("files", []), "files")]
    except (KeyError, TypeError) as exc:
        raise UnusableReport(f"{bundle}: {MANIFEST} lists a malformed file: {exc}") from None
    by_path = {m.path: m for m in listed}
    bad = [m.path for m in listed if unsafe_name(m.path) or m.path == MANIFEST]
    if bad or len(by_path) != len(listed):
        raise UnusableReport(
            f"{bundle}: {MANIFEST} lists an unsafe or repeated path ({(bad or ['a repeat'])[0]!r})"
        )
    return manifest, by_path


def _read_manifest(stream: Inflated, bundle: Path) -> tuple[bytes, JsonObject, dict[str, _Member]]:
    """The first member, which must be the manifest; UnusableReport if it is not there."""
    try:
        first = next(members(stream, Limits()), None)
        if first is None:
            raise UnusableReport(f"{bundle}: an empty archive, not a certify bundle")
        if first.name != MANIFEST or not first.is_file or first.size > _MAX_MANIFEST:
            raise UnusableReport(
                f"{bundle}: its first member is {first.name!r} ({first.kind}, {first.size} "
                f"bytes), not {MANIFEST}: not a certify bundle"
            )
        body = b"".join(data(stream, first))
    except Damaged as exc:
        raise UnusableReport(f"{bundle}: not a readable gzip-compressed tar ({exc})") from None
    return (body, *_parse_manifest(body, bundle))


class _Walk:
    """The members after the manifest, checked against it one by one."""

    def __init__(self, listed: dict[str, _Member], keep: frozenset[str]) -> None:
        self.listed, self.keep = listed, keep
        self.problems: list[str] = []
        self.seen: set[str] = set()
        self.kept: dict[str, bytes] = {}

    def member(self, stream: Inflated, entry: Entry) -> None:
        name, chunks = entry.name, data(stream, entry)
        digest, body = hashlib.sha256(), bytearray()
        keep = name in self.keep and entry.size <= _MAX_KEPT and name not in self.seen
        for chunk in chunks:  # read to the end whatever is wrong: the next header follows
            digest.update(chunk)
            if keep:
                body += chunk
        why = unsafe_name(name)
        if why:
            self.problems.append(f"{name!r}: {why} in the bundle")
        elif not entry.is_file:
            to = f" to {entry.target!r}" if entry.target else ""
            self.problems.append(f"{name}: a {entry.kind}{to}, not a plain file, in the bundle")
        elif name in self.seen or name == MANIFEST:
            self.problems.append(f"{name}: appears twice in the bundle")
        elif name not in self.listed:
            self.problems.append(f"{name}: not in the manifest (added after bundling)")
        else:
            listed = self.listed[name]
            if digest.hexdigest() != listed.sha256 or entry.size != listed.size:
                self.problems.append(f"{name}: sha256 or size differs from the manifest (modified)")
            elif keep:
                self.kept[name] = bytes(body)
        self.seen.add(name)

    def finish(self, stream: Inflated) -> None:
        if not stream.rest_is_zeros():
            self.problems.append("bytes after the tar's end-of-archive marker (appended data)")
        if extra := stream.trailing():
            self.problems.append(f"{extra} byte(s) after the end of the compressed stream")


def check_bundle(bundle: Path, keep: Iterable[str] = ()) -> BundleCheck:
    """Read `bundle` strictly in one pass; UnusableReport when it is no certify bundle at all."""
    with open_regular(bundle, "bundle") as raw:
        stream = Inflated(raw, Limits())
        body, manifest, listed = _read_manifest(stream, bundle)
        walk = _Walk(listed, frozenset({*keep, "report.json"}))
        damaged = False
        try:
            for entry in members(stream, Limits()):
                walk.member(stream, entry)
            walk.finish(stream)
        except Damaged as exc:
            walk.problems.append(f"{bundle}: damaged archive: {exc}")
            damaged = True
        digest = stream.sha256()
    problems = walk.problems
    unseen = [name for name in listed if name not in walk.seen]
    if damaged and unseen:
        problems.append(f"not read, the archive being damaged before them: {', '.join(unseen)}")
    else:
        problems += [f"{name}: in the manifest but missing from the bundle" for name in unseen]
    problems += _report_problems(listed, walk.kept, manifest)
    manifest_sha256 = hashlib.sha256(body).hexdigest()
    return BundleCheck(bundle, digest, manifest_sha256, manifest, tuple(problems), walk.kept)


def _report_problems(
    listed: dict[str, _Member], kept: dict[str, bytes], manifest: JsonObject
) -> list[str]:
    if "report.json" not in listed:
        return ["report.json: the bundle holds no report"]
    if "report.json" not in kept:
        return []  # missing or modified: already a problem
    try:
        run = json.loads(kept["report.json"]).get("run")
    except (ValueError, RecursionError, AttributeError):
        run = None
    if run != manifest.get("run"):
        return ["report.json: its run and provenance differ from the manifest's"]
    return []


def verify_bundle(
    bundle: Path, manifest_sha256: str | None = None, sha256: str | None = None
) -> list[str]:
    """Every problem found in `bundle` (empty when it is intact); UnusableReport if unreadable.

    `sha256` pins the whole archive (what a signature pins); `manifest_sha256` its manifest.
    """
    check = check_bundle(bundle)
    problems = list(check.problems)
    if manifest_sha256 and check.manifest_sha256 != manifest_sha256.lower():
        problems.insert(
            0, f"{MANIFEST}: sha256 {check.manifest_sha256} is not the expected {manifest_sha256}"
        )
    if sha256 and check.sha256 != sha256.lower():
        problems.insert(0, f"{bundle.name}: sha256 {check.sha256} is not the expected {sha256}")
    return problems
